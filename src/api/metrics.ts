// Prometheus metrics: HTTP requests by route and status, their latency, and jobs by status
// (all tenants' together: with a token, only whoever holds it may read them).
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { RenderService } from '../jobs/index.ts';
import { ApiError } from './errors.ts';

export function installMetrics(app: FastifyInstance, service: RenderService, token?: string): void {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const requests = new Counter({
    name: 'reelsmith_http_requests_total',
    help: 'HTTP requests',
    labelNames: ['method', 'route', 'status'],
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'reelsmith_http_request_seconds',
    help: 'HTTP request latency',
    labelNames: ['method', 'route'],
    registers: [registry],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  });
  new Gauge({
    name: 'reelsmith_jobs',
    help: 'Jobs by status',
    labelNames: ['status'],
    registers: [registry],
    async collect() {
      const counts = await service.jobCounts();
      this.reset();
      for (const { status, count } of counts) this.set({ status }, count);
    },
  });
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    requests.inc({ method: request.method, route, status: reply.statusCode });
    latency.observe({ method: request.method, route }, reply.elapsedTime / 1000);
  });
  app.get('/metrics', { schema: { hide: true } }, async (request, reply) => {
    if (token !== undefined && !isBearer(request.headers.authorization, token)) {
      void reply.header('www-authenticate', 'Bearer');
      throw new ApiError('UNAUTHORIZED', 'GET /metrics needs the header Authorization: Bearer <metrics token>');
    }
    return reply.header('content-type', registry.contentType).send(await registry.metrics());
  });
}

/** Whether an Authorization header carries `token`, compared in constant time. */
function isBearer(header: string | undefined, token: string): boolean {
  const given = /^Bearer (.+)$/i.exec(header ?? '')?.[1];
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return given !== undefined && timingSafeEqual(digest(given), digest(token));
}
