// The HTTP service: Fastify with the seed's routes, x-api-key auth, per-plan rate limits,
// one error shape, OpenAPI generated from the route schemas, docs, health and metrics.
import Fastify, { type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import rateLimit from '@fastify/rate-limit';
import type { RenderService } from '../jobs/index.ts';
import { installAuth } from './auth.ts';
import { accessLog } from './access-log.ts';
import { ApiError, installErrorHandler } from './errors.ts';
import { installMetrics } from './metrics.ts';
import type { Plans } from './plans.ts';
import { fileRoutes } from './routes/files.ts';
import { jobProgressRoutes } from './routes/job-progress.ts';
import { jobRoutes } from './routes/jobs.ts';
import { renderJobRoutes } from './routes/render-jobs.ts';
import { usageRoutes } from './routes/usage.ts';

export interface ServerOptions {
  service: RenderService;
  plans: Plans;
  /** Largest request body, bytes (default 1 MiB). */
  bodyLimit?: number;
  logger?: boolean;
  /** SSE heartbeat interval (default 15 s). */
  heartbeatMs?: number;
  /** When set, GET /metrics needs `Authorization: Bearer <metricsToken>`. */
  metricsToken?: string;
}

export async function buildServer(options: ServerOptions): Promise<FastifyInstance> {
  const { service, plans } = options;
  const app = Fastify({
    logger: options.logger ? accessLog : false,
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    ajv: { customOptions: { removeAdditional: false } },
  });
  installErrorHandler(app);
  await app.register(swagger, {
    openapi: {
      info: { title: 'Reelsmith Render API', version: '1.0.0', description: 'Submit a Movie, follow its job, fetch the MP4.' },
      components: { securitySchemes: { apiKey: { type: 'apiKey', name: 'x-api-key', in: 'header' } } },
      security: [{ apiKey: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/v1/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  app.get('/healthz', { schema: { hide: true } }, async () => ({ ok: true }));
  installMetrics(app, service, options.metricsToken);
  fileRoutes(app, service);

  await app.register(async (api) => {
    installAuth(api, service, plans);
    await api.register(rateLimit, {
      hook: 'preHandler',
      keyGenerator: (request) => request.account?.id ?? request.ip,
      max: (request) => request.plan?.requestsPerMinute ?? 60,
      timeWindow: 60_000,
      errorResponseBuilder: (_request, context) =>
        new ApiError(429, 'RATE_LIMITED', `Too many requests: at most ${context.max} a minute. Retry in ${context.after}.`),
    });
    renderJobRoutes(api, service);
    jobRoutes(api, service);
    jobProgressRoutes(api, service, options.heartbeatMs ?? 15_000);
    usageRoutes(api, service);
  });
  return app;
}
