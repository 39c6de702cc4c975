// A fetch's failures stay the fetch's: a download of many backpressure waits adds no
// listener per wait (it used to warn MaxListenersExceededWarning after ten); undici 7's
// assertion on a response paused when the server closed (thrown from the socket's 'end'
// listener, where nothing could catch it) fails that request instead of ending the
// process; and downloads whose server closes while this process's event loop is held
// for seconds complete.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { test } from 'node:test';
import { request } from 'undici';
import { fetchToStore, guardedAgent } from '../src/media/index.ts';
import { SocketListenerError } from '../src/media/contained-socket.ts';
import { tempDir } from './helpers.ts';

const store = await tempDir('reelsmith-fetch-');
const loopback = { allowPrivateNetworks: true };

/** Listens on loopback; its base URL. */
async function listen(server: Server): Promise<string> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

/**
 * A raw HTTP/1.1 server in another process (so that holding this one's event loop does not
 * hold it): each response is `bytes` of `a` with Connection: close, its first 64 KiB at
 * once, the rest and the close `afterMs` later.
 */
async function closingServer(bytes: number, afterMs: number): Promise<{ url: string; child: ChildProcess }> {
  const script = `
    const body = Buffer.alloc(${bytes}, 0x61);
    const server = require('node:net').createServer((sock) => {
      sock.on('error', () => {});
      sock.once('data', () => {
        sock.write('HTTP/1.1 200 OK\\r\\nContent-Length: ${bytes}\\r\\nConnection: close\\r\\n\\r\\n');
        sock.write(body.subarray(0, 65536));
        setTimeout(() => { sock.write(body.subarray(65536)); sock.end(); }, ${afterMs});
      });
    });
    server.listen(0, '127.0.0.1', () => console.log(server.address().port));`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [port] = await once(child.stdout!, 'data');
  return { url: `http://127.0.0.1:${String(port).trim()}`, child };
}

function holdEventLoop(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

test('a download of 8 MiB (hundreds of backpressure waits) adds no listener per wait: no MaxListenersExceededWarning', async () => {
  const body = Buffer.alloc(8 * 1024 * 1024, 7);
  const server = createServer((_req, res) => res.end(body));
  const url = await listen(server);
  const warnings: Error[] = [];
  const onWarning = (w: Error) => warnings.push(w);
  process.on('warning', onWarning);
  try {
    const got = await fetchToStore(`${url}/big.bin`, store, loopback);
    assert.equal(got.bytes, body.length);
    assert.ok((await readFile(got.path)).equals(body));
    // warnings are emitted on the next tick
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(
      warnings.map((w) => `${w.name}: ${w.message}`),
      [],
    );
  } finally {
    process.off('warning', onWarning);
    server.close();
  }
});

test("undici's assertion on a paused response whose server closed fails that request, never the process", async () => {
  // the shape of nodejs/undici#5360: a body nobody reads pauses the parser; then the server closes
  const { url, child } = await closingServer(64 * 1024, 0);
  const dispatcher = guardedAgent(loopback);
  try {
    const res = await request(`${url}/unread.bin`, { dispatcher });
    await new Promise((r) => setTimeout(r, 500));
    const err = await res.body.arrayBuffer().then(
      () => assert.fail('the body should have failed'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof SocketListenerError, String(err));
    assert.match(String((err as SocketListenerError).thrown), /AssertionError/);
  } finally {
    child.kill();
    await dispatcher.close();
  }
});

test('downloads whose server closes while the event loop is held for 1.5 s complete, each with its bytes', async () => {
  // the shape: a job's footage arriving while planning another held the loop
  const bytes = 4 * 1024 * 1024;
  const { url, child } = await closingServer(bytes, 300);
  try {
    const downloads = Array.from({ length: 6 }, (_, i) => fetchToStore(`${url}/${i}.bin`, store, loopback));
    setTimeout(() => holdEventLoop(1500), 100);
    const expected = createHash('sha256').update(Buffer.alloc(bytes, 0x61)).digest('hex');
    for (const got of await Promise.all(downloads)) {
      assert.equal(got.bytes, bytes);
      assert.equal(got.digest, expected);
    }
  } finally {
    child.kill();
  }
});
