// GET /v1/usage: render minutes used and reserved this month and today, against the plan.
import type { FastifyInstance } from 'fastify';
import type { RenderService } from '../../jobs/index.ts';

export function usageRoutes(app: FastifyInstance, service: RenderService): void {
  app.get(
    '/v1/usage',
    { schema: { summary: 'Render minutes used this month and today, and the plan limits', tags: ['account'] } },
    async (request) => {
      const usage = await service.store.usage(request.account.id);
      const minutes = (s: number) => Math.round((s / 60) * 1000) / 1000;
      const { plan } = request;
      return {
        accountId: request.account.id,
        plan: { id: request.account.plan, ...plan },
        month: { minutes: minutes(usage.monthSeconds), limit: plan.monthlyMinutes },
        day: { minutes: minutes(usage.daySeconds), limit: plan.dailyMinutes, resetsAt: nextMidnightUtc() },
        activeJobs: { count: usage.activeJobs, limit: plan.concurrentJobs },
      };
    },
  );
}

function nextMidnightUtc(now = new Date()): string {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1)).toISOString();
}
