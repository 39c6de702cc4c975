// The rate limiter's counts in the service's database (distributed mode), for
// @fastify/rate-limit's `store` option: every API node counts an account's requests in the
// same window, so N nodes allow the plan's requests per minute, not N times as many.
import type { FastifyRateLimitStore, FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import type { RenderService } from '../jobs/index.ts';

export function sharedRateLimits(service: RenderService): FastifyRateLimitStoreCtor {
  return class SharedRequestCounts implements FastifyRateLimitStore {
    incr(
      key: string,
      callback: (error: Error | null, result?: { current: number; ttl: number }) => void,
      timeWindow: number,
    ) {
      service.countRequest(key, timeWindow).then(
        // uncounted (the database cannot count now): let it through; its headers show the whole limit left
        (count) => callback(null, count ?? { current: 0, ttl: timeWindow }),
        (error: Error) => callback(error),
      );
    }

    // one count per key whatever the route: no route has limits of its own
    child(): FastifyRateLimitStore {
      return this;
    }
  };
}
