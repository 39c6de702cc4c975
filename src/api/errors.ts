// Every error the API returns has one shape: { "error": { "code", "message", "details"? } }.
// The codes of the seed's table, plus a few the seed is silent on, listed once in API_ERRORS.
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { StorageFullError } from '../jobs/index.ts';

/**
 * Every code the API answers with, and when: the one list. ApiError takes only these, and the
 * API document's Error schema enumerates them.
 */
export const API_ERRORS = {
  INVALID_MOVIE_JSON: 'the body failed validation, or is not JSON; `details` lists every problem with its JSON path',
  INVALID_REQUEST: 'a path, query or header parameter is not what the operation takes',
  INVALID_CURSOR: '`cursor` is not one this API returned',
  PLAN_RESOLUTION_EXCEEDED: "width x height (either orientation) is above the plan's maximum",
  PLAN_DURATION_EXCEEDED: "the movie is longer than the plan's per-job limit",
  UNAUTHORIZED: 'a missing or unknown `x-api-key` (or metrics token)',
  RENDER_QUOTA_EXCEEDED: "the job would pass the month's render minutes",
  RENDER_QUOTA_DAILY_EXCEEDED: "the job would pass the day's render minutes (reset at midnight UTC)",
  FORBIDDEN: 'the plan has no API access',
  PRESET_NOT_ALLOWED: "a preset or `requestedConcurrency` above the plan's",
  INVALID_SIGNATURE: 'a file link whose signature is wrong or has expired',
  NOT_FOUND: 'no such job, project, file or route in your account',
  CONCURRENCY_LIMIT_EXCEEDED: "the account already has its plan's number of jobs queued or running",
  IDEMPOTENCY_KEY_REUSED: 'an `Idempotency-Key` sent again with a different body',
  BAD_REQUEST: 'a request the server cannot read (e.g. bytes that are not HTTP)',
  REQUEST_TIMEOUT: 'the request did not arrive in time',
  PRECONDITION_FAILED: "a file request's `If-Match` or `If-Unmodified-Since` does not hold for the file",
  PAYLOAD_TOO_LARGE: 'the body is larger than the limit',
  UNSUPPORTED_MEDIA_TYPE: 'a body that is not `application/json`',
  RANGE_NOT_SATISFIABLE: "a file request's `Range` starts past the file's end; `Content-Range: bytes */<size>`",
  HEADERS_TOO_LARGE: "the request headers are larger than Node's limit",
  RATE_LIMITED: "over the plan's requests per minute; `Retry-After` says when to retry",
  INSUFFICIENT_STORAGE: "the server's disk is (nearly) full; nothing was queued or reserved",
  INTERNAL: 'something went wrong on the server',
} as const;
export type ApiErrorCode = keyof typeof API_ERRORS;

export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: ApiErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
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

/** Maps framework errors (bad JSON, oversize body, wrong content type) to the same shape. */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | ApiError, request, reply) => {
    let api: ApiError;
    if (err instanceof ApiError) api = err;
    else if (err instanceof StorageFullError) api = new ApiError(507, err.code, err.message);
    else if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
      api = new ApiError(413, 'PAYLOAD_TOO_LARGE', 'The request body is larger than the limit');
    else if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE')
      api = new ApiError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Send the body as application/json');
    else if (
      err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' ||
      err.code === 'FST_ERR_CTP_INVALID_JSON_BODY' ||
      (err.statusCode === 400 && err instanceof SyntaxError)
    )
      api = new ApiError(400, 'INVALID_MOVIE_JSON', `The body is not valid JSON: ${err.message}`);
    else if (err.validation) api = new ApiError(400, 'INVALID_REQUEST', err.message);
    else if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500)
      api = new ApiError(err.statusCode, 'BAD_REQUEST', err.message);
    else {
      request.log.error({ err }, 'unexpected error');
      api = new ApiError(500, 'INTERNAL', 'Something went wrong on our side');
    }
    void reply.status(api.statusCode).send(errorBody(api));
  });
  app.setNotFoundHandler((request, reply) => {
    void reply
      .status(404)
      .send(errorBody(new ApiError(404, 'NOT_FOUND', `No route ${request.method} ${request.url.split('?')[0]}`)));
  });
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
        ? new ApiError(408, 'REQUEST_TIMEOUT', timedOut)
        : err.code === 'HPE_HEADER_OVERFLOW'
          ? new ApiError(431, 'HEADERS_TOO_LARGE', 'The request headers are larger than the limit')
          : new ApiError(400, 'BAD_REQUEST', 'The request is not valid HTTP');
    const body = JSON.stringify(errorBody(api));
    if (socket.writable) {
      socket.write(
        `HTTP/1.1 ${api.statusCode} ${STATUS_CODES[api.statusCode]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    }
    socket.destroy();
  };
}
