// Reading and cancelling jobs: GET /v1/jobs/{jobId}, GET /v1/jobs, DELETE /v1/jobs/{jobId},
// POST /v1/jobs/{jobId}/cancel, GET /v1/jobs/{jobId}/webhooks.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import { DELIVERY_STATUSES, type JobRow, type RenderService } from '../../jobs/index.ts';
import { ApiError, errorResponses } from '../errors.ts';
import { jobView, JobView } from '../job-view.ts';

const JobParams = Type.Object({ jobId: Type.String({ examples: ['job_a1b2c3d4e5f6'] }) });

export const JobList = Type.Object(
  {
    jobs: Type.Array(Type.Ref(JobView)),
    nextCursor: Type.Union([Type.String(), Type.Null()], {
      description: "the next page's cursor; null on the last page",
    }),
  },
  { $id: 'JobList', description: 'A page of jobs, newest first' },
);

export const WebhookDeliveries = Type.Object(
  {
    deliveries: Type.Array(
      Type.Object({
        id: Type.Integer(),
        eventId: Type.Integer({ description: 'the id of the event it tells, as in the progress stream' }),
        url: Type.String(),
        status: Type.Union(
          DELIVERY_STATUSES.map((s) => Type.Literal(s)),
          {
            description: 'pending: (another) attempt is due at nextAttemptAt; failed: every retry was spent',
          },
        ),
        payload: Type.Unknown({ description: 'the JSON body sent' }),
        attempts: Type.Array(
          Type.Object({
            at: Type.String(),
            statusCode: Type.Union([Type.Integer(), Type.Null()], { description: 'null: no HTTP answer' }),
            error: Type.Union([Type.String(), Type.Null()]),
            durationMs: Type.Integer(),
          }),
        ),
        nextAttemptAt: Type.Union([Type.String(), Type.Null()]),
        deliveredAt: Type.Union([Type.String(), Type.Null()]),
      }),
    ),
  },
  { $id: 'WebhookDeliveries', description: 'The webhook deliveries of a job, each with every attempt' },
);

/** The job, if it belongs to the caller's account: another tenant's job is simply not found. */
export async function ownJob(service: RenderService, request: FastifyRequest, jobId: string): Promise<JobRow> {
  const job = await service.store.job(jobId);
  if (!job || job.account_id !== request.account.id) throw new ApiError('NOT_FOUND', `Job ${jobId} not found`);
  return job;
}

export function jobRoutes(app: FastifyInstance, service: RenderService): void {
  app.get(
    '/v1/jobs/:jobId',
    {
      schema: {
        operationId: 'getRenderJob',
        summary: 'A job: status, phase, progress, scenes, output',
        tags: ['jobs'],
        params: JobParams,
        response: { 200: Type.Ref(JobView), ...errorResponses(401, 404, 429) },
      },
    },
    async (request) => jobView(await ownJob(service, request, (request.params as { jobId: string }).jobId), service),
  );

  app.get(
    '/v1/jobs',
    {
      schema: {
        operationId: 'listRenderJobs',
        summary: 'Jobs of the account (or one project), newest first',
        tags: ['jobs'],
        querystring: Type.Object({
          projectId: Type.Optional(Type.String()),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
          cursor: Type.Optional(Type.String({ description: 'nextCursor of the previous page' })),
        }),
        response: { 200: Type.Ref(JobList), ...errorResponses(400, 401, 429) },
      },
    },
    async (request) => {
      const query = request.query as { projectId?: string; limit?: number; cursor?: string };
      const limit = query.limit ?? 20;
      const rows = await service.store.list(request.account.id, {
        projectId: query.projectId,
        limit: limit + 1,
        before: decodeCursor(query.cursor),
      });
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return {
        jobs: await Promise.all(page.map((job) => jobView(job, service))),
        nextCursor:
          rows.length > limit && last
            ? Buffer.from(JSON.stringify([last.created_at, last.id])).toString('base64url')
            : null,
      };
    },
  );

  const cancel = async (request: FastifyRequest) => {
    const job = await ownJob(service, request, (request.params as { jobId: string }).jobId);
    return jobView((await service.cancel(job.id)) ?? job, service);
  };
  const cancelSchema = (operationId: string, summary: string) => ({
    schema: {
      operationId,
      summary,
      tags: ['jobs'],
      params: JobParams,
      response: { 200: Type.Ref(JobView), ...errorResponses(401, 404, 429) },
    },
  });
  app.delete('/v1/jobs/:jobId', cancelSchema('deleteRenderJob', 'Cancel a job (no effect on a finished one)'), cancel);
  app.post('/v1/jobs/:jobId/cancel', cancelSchema('cancelRenderJob', 'Cancel a job (same as DELETE)'), cancel);

  app.get(
    '/v1/jobs/:jobId/webhooks',
    {
      schema: {
        operationId: 'listJobWebhookDeliveries',
        summary: 'Webhook deliveries of a job and every attempt',
        tags: ['jobs'],
        params: JobParams,
        response: { 200: Type.Ref(WebhookDeliveries), ...errorResponses(401, 404, 429) },
      },
    },
    async (request) => {
      const job = await ownJob(service, request, (request.params as { jobId: string }).jobId);
      const deliveries = await service.webhooks.deliveries(job.id);
      return {
        deliveries: deliveries.map((d) => ({
          id: d.id,
          eventId: d.event_id,
          url: d.url,
          status: d.status,
          payload: JSON.parse(d.payload),
          attempts: d.attempts_list.map((a) => ({
            at: a.attempted_at,
            statusCode: a.status_code,
            error: a.error,
            durationMs: a.duration_ms,
          })),
          nextAttemptAt: d.status === 'pending' ? d.next_attempt_at : null,
          deliveredAt: d.delivered_at,
        })),
      };
    },
  );
}

function decodeCursor(cursor: string | undefined): { createdAt: string; id: string } | undefined {
  if (!cursor) return undefined;
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as [string, string];
    if (typeof createdAt === 'string' && typeof id === 'string') return { createdAt, id };
  } catch {
    // fall through
  }
  throw new ApiError('INVALID_CURSOR', 'cursor is not one this API returned');
}
