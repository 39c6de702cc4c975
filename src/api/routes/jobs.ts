// Reading and cancelling jobs: GET /v1/jobs/{jobId}, GET /v1/jobs, DELETE /v1/jobs/{jobId},
// POST /v1/jobs/{jobId}/cancel, GET /v1/jobs/{jobId}/webhooks.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type Static, Type } from '@sinclair/typebox';
import { DELIVERY_STATUSES, type RenderService } from '../../jobs/index.ts';
import { errorResponses } from '../errors.ts';
import { type JobShown, JobView } from '../job-view.ts';

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

const jobIdOf = (request: FastifyRequest) => (request.params as { jobId: string }).jobId;

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
    async (request): Promise<JobShown> => service.jobFor(request.account.id, jobIdOf(request)),
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
    async (request): Promise<Static<typeof JobList>> => {
      const query = request.query as { projectId?: string; limit?: number; cursor?: string };
      return service.listJobs(request.account.id, { ...query, limit: query.limit ?? 20 });
    },
  );

  const cancel = async (request: FastifyRequest): Promise<JobShown> =>
    service.cancel(request.account.id, jobIdOf(request));
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
    async (request): Promise<Static<typeof WebhookDeliveries>> => ({
      deliveries: await service.deliveries(request.account.id, jobIdOf(request)),
    }),
  );
}
