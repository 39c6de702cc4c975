// The HTTP service: Fastify with the seed's routes, x-api-key auth, per-plan rate limits,
// one error shape, OpenAPI generated from the route schemas, docs, health and metrics.
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import type { Logger } from 'pino';
import type { RenderService } from '../jobs/index.ts';
import { installAuth } from './auth.ts';
import { accessLog } from './access-log.ts';
import { installCors } from './cors.ts';
import { answerClientError, answerFrameworkError, ApiError, installErrorHandler, MAX_PARAM_LENGTH } from './errors.ts';
import { installMetrics } from './metrics.ts';
import { installApiDocs } from './openapi.ts';
import type { Plans } from './plans.ts';
import { sharedRateLimits } from './shared-rate-limits.ts';
import { fileRoutes } from './routes/files.ts';
import { jobProgressRoutes } from './routes/job-progress.ts';
import { jobRoutes } from './routes/jobs.ts';
import { readinessRoutes } from './routes/readiness.ts';
import { renderJobRoutes } from './routes/render-jobs.ts';
import { usageRoutes } from './routes/usage.ts';

export interface ServerOptions {
  service: RenderService;
  plans: Plans;
  /** Largest request body, bytes (default 1 MiB). */
  bodyLimit?: number;
  /** Logs every request to this logger (`serve --log`). */
  accessLog?: Logger;
  /** SSE heartbeat interval (default 15 s); shorter than the idle timeout, so progress streams stay open. */
  heartbeatMs?: number;
  /** How long a client may take (ms); see CONNECTION_TIMEOUTS for each and its default. */
  timeouts?: Partial<ConnectionTimeouts>;
  /** When set, GET /metrics needs `Authorization: Bearer <metricsToken>`. */
  metricsToken?: string;
  /** Origins whose pages may call the API (CORS); none (the default): CORS stays off. */
  corsOrigins?: readonly string[];
}

/** The defaults: a slow or stalled client holds a connection (and an fd) for at most this long. */
const CONNECTION_TIMEOUTS = {
  /** A whole request, headers and body, must arrive within this; else 408 and the connection closes. */
  requestMs: 30_000,
  /** The headers of a request must arrive within this (at most requestMs). */
  headersMs: 10_000,
  /** A keep-alive connection with no request in progress is closed after this. */
  keepAliveMs: 5_000,
  /** A connection on which no byte moves either way for this long is closed (e.g. a client that stopped reading). */
  idleMs: 60_000,
};
export type ConnectionTimeouts = typeof CONNECTION_TIMEOUTS;

export async function buildServer(options: ServerOptions): Promise<FastifyInstance> {
  const { service, plans } = options;
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const timeouts = { ...CONNECTION_TIMEOUTS, ...options.timeouts };
  if (timeouts.headersMs > timeouts.requestMs)
    throw new RangeError('the headers timeout must not be longer than the request timeout');
  if (heartbeatMs >= timeouts.idleMs)
    throw new RangeError('the SSE heartbeat must be shorter than the idle timeout, or progress streams are cut');
  const app = Fastify({
    ...(options.accessLog
      ? { loggerInstance: options.accessLog.child({}, accessLog) as FastifyBaseLogger }
      : { logger: false }),
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    ajv: { customOptions: { removeAdditional: false } },
    requestTimeout: timeouts.requestMs,
    keepAliveTimeout: timeouts.keepAliveMs,
    connectionTimeout: timeouts.idleMs,
    // Node enforces the request and headers timeouts on a timer: run it often enough that they hold
    http: { headersTimeout: timeouts.headersMs, connectionsCheckingInterval: Math.min(1000, timeouts.headersMs / 2) },
    clientErrorHandler: answerClientError(timeouts),
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    frameworkErrors: answerFrameworkError,
  });
  installErrorHandler(app);
  acceptEmptyJson(app);
  await installCors(app, options.corsOrigins ?? []);
  await installApiDocs(app);
  app.get('/healthz', { schema: { hide: true } }, async () => ({ ok: true }));
  readinessRoutes(app, service);
  installMetrics(app, service, options.metricsToken);
  fileRoutes(app, service);

  await app.register(async (api) => {
    installAuth(api, service, plans);
    await api.register(rateLimit, {
      hook: 'preHandler',
      keyGenerator: (request) => request.account?.id ?? request.ip,
      max: (request) => request.plan?.requestsPerMinute ?? 60,
      timeWindow: 60_000,
      // several API nodes (distributed mode): counted in their shared database; else in memory
      ...(service.sharedRateLimits && { store: sharedRateLimits(service) }),
      errorResponseBuilder: (_request, context) =>
        new ApiError('RATE_LIMITED', `Too many requests: at most ${context.max} a minute. Retry in ${context.after}.`),
    });
    renderJobRoutes(api, service);
    jobRoutes(api, service);
    jobProgressRoutes(api, service, heartbeatMs);
    usageRoutes(api, service);
  });
  return app;
}

/**
 * JSON bodies through Fastify's own parser (it refuses __proto__ and constructor.prototype
 * keys), except that an empty body is no body: many clients send a JSON content type on every
 * call, DELETE and cancel included. A route that needs a body says so itself.
 */
function acceptEmptyJson(app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser<string>('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body === '') done(null, undefined);
    else parse(request, body, done);
  });
}
