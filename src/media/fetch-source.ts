// Fetching a source over http(s) into the content-addressed store: connect-time
// address check for every resolved IP, byte and time caps, redirects re-checked. Every
// error on the way (the server's, the disk's, the HTTP client's) fails this fetch only.
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { type Dispatcher, request } from 'undici';
import type { NetworkPolicy } from './address-guard.ts';
import { SocketListenerError } from './contained-socket.ts';
import { guardedAgent, urlRefusal } from './guarded-agent.ts';

export interface FetchLimits extends NetworkPolicy {
  maxBytes?: number;
  /** Whole download, milliseconds. */
  timeoutMs?: number;
  maxRedirects?: number;
}

export const FETCH_DEFAULTS = { maxBytes: 1024 * 1024 * 1024, timeoutMs: 120_000, maxRedirects: 5 };

/**
 * How far the network may run ahead of the disk before the response is paused. Large, because
 * undici 7 fails a response paused at its very end when the server closes the connection
 * (contained-socket.ts): what arrives after the event loop was held for seconds (the kernel's
 * socket buffers, a few MB) fits, so that pause does not come.
 */
const RUN_AHEAD_BYTES = 16 * 1024 * 1024;

export class FetchError extends Error {
  /** The HTTP client failed, not the server or the source (worth one more try). */
  readonly clientFailure: boolean;

  constructor(
    readonly url: string,
    readonly reason: string,
    options: { clientFailure?: boolean } = {},
  ) {
    super(`${url}: ${reason}`);
    this.name = 'FetchError';
    this.clientFailure = options.clientFailure ?? false;
  }
}

/** Downloads `url` into `storeDir`, named by the SHA-256 of its bytes; returns that path and digest. */
export async function fetchToStore(
  url: string,
  storeDir: string,
  limits: FetchLimits = {},
  signal?: AbortSignal,
): Promise<{ path: string; digest: string; bytes: number }> {
  const { timeoutMs } = { ...FETCH_DEFAULTS, ...limits };
  const deadline = AbortSignal.timeout(timeoutMs);
  const abort = signal ? AbortSignal.any([signal, deadline]) : deadline;
  const dispatcher = guardedAgent(limits);
  await mkdir(storeDir, { recursive: true });
  const partial = join(storeDir, `.partial-${randomBytes(6).toString('hex')}`);
  const attempt = { url, partial, limits, dispatcher, abort, deadline };
  try {
    // a download the HTTP client itself broke off is tried once more, within the same time limit
    const { digest, bytes, pathname } = await download(attempt).catch((err: unknown) => {
      if (err instanceof FetchError && err.clientFailure) return download(attempt);
      throw err;
    });
    const path = join(storeDir, digest + safeExtension(pathname));
    await rename(partial, path);
    return { path, digest, bytes };
  } finally {
    await rm(partial, { force: true });
    dispatcher.close().catch(() => {});
  }
}

interface Attempt {
  url: string;
  /** The file the bytes are written to. */
  partial: string;
  limits: FetchLimits;
  dispatcher: Dispatcher;
  abort: AbortSignal;
  deadline: AbortSignal;
}

/** One download of `url` into `partial`, redirects followed: its digest, its size and the path it was found at. */
async function download(attempt: Attempt): Promise<{ digest: string; bytes: number; pathname: string }> {
  const { url, partial, limits, dispatcher, abort, deadline } = attempt;
  const { maxBytes, timeoutMs, maxRedirects } = { ...FETCH_DEFAULTS, ...limits };
  const failure = (err: Error) =>
    new FetchError(url, deadline.aborted ? `timed out after ${timeoutMs} ms` : describe(err), {
      clientFailure: err instanceof SocketListenerError,
    });
  let current = new URL(url);
  for (let hop = 0; ; hop++) {
    checkUrl(current, limits, url);
    const res = await request(current, {
      method: 'GET',
      dispatcher,
      signal: abort,
      headersTimeout: timeoutMs,
      highWaterMark: RUN_AHEAD_BYTES,
    }).catch((err: Error) => {
      throw failure(err);
    });
    if (res.statusCode >= 300 && res.statusCode < 400 && res.headers.location) {
      discard(res.body);
      if (hop >= maxRedirects) throw new FetchError(url, `more than ${maxRedirects} redirects`);
      const next = new URL(String(res.headers.location), current);
      if (next.protocol !== current.protocol)
        throw new FetchError(url, `redirect to a different scheme (${next.protocol}) refused`);
      current = next;
      continue;
    }
    if (res.statusCode !== 200) {
      discard(res.body);
      throw new FetchError(url, `HTTP ${res.statusCode}`);
    }
    const declared = Number(res.headers['content-length']);
    if (declared > maxBytes) {
      res.body.destroy();
      throw new FetchError(url, `larger than the ${maxBytes}-byte limit`);
    }
    const hash = createHash('sha256');
    let bytes = 0;
    const file = createWriteStream(partial);
    // a full disk or a vanished folder fails this fetch, not the process
    let diskError: Error | undefined;
    file.on('error', (err) => (diskError = err));
    try {
      for await (const chunk of res.body) {
        bytes += (chunk as Buffer).length;
        if (bytes > maxBytes) throw new FetchError(url, `larger than the ${maxBytes}-byte limit`);
        hash.update(chunk as Buffer);
        // a file that failed between writes is destroyed: it would never drain
        if (diskError || file.destroyed) throw diskError ?? new Error('the file was closed');
        // once() takes its 'error' listener off again when 'drain' comes (and rejects on an error meanwhile)
        if (!file.write(chunk)) await once(file, 'drain');
      }
    } catch (err) {
      res.body.destroy();
      if (err instanceof FetchError) throw err;
      if (diskError) throw new FetchError(url, `cannot be stored: ${withoutPath(diskError)}`);
      throw failure(err as Error);
    } finally {
      await new Promise<void>((r) => (diskError ? r() : file.end(() => r())));
    }
    if (diskError) throw new FetchError(url, `cannot be stored: ${withoutPath(diskError as Error)}`);
    if (bytes === 0) throw new FetchError(url, 'the response was empty');
    return { digest: hash.digest('hex'), bytes, pathname: current.pathname };
  }
}

/** Reads a body nobody wants to its end (at most undici's dump limit), its errors ignored: a body erroring unheard would end the process. */
function discard(body: Dispatcher.ResponseData['body']): void {
  body.dump().catch(() => {});
}

function checkUrl(url: URL, policy: NetworkPolicy, original: string) {
  const refusal = urlRefusal(url, policy);
  if (refusal) throw new FetchError(original, refusal);
}

export function describe(err: Error): string {
  const cause = (err as { cause?: Error }).cause;
  const code = (err as { code?: string }).code ?? (cause as { code?: string } | undefined)?.code;
  return [cause?.message ?? err.message, code].filter(Boolean).join(' ');
}

/** A file system error without the path it names ("ENOSPC: no space left on device, write '/data/...'"). */
function withoutPath(err: Error): string {
  return err.message.split(', ')[0];
}

function safeExtension(pathname: string): string {
  const ext = extname(pathname).toLowerCase();
  return /^\.[a-z0-9]{1,5}$/.test(ext) ? ext : '';
}
