// CORS: off unless origins are given (`serve --cors-origin`). Then pages on those origins may
// call the API with an x-api-key they hold (no cookies: credentials stay off) and read the
// headers a client needs; other origins get no Access-Control-Allow-Origin.
import cors from '@fastify/cors';
import type { FastifyInstance } from 'fastify';

/** Response headers a browser client may read beyond the safelisted ones. */
const EXPOSED_HEADERS = [
  'content-disposition',
  'content-range',
  'etag',
  'retry-after',
  'x-ratelimit-limit',
  'x-ratelimit-remaining',
  'x-ratelimit-reset',
];

/** `origins`: exact origins (`https://app.example.com`), or `*` for any. */
export async function installCors(app: FastifyInstance, origins: readonly string[]): Promise<void> {
  if (origins.length === 0) return;
  await app.register(cors, {
    origin: origins.includes('*') ? '*' : [...origins],
    methods: ['GET', 'HEAD', 'POST', 'DELETE'],
    exposedHeaders: EXPOSED_HEADERS,
    // every JSON POST with an x-api-key is preflighted: browsers may reuse a preflight this long (s)
    maxAge: 600,
  });
}
