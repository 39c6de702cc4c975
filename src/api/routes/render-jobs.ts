// POST /v1/render/jobs: validate, check the plan, reserve minutes, queue. 202 { jobId, status }.
import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { collectProblems, normalizeMovie, summarizeProblems } from '../../movie/index.ts';
import {
  DEFAULT_PRESET,
  PRESET_WORKERS,
  RenderRequest,
  requestProblems,
  sceneWorkers,
  type RenderService,
} from '../../jobs/index.ts';
import { ApiError, errorResponses } from '../errors.ts';
import { fitsResolution, submitLimits } from '../plans.ts';

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
      const report = collectProblems(
        requestProblems(request.body, {
          allowLocalFiles: false,
          projectRequired: true,
          callbackRefusal: (url) => service.callbackRefusal(url),
        }),
      );
      if (report.total > 0)
        throw new ApiError(
          'INVALID_MOVIE_JSON',
          `The request failed validation: ${summarizeProblems(report)}`,
          report.problems,
        );
      const body = request.body as RenderRequest;

      const project = await service.accounts.project(account.id, body.projectId);
      if (!project) throw new ApiError('NOT_FOUND', `Project ${body.projectId} not found`);

      const movie = normalizeMovie(body.movie, { allowLocalFiles: false });
      if (!fitsResolution(plan, movie.width, movie.height)) {
        const max = plan.maxResolution;
        throw new ApiError(
          'PLAN_RESOLUTION_EXCEEDED',
          `${movie.width}x${movie.height} exceeds the ${plan.name} plan's maximum of ${max.width}x${max.height}`,
        );
      }
      const seconds = movie.frames / movie.fps;
      if (plan.maxDurationMinutes !== null && seconds > plan.maxDurationMinutes * 60) {
        throw new ApiError(
          'PLAN_DURATION_EXCEEDED',
          `The movie lasts ${seconds.toFixed(1)} s; the ${plan.name} plan allows ${plan.maxDurationMinutes} min per job`,
        );
      }
      const preset = body.renderOptions?.qualityPreset ?? DEFAULT_PRESET;
      const workers = sceneWorkers(preset, body.renderOptions?.requestedConcurrency);
      const maxWorkers = Math.max(...plan.presets.map((p) => PRESET_WORKERS[p]));
      if (!plan.presets.includes(preset) || workers > maxWorkers) {
        throw new ApiError(
          'PRESET_NOT_ALLOWED',
          `The ${plan.name} plan allows presets ${plan.presets.join(', ')} (at most ${maxWorkers} workers)`,
        );
      }

      const key = request.headers['idempotency-key'];
      const outcome = await service.submit(
        {
          accountId: account.id,
          projectId: project.id,
          request: body,
          seconds,
          workers,
          callbackUrl: body.callbackUrl,
          scenes: movie.scenes.map((s) => ({ id: s.id, frames: s.frames })),
          idempotency:
            typeof key === 'string' && key
              ? { key, requestHash: createHash('sha256').update(canonicalJson(body)).digest('hex') }
              : undefined,
        },
        submitLimits(plan),
      );
      if ('refused' in outcome) {
        switch (outcome.refused) {
          case 'CONCURRENCY_LIMIT_EXCEEDED':
            throw new ApiError(
              outcome.refused,
              `The ${plan.name} plan runs at most ${plan.concurrentJobs} jobs at once. Wait for a job to complete.`,
            );
          case 'RENDER_QUOTA_EXCEEDED':
            throw new ApiError(
              outcome.refused,
              `This job would pass the ${plan.name} plan's ${plan.monthlyMinutes} render minutes this month`,
            );
          case 'RENDER_QUOTA_DAILY_EXCEEDED':
            throw new ApiError(
              outcome.refused,
              `This job would pass the ${plan.name} plan's ${plan.dailyMinutes} render minutes today. Resets at midnight UTC.`,
            );
          case 'IDEMPOTENCY_KEY_REUSED':
            throw new ApiError(outcome.refused, 'This Idempotency-Key was used with a different request body');
        }
      }
      if (!outcome.replayed) service.start(outcome.job);
      return reply
        .status(202)
        .send({ jobId: outcome.job.id, status: outcome.replayed ? outcome.job.status : 'queued' });
    },
  );
}

/** JSON with object keys sorted, so the same body in another key order is the same request. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}
