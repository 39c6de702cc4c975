// The access log (`serve --log`): one line per request, never a secret. API keys travel in a
// header, which is not logged; a signed file URL's query is the file's key for anyone who reads
// the log, so it is dropped.
import type { FastifyRequest } from 'fastify';

/** The request URL as logged: a /v1/files/ URL loses its query (expires, signature). */
export function loggedUrl(url: string): string {
  const query = url.indexOf('?');
  return query >= 0 && url.startsWith('/v1/files/') ? `${url.slice(0, query)}?(redacted)` : url;
}

/** The access log's options, for a child of the service's logger: what a request line holds, and no secret. */
export const accessLog = {
  redact: ['req.headers["x-api-key"]', 'req.headers.authorization'],
  serializers: {
    req: (request: FastifyRequest) => ({
      method: request.method,
      url: loggedUrl(request.url),
      host: request.host,
      remoteAddress: request.ip,
      remotePort: request.socket?.remotePort,
    }),
  },
};
