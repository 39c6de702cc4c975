// GET /v1/files/{key}?expires&signature: stored outputs behind signed, expiring URLs,
// with Range support so players can seek.
import type { FastifyInstance } from 'fastify';
import type { RenderService } from '../../jobs/index.ts';
import { ApiError } from '../errors.ts';

export function fileRoutes(app: FastifyInstance, service: RenderService): void {
  app.get(
    '/v1/files/*',
    { schema: { summary: 'A stored output (signed URL, Range supported)', tags: ['files'] } },
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
