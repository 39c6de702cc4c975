// GET /v1/jobs/{jobId}/progress: Server-Sent Events replayed from the stored event log
// (so Last-Event-ID resumes exactly, even after a restart), then live; heartbeats; the
// stream ends after the final done / failed / cancelled event.
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { isTerminal, type JobEvent, type RenderService } from '../../jobs/index.ts';
import { errorResponses } from '../errors.ts';
import { ownJob } from './jobs.ts';

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
      const job = await ownJob(service, request, (request.params as { jobId: string }).jobId);
      let lastId =
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

      let closed = false;
      let replaying = true;
      const buffered: JobEvent[] = [];
      const finish = () => {
        if (closed) return;
        closed = true;
        open.delete(finish);
        unsubscribe();
        clearInterval(heartbeat);
        res.end();
      };
      const send = async (event: JobEvent) => {
        if (closed || event.id <= lastId) return;
        const payload = await service.payload(event);
        if (closed || event.id <= lastId) return; // the stream may have ended, or moved on, meanwhile
        lastId = event.id;
        res.write(`id: ${event.id}\nevent: ${event.type}\ndata: ${JSON.stringify(payload)}\n\n`);
        if (isTerminal(event.type)) finish();
      };
      // one event at a time, in order
      let sending = Promise.resolve();
      const enqueue = (event: JobEvent) => (sending = sending.then(() => send(event)));
      // subscribe before replaying so nothing falls between the two
      const unsubscribe = service.hub.subscribe(job.id, (event) =>
        replaying ? buffered.push(event) : void enqueue(event),
      );
      const heartbeat = setInterval(() => closed || res.write(': heartbeat\n\n'), heartbeatMs);
      request.raw.on('close', finish);
      res.on('error', finish);
      open.add(finish);

      for (const event of await service.store.events(job.id, lastId)) await send(event);
      replaying = false;
      for (const event of buffered) await enqueue(event);
      const current = await service.store.job(job.id);
      if (current && isTerminal(current.status) && !closed) {
        // the job has ended: its final event is stored, whether or not it has been announced yet
        for (const event of await service.store.events(job.id, lastId)) await enqueue(event);
        finish();
      }
    },
  );
}
