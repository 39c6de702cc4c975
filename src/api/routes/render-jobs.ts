// POST /v1/render/jobs: the plan must include API access; then RenderService.submit checks,
// reserves and queues in one step (its refusals answer at their codes' statuses). 202 { jobId, status }.
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { RenderRequest, type RenderService } from '../../jobs/index.ts';
import { ApiError, errorResponses } from '../errors.ts';

export const RenderJobAccepted = Type.Object(
  {
    jobId: Type.String({ examples: ['job_a1b2c3d4e5f6'] }),
    status: Type.String({
      examples: ['queued'],
      description: "queued (a replayed Idempotency-Key returns the job's current status)",
    }),
  },
  { $id: 'RenderJobAccepted', description: 'The job is queued' },
);

export function renderJobRoutes(app: FastifyInstance, service: RenderService): void {
  app.post(
    '/v1/render/jobs',
    {
      // the schema documents the body; requestProblems checks it and names each problem's path, so Ajv must not touch it
      validatorCompiler: () => () => true,
      schema: {
        operationId: 'createRenderJob',
        summary: 'Submit a render job',
        tags: ['render'],
        headers: Type.Object({
          'idempotency-key': Type.Optional(Type.String({ description: 'same key + same body returns the same job' })),
        }),
        body: RenderRequest,
        response: {
          202: Type.Ref(RenderJobAccepted),
          ...errorResponses(400, 401, 402, 403, 404, 409, 413, 415, 422, 429, 507),
        },
      },
    },
    async (request, reply) => {
      const { account, plan } = request;
      if (!plan.apiAccess)
        throw new ApiError('FORBIDDEN', `The ${plan.name} plan does not include API access. Upgrade to Pro.`);
      const key = request.headers['idempotency-key'];
      const accepted = await service.submit({
        accountId: account.id,
        plan,
        body: request.body,
        idempotencyKey: typeof key === 'string' && key ? key : undefined,
      });
      return reply.status(202).send(accepted);
    },
  );
}
