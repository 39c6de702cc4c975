// x-api-key authentication: the key's account and its plan ride on the request.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AccountRow, Plan, RenderService } from '../jobs/index.ts';
import { ApiError } from './errors.ts';
import type { Plans } from './plans.ts';

declare module 'fastify' {
  interface FastifyRequest {
    account: AccountRow;
    plan: Plan;
  }
}

export function installAuth(app: FastifyInstance, service: RenderService, plans: Plans): void {
  app.decorateRequest('account', null as unknown as AccountRow);
  app.decorateRequest('plan', null as unknown as Plan);
  app.addHook('onRequest', async (request: FastifyRequest) => {
    const key = request.headers['x-api-key'];
    if (typeof key !== 'string' || key.length === 0) throw new ApiError('UNAUTHORIZED', 'Missing x-api-key header');
    const account = await service.authenticate(key);
    if (!account) throw new ApiError('UNAUTHORIZED', 'Invalid x-api-key');
    const plan = plans[account.plan];
    if (!plan) throw new ApiError('INTERNAL', `Account plan "${account.plan}" is not configured`);
    request.account = account;
    request.plan = plan;
  });
}
