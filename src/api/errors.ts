// Every error the API returns has one shape: { "error": { "code", "message", "details"? } }.
// The codes and statuses of the seed's table, plus a few the seed is silent on.
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { StorageFullError } from '../jobs/index.ts';

export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
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
        code: Type.String({ description: 'stable, machine-readable, e.g. INVALID_MOVIE_JSON' }),
        message: Type.String({ description: 'a sentence for people' }),
        details: Type.Optional(Type.Unknown({ description: 'e.g. every problem with its JSON path' })),
      },
      { additionalProperties: true },
    ),
  },
  { $id: 'Error', description: 'An error' },
);

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
