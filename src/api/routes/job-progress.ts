// GET /v1/jobs/{jobId}/progress: Server-Sent Events, as RenderService.events tells them
// (replayed from the stored event log, so Last-Event-ID resumes exactly, even after a
// restart, then live); heartbeats; the stream ends after the final done / failed / cancelled event.
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { RenderService } from '../../jobs/index.ts';
import { errorResponses } from '../errors.ts';

export function jobProgressRoutes(app: FastifyInstance, service: RenderService, heartbeatMs: number): void {
  // open streams end when the server closes (SIGTERM): clients reconnect with Last-Event-ID
  const open = new Set<() => void>();
  app.addHook('preClose', async () => {
    for (const finish of open) finish();
  });
  app.get(
    '/v1/jobs/:jobId/progress',
    {
      schema: {
        operationId: 'getJobEvents',
        summary: 'Server-Sent Events: phase, progress, then done / failed / cancelled',
        description:
          'Events: `phase` (every phase change), `progress` (as frames are encoded), and one final `done`, `failed` or `cancelled`, after which the stream closes. Each has an id; send `Last-Event-ID` to resume.',
        tags: ['jobs'],
        params: Type.Object({ jobId: Type.String() }),
        headers: Type.Object({
          'last-event-id': Type.Optional(
            Type.String({ description: 'the id of the last event seen: resume after it' }),
          ),
        }),
        querystring: Type.Object({
          lastEventId: Type.Optional(
            Type.String({ description: 'Last-Event-ID, for clients that cannot set headers' }),
          ),
        }),
        response: {
          200: {
            description: 'The event stream',
            content: {
              'text/event-stream': {
                schema: Type.String({
                  description:
                    'Events `id: <n>`, `event: <type>`, `data: <JSON: event, jobId, and the job fields>`; comment lines are heartbeats',
                }),
              },
            },
          },
          ...errorResponses(401, 404),
        },
      },
      config: { rateLimit: false },
    },
    async (request, reply) => {
      const job = await service.jobFor(request.account.id, (request.params as { jobId: string }).jobId);
      const lastId =
        Number(request.headers['last-event-id'] ?? (request.query as { lastEventId?: string }).lastEventId ?? 0) || 0;
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      res.write(': connected\n\n');

      // the stream ends at once (a closing server does not wait for it); the events stop following
      const closed = new AbortController();
      const finish = () => {
        closed.abort();
        res.end();
      };
      const heartbeat = setInterval(() => closed.signal.aborted || res.write(': heartbeat\n\n'), heartbeatMs);
      request.raw.on('close', finish);
      res.on('error', finish);
      open.add(finish);
      try {
        for await (const event of service.events(job.jobId, lastId, { signal: closed.signal })) {
          if (closed.signal.aborted) break;
          res.write(`id: ${event.id}\nevent: ${event.type}\ndata: ${JSON.stringify(event.body)}\n\n`);
        }
      } catch (err) {
        // the store went away under the stream (shutdown): the client resumes with Last-Event-ID
        request.log.warn({ err }, 'progress stream ended early');
      } finally {
        open.delete(finish);
        clearInterval(heartbeat);
        finish();
      }
    },
  );
}
