// A store write that must not be lost (a job's end): tried again with backoff until it
// succeeds, because a job left `running` in the store with nobody working on it holds its
// reserved minutes and counts as active forever.

/** Milliseconds to wait before try `attempt + 1`: 250 ms, doubling, at most 10 s. */
import type { Logger } from 'pino';
export function retryDelayMs(attempt: number): number {
  return Math.min(10_000, 250 * 2 ** attempt);
}

/**
 * Runs `write` until it succeeds. Once `signal` aborts (the server stops, the job is cancelled)
 * the last error is thrown instead of waiting again; so is an error `retryable` refuses.
 */
export async function untilStored<T>(
  write: () => Promise<T>,
  signal: AbortSignal,
  onRetry: (err: unknown, waitMs: number) => void,
  retryable: (err: unknown) => boolean = () => true,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await write();
    } catch (err) {
      if (signal.aborted || !retryable(err)) throw err;
      const wait = retryDelayMs(attempt);
      onRetry(err, wait);
      await sleep(wait, signal);
    }
  }
}

/** The `onRetry` that logs each failed try: `job <id>: cannot record <what> (<error>); trying again in N s`. */
export function logRetry(log: Logger, jobId: string, what: string): (err: unknown, waitMs: number) => void {
  return (err, waitMs) =>
    log.warn(
      { jobId, error: (err as Error).message, retryInSeconds: waitMs / 1000 },
      `cannot record ${what}; trying again`,
    );
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
