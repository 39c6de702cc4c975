// Every error the API returns has one shape: { "error": { "code", "message", "details"? } }.
// The codes of the seed's table, plus a few the seed is silent on, listed once in jobs/errors.ts.
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import { ANSWERS, type AnswerCode, isDatabaseUnavailable, ServiceError } from '../jobs/index.ts';

/**
 * Every code the API answers with, and when: the answers of the one catalogue (jobs/errors.ts).
 * ApiError takes only these, and the API document's Error schema enumerates them.
 */
export const API_ERRORS = Object.fromEntries(Object.entries(ANSWERS).map(([code, { when }]) => [code, when])) as Record<
  AnswerCode,
  string
>;
export type ApiErrorCode = AnswerCode;

/** An answer of the API: a catalogue code, at its status (a framework's 4xx keeps its own as BAD_REQUEST). */
export class ApiError extends ServiceError {
  constructor(
    code: ApiErrorCode,
    message: string,
    details?: unknown,
    readonly statusCode: number = ANSWERS[code].status,
  ) {
    super(code, message, details);
    this.name = 'ApiError';
  }
}

export const ErrorBody = Type.Object(
  {
    error: Type.Object(
      {
        code: Type.Unsafe<ApiErrorCode>(
          Type.String({
            enum: Object.keys(API_ERRORS),
            description: `stable, machine-readable:\n${Object.entries(API_ERRORS)
              .map(([code, when]) => `- \`${code}\`: ${when}`)
              .join('\n')}`,
          }),
        ),
        message: Type.String({ description: 'a sentence for people' }),
        details: Type.Optional(Type.Unknown({ description: 'e.g. every problem with its JSON path' })),
      },
      { additionalProperties: true },
    ),
  },
  {
    $id: 'Error',
    description: 'An error',
    examples: [{ error: { code: 'NOT_FOUND', message: 'Job job_a1b2c3d4e5f6 not found' } }],
  },
);

/** The error answers an operation documents, by status: `{ 404: <Error>, ... }` (ErrorBody is a shared schema). */
export function errorResponses(...statuses: number[]) {
  return Object.fromEntries(statuses.map((status) => [status, Type.Ref(ErrorBody)]));
}

export function errorBody(err: ApiError) {
  return {
    error: { code: err.code, message: err.message, ...(err.details === undefined ? {} : { details: err.details }) },
  };
}

/** Seconds a client is told to wait while the database is away (a Postgres restart takes a few). */
const RETRY_AFTER_UNAVAILABLE_S = 5;

/** Maps framework errors (bad JSON, oversize body, wrong content type) to the same shape. */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | ApiError, request, reply) => {
    let api: ApiError;
    if (err instanceof ApiError) api = err;
    else if (err instanceof ServiceError) api = new ApiError(err.code, err.message, err.details);
    else if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
      api = new ApiError('PAYLOAD_TOO_LARGE', 'The request body is larger than the limit');
    else if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE')
      api = new ApiError('UNSUPPORTED_MEDIA_TYPE', 'Send the body as application/json');
    else if (
      err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' ||
      err.code === 'FST_ERR_CTP_INVALID_JSON_BODY' ||
      (err.statusCode === 400 && err instanceof SyntaxError)
    )
      api = new ApiError('INVALID_MOVIE_JSON', `The body is not valid JSON: ${err.message}`);
    else if (err.validation) api = new ApiError('INVALID_REQUEST', err.message);
    else if (isDatabaseUnavailable(err)) {
      request.log.warn({ err }, 'the database cannot be reached');
      api = new ApiError('SERVICE_UNAVAILABLE', 'The service cannot reach its database right now; try again shortly');
      void reply.header('retry-after', String(RETRY_AFTER_UNAVAILABLE_S));
    } else if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500)
      api = new ApiError('BAD_REQUEST', err.message, undefined, err.statusCode);
    else {
      request.log.error({ err }, 'unexpected error');
      api = new ApiError('INTERNAL', 'Something went wrong on our side');
    }
    void reply.status(api.statusCode).send(errorBody(api));
  });
  app.setNotFoundHandler((request, reply) => {
    void reply
      .status(404)
      .send(errorBody(new ApiError('NOT_FOUND', `No route ${request.method} ${shortened(request.url.split('?')[0])}`)));
  });
}

/** A path as a message quotes it: at most 200 characters (a path may be kilobytes long). */
function shortened(path: string): string {
  return path.length > 200 ? `${path.slice(0, 200)}...` : path;
}

/** The longest path parameter the router takes (Fastify's maxParamLength): every id this API gives is far shorter. */
export const MAX_PARAM_LENGTH = 100;

/**
 * Errors Fastify's router meets before any route's handler runs (a path parameter too long,
 * a path that is not valid percent-encoding), which setErrorHandler never sees: the same shape.
 */
export function answerFrameworkError(err: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  const api =
    err.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? new ApiError('URI_TOO_LONG', `A path parameter is longer than ${MAX_PARAM_LENGTH} characters: no id is`)
      : err.code === 'FST_ERR_BAD_URL'
        ? new ApiError('INVALID_REQUEST', 'The path is not valid percent-encoding (a % must start %XX of UTF-8)')
        : new ApiError('INTERNAL', 'Something went wrong on our side');
  void reply.status(api.statusCode).send(errorBody(api));
}

/**
 * Errors Node meets before a request reaches Fastify (a request that did not arrive in time,
 * headers too large, bytes that are not HTTP): answered in the same shape, then the connection closes.
 */
export function answerClientError(limits: { headersMs: number; requestMs: number }) {
  const seconds = (ms: number) => `${ms / 1000} s`;
  return (err: Error & { code?: string }, socket: Socket): void => {
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    const timedOut = `The request did not arrive in time: headers within ${seconds(limits.headersMs)}, the whole request within ${seconds(limits.requestMs)}`;
    const api =
      err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? new ApiError('REQUEST_TIMEOUT', timedOut)
        : err.code === 'HPE_HEADER_OVERFLOW'
          ? new ApiError('HEADERS_TOO_LARGE', 'The request headers are larger than the limit')
          : new ApiError('BAD_REQUEST', 'The request is not valid HTTP');
    const body = JSON.stringify(errorBody(api));
    if (socket.writable) {
      socket.write(
        `HTTP/1.1 ${api.statusCode} ${STATUS_CODES[api.statusCode]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    }
    socket.destroy();
  };
}
