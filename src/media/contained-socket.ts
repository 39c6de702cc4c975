// Sockets whose listeners cannot take the process down. undici 7's HTTP/1 client throws
// from a socket's 'end' listener when a response body was paused under backpressure (a
// slow disk, an event loop held for seconds) and the server then closed the connection:
// Parser.finish asserts that the parser is not paused (nodejs/undici#5360; fixed in
// undici 8, which needs Node 22). Nothing can catch a throw there, so the process would
// exit with every job in it. A socket made here turns an exception in any of its listeners
// into that socket's error: the request on it fails (that fetch, that job), nothing else.
import type { Socket } from 'node:net';
import { buildConnector } from 'undici';

/** undici's own connector (`options` as its `connect` option takes them), its sockets contained. */
export function containedConnector(options: buildConnector.BuildOptions): buildConnector.connector {
  const connect = buildConnector(options);
  return (target, callback) =>
    connect(target, (err, socket) => {
      if (err) return callback(err, null);
      containListenerErrors(socket!);
      callback(null, socket!);
    });
}

/** What a request on a socket whose listener threw fails with. */
export class SocketListenerError extends Error {
  constructor(readonly thrown: unknown) {
    super('the connection failed inside the HTTP client (the server closed it while the response was held back)');
    this.name = 'SocketListenerError';
  }
}

/**
 * Every event the socket emits reaches its listeners as before; one that throws destroys
 * the socket with a SocketListenerError instead of throwing on (an 'error' listener's own
 * throw goes on as ever: there is nothing left to fail but the socket it belongs to).
 */
export function containListenerErrors(socket: Socket): void {
  const emit = socket.emit as (this: Socket, event: string | symbol, ...args: unknown[]) => boolean;
  socket.emit = function (this: Socket, event: string | symbol, ...args: unknown[]): boolean {
    try {
      return emit.call(this, event, ...args);
    } catch (thrown) {
      if (event === 'error') throw thrown;
      this.destroy(new SocketListenerError(thrown));
      return true;
    }
  } as Socket['emit'];
}
