// GET /v1/files/{key}?expires&signature: stored outputs behind signed, expiring URLs, served
// by @fastify/send: Range (players seek), ETag and Last-Modified (so If-None-Match,
// If-Modified-Since and If-Range work), cached privately no longer than the link lives.
import send from '@fastify/send';
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { downloadName, type RenderService } from '../../jobs/index.ts';
import { ApiError, errorResponses } from '../errors.ts';

const Mp4 = (description: string) => ({
  description,
  content: { 'video/mp4': { schema: Type.String({ format: 'binary' }) } },
});

/** The statuses this route answers with an error, besides what @fastify/send answers itself. */
const ERRORS = [403, 404, 412, 416];

/**
 * How the API document shows this route: the wildcard as a `key` parameter, and the signature's
 * query parameters, which the handler checks itself (a missing one is a 403 like a wrong one).
 */
const documented = {
  url: '/v1/files/{key}',
  schema: {
    params: Type.Object({
      key: Type.String({ description: 'the path of the file, as in the outputUrl (it may contain `/`)' }),
    }),
    querystring: Type.Object({
      expires: Type.String({ description: 'Unix time (s) after which the link stops working' }),
      signature: Type.String({ description: 'signature of the key and expires' }),
    }),
    response: {
      200: Mp4('The whole file'),
      206: Mp4('The requested byte range (`Range: bytes=a-b`; with `If-Range`, only while the file is unchanged)'),
      304: { description: 'Not modified: the `If-None-Match` or `If-Modified-Since` sent still holds' },
      ...errorResponses(...ERRORS),
    },
  },
};

export function fileRoutes(app: FastifyInstance, service: RenderService): void {
  app.get(
    '/v1/files/*',
    {
      schema: {
        operationId: 'getOutputFile',
        summary: 'A stored output (signed URL, Range supported)',
        description:
          'A done job\'s `outputUrl`, as it is: the link\'s signature is the access, so it takes no `x-api-key`. Links expire (24 h); fetch the job again for a fresh one. Answers carry `ETag` and `Last-Modified` (conditional requests and `If-Range` work), `Cache-Control: private, max-age=` no longer than the link has left, and `Content-Disposition: inline; filename="<jobId>.mp4"`.',
        tags: ['files'],
        security: [],
        response: errorResponses(...ERRORS),
      },
      config: { swaggerTransform: ({ schema }) => ({ ...documented, schema: { ...schema, ...documented.schema } }) },
    },
    async (request, reply) => {
      const key = (request.params as { '*': string })['*'];
      const { expires, signature } = request.query as { expires?: string; signature?: string };
      const file = await service.readOutput(key, expires, signature);
      // the path is ours (under the data folder, which may have a dot folder in it), not the request's
      const sent = await send(request.raw, encodeURI(file.path), { dotfiles: 'allow', cacheControl: false });
      if (sent.type !== 'file') {
        sent.stream.destroy();
        if (sent.statusCode === 416) void reply.header('content-range', `bytes */${file.bytes}`);
        throw refusal(sent.statusCode, file.bytes, sent.type === 'error' ? sent.metadata.error : undefined);
      }
      return reply
        .status(sent.statusCode)
        .headers(sent.headers)
        .header('cache-control', cacheControl(Number(expires)))
        .header('content-disposition', `inline; filename="${downloadName(key)}"`)
        .send(sent.stream);
    },
  );
}

/**
 * Caches may keep the file (it never changes under its key) but only for the one who asked,
 * and not past the link's expiry: a cached copy must not outlive the permission to fetch it.
 */
function cacheControl(expiresAt: number, now = Date.now() / 1000): string {
  return `private, max-age=${Math.max(0, Math.floor(expiresAt - now))}`;
}

/** What @fastify/send refused, in the API's error shape. */
function refusal(status: number, bytes: number, cause: Error | undefined): Error {
  if (status === 416) return new ApiError('RANGE_NOT_SATISFIABLE', `The range is outside the file (${bytes} bytes)`);
  if (status === 412)
    return new ApiError('PRECONDITION_FAILED', 'The file does not match If-Match or If-Unmodified-Since');
  if (status === 404) return new ApiError('NOT_FOUND', 'No such file');
  return cause ?? new Error(`sending a stored file answered ${status}`);
}
