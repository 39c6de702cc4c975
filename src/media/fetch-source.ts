// Fetching a source over http(s) into the content-addressed store: connect-time
// address check for every resolved IP, byte and time caps, redirects re-checked.
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { request } from 'undici';
import type { NetworkPolicy } from './address-guard.ts';
import { guardedAgent, urlRefusal } from './guarded-agent.ts';

export interface FetchLimits extends NetworkPolicy {
  maxBytes?: number;
  /** Whole download, milliseconds. */
  timeoutMs?: number;
  maxRedirects?: number;
}

export const FETCH_DEFAULTS = { maxBytes: 1024 * 1024 * 1024, timeoutMs: 120_000, maxRedirects: 5 };

export class FetchError extends Error {
  constructor(
    readonly url: string,
    readonly reason: string,
  ) {
    super(`${url}: ${reason}`);
    this.name = 'FetchError';
  }
}

/** Downloads `url` into `storeDir`, named by the SHA-256 of its bytes; returns that path and digest. */
export async function fetchToStore(
  url: string,
  storeDir: string,
  limits: FetchLimits = {},
  signal?: AbortSignal,
): Promise<{ path: string; digest: string; bytes: number }> {
  const { maxBytes, timeoutMs, maxRedirects } = { ...FETCH_DEFAULTS, ...limits };
  const deadline = AbortSignal.timeout(timeoutMs);
  const abort = signal ? AbortSignal.any([signal, deadline]) : deadline;
  const dispatcher = guardedAgent(limits);
  await mkdir(storeDir, { recursive: true });
  const partial = join(storeDir, `.partial-${randomBytes(6).toString('hex')}`);
  try {
    let current = new URL(url);
    for (let hop = 0; ; hop++) {
      checkUrl(current, limits, url);
      const res = await request(current, { method: 'GET', dispatcher, signal: abort, headersTimeout: timeoutMs }).catch(
        (err: Error) => {
          throw new FetchError(url, deadline.aborted ? `timed out after ${timeoutMs} ms` : describe(err));
        },
      );
      if (res.statusCode >= 300 && res.statusCode < 400 && res.headers.location) {
        res.body.resume();
        if (hop >= maxRedirects) throw new FetchError(url, `more than ${maxRedirects} redirects`);
        const next = new URL(String(res.headers.location), current);
        if (next.protocol !== current.protocol)
          throw new FetchError(url, `redirect to a different scheme (${next.protocol}) refused`);
        current = next;
        continue;
      }
      if (res.statusCode !== 200) {
        res.body.resume();
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
      const written = () =>
        new Promise<void>((resolve, reject) => {
          if (diskError) return reject(diskError);
          file.once('drain', resolve).once('error', reject);
        });
      try {
        for await (const chunk of res.body) {
          bytes += (chunk as Buffer).length;
          if (bytes > maxBytes) throw new FetchError(url, `larger than the ${maxBytes}-byte limit`);
          hash.update(chunk as Buffer);
          if (!file.write(chunk)) await written();
        }
      } catch (err) {
        res.body.destroy();
        if (err instanceof FetchError) throw err;
        if (diskError) throw new FetchError(url, `cannot be stored: ${withoutPath(diskError)}`);
        throw new FetchError(url, deadline.aborted ? `timed out after ${timeoutMs} ms` : describe(err as Error));
      } finally {
        await new Promise<void>((r) => (diskError ? r() : file.end(() => r())));
      }
      if (diskError) throw new FetchError(url, `cannot be stored: ${withoutPath(diskError as Error)}`);
      if (bytes === 0) throw new FetchError(url, 'the response was empty');
      const digest = hash.digest('hex');
      const path = join(storeDir, digest + safeExtension(current.pathname));
      await rename(partial, path);
      return { path, digest, bytes };
    }
  } finally {
    await rm(partial, { force: true });
    dispatcher.close().catch(() => {});
  }
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
