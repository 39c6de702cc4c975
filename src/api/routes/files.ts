// GET /v1/files/{key}?expires&signature: stored outputs behind signed, expiring URLs,
// with Range support so players can seek.
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { RenderService } from '../../jobs/index.ts';
import { ApiError, errorResponses } from '../errors.ts';

const Mp4 = (description: string) => ({
  description,
  content: { 'video/mp4': { schema: Type.String({ format: 'binary' }) } },
});

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
      206: Mp4('The requested byte range (`Range: bytes=a-b`)'),
      416: { description: 'The range is outside the file; `Content-Range: bytes */<size>`', type: 'null' },
      ...errorResponses(403, 404),
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
          "A done job's `outputUrl`, as it is: the link's signature is the access, so it takes no `x-api-key`. Links expire (24 h); fetch the job again for a fresh one.",
        tags: ['files'],
        security: [],
        response: errorResponses(403, 404),
      },
      config: { swaggerTransform: ({ schema }) => ({ ...documented, schema: { ...schema, ...documented.schema } }) },
    },
    async (request, reply) => {
      const key = (request.params as { '*': string })['*'];
      const { expires, signature } = request.query as { expires?: string; signature?: string };
      if (!service.storage.verify(key, expires, signature))
        throw new ApiError(
          403,
          'INVALID_SIGNATURE',
          'This link is invalid or has expired; fetch the job again for a fresh outputUrl',
        );
      const file = await service.storage.stat(key).catch(() => undefined);
      if (!file) throw new ApiError(404, 'NOT_FOUND', 'No such file');
      void reply
        .header('accept-ranges', 'bytes')
        .header('content-type', key.endsWith('.mp4') ? 'video/mp4' : 'application/octet-stream');
      const range = parseRange(request.headers.range, file.bytes);
      if (range === 'unsatisfiable') {
        return reply.status(416).header('content-range', `bytes */${file.bytes}`).send();
      }
      if (range) {
        return reply
          .status(206)
          .header('content-range', `bytes ${range.start}-${range.end}/${file.bytes}`)
          .header('content-length', range.end - range.start + 1)
          .send(service.storage.read(key, range));
      }
      return reply.header('content-length', file.bytes).send(service.storage.read(key));
    },
  );
}

/** One byte range of `size` bytes ("bytes=a-b", "bytes=a-", "bytes=-n"); multiple ranges are served whole. */
export function parseRange(
  header: string | undefined,
  size: number,
): { start: number; end: number } | 'unsatisfiable' | undefined {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header ?? '');
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  let start: number;
  let end: number;
  if (m[1] === '') {
    start = Math.max(0, size - Number(m[2]));
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start > end || start >= size) return 'unsatisfiable';
  return { start, end };
}
