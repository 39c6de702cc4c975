// GET /readyz: 200 while this server should get traffic, else 503 naming the failing checks
// (jobs/readiness.ts: draining, database, disk, ffmpeg, ffprobe). /healthz stays liveness.
import type { FastifyInstance } from 'fastify';
import type { RenderService } from '../../jobs/index.ts';

export function readinessRoutes(app: FastifyInstance, service: RenderService): void {
  app.get('/readyz', { schema: { hide: true } }, async (_request, reply) => {
    const readiness = await service.readiness();
    return reply
      .status(readiness.ready ? 200 : 503)
      .header('cache-control', 'no-store')
      .send(readiness);
  });
}
