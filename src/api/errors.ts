// Every error the API returns has one shape: { "error": { "code", "message", "details"? } }.
// The codes and statuses of the seed's table, plus a few the seed is silent on.
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
  return { error: { code: err.code, message: err.message, ...(err.details === undefined ? {} : { details: err.details }) } };
}

/** Maps framework errors (bad JSON, oversize body, wrong content type) to the same shape. */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | ApiError, request, reply) => {
    let api: ApiError;
    if (err instanceof ApiError) api = err;
    else if (err instanceof StorageFullError) api = new ApiError(507, err.code, err.message);
    else if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') api = new ApiError(413, 'PAYLOAD_TOO_LARGE', 'The request body is larger than the limit');
    else if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') api = new ApiError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Send the body as application/json');
    else if (err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || err.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || (err.statusCode === 400 && err instanceof SyntaxError))
      api = new ApiError(400, 'INVALID_MOVIE_JSON', `The body is not valid JSON: ${err.message}`);
    else if (err.validation) api = new ApiError(400, 'INVALID_REQUEST', err.message);
    else if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) api = new ApiError(err.statusCode, 'BAD_REQUEST', err.message);
    else {
      request.log.error({ err }, 'unexpected error');
      api = new ApiError(500, 'INTERNAL', 'Something went wrong on our side');
    }
    void reply.status(api.statusCode).send(errorBody(api));
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.status(404).send(errorBody(new ApiError(404, 'NOT_FOUND', `No route ${request.method} ${request.url.split('?')[0]}`)));
  });
}
