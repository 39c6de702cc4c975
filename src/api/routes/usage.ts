// GET /v1/usage: render minutes used and reserved this month and today, against the plan.
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { clockNow, Plan, type RenderService } from '../../jobs/index.ts';
import { errorResponses } from '../errors.ts';

const Limit = Type.Union([Type.Number(), Type.Null()], { description: 'null: no limit' });

export const Usage = Type.Object(
  {
    accountId: Type.String(),
    plan: Type.Object({ id: Type.String(), ...Plan.properties }),
    month: Type.Object({
      minutes: Type.Number({ description: 'used and reserved, this calendar month (UTC)' }),
      limit: Limit,
    }),
    day: Type.Object({
      minutes: Type.Number({ description: 'used and reserved, today (UTC)' }),
      limit: Limit,
      resetsAt: Type.String({ description: 'next midnight UTC' }),
    }),
    activeJobs: Type.Object({ count: Type.Integer({ description: 'queued or running' }), limit: Limit }),
  },
  { $id: 'Usage', description: 'Render minutes used and reserved, and the plan limits' },
);

export function usageRoutes(app: FastifyInstance, service: RenderService): void {
  app.get(
    '/v1/usage',
    {
      schema: {
        operationId: 'getUsage',
        summary: 'Render minutes used this month and today, and the plan limits',
        tags: ['account'],
        response: { 200: Type.Ref(Usage), ...errorResponses(401, 429) },
      },
    },
    async (request) => {
      const usage = await service.usage(request.account.id);
      const minutes = (s: number) => Math.round((s / 60) * 1000) / 1000;
      const { plan } = request;
      return {
        accountId: request.account.id,
        plan: { id: request.account.plan, ...plan },
        month: { minutes: minutes(usage.monthSeconds), limit: plan.monthlyMinutes },
        day: { minutes: minutes(usage.daySeconds), limit: plan.dailyMinutes, resetsAt: nextMidnightUtc(clockNow()) },
        activeJobs: { count: usage.activeJobs, limit: plan.concurrentJobs },
      };
    },
  );
}

/** The end of the day `now` is in (UTC): when the daily minutes reset, on the clock the store counts them with. */
function nextMidnightUtc(now: Date): string {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1)).toISOString();
}
