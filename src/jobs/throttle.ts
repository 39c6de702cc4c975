// Progress is written at most every PROGRESS_EVERY_MS (a job's events, a scene task's frames):
// often enough to look live, rarely enough not to load the database.

/** Progress is written at most this often; phase changes always. */
export const PROGRESS_EVERY_MS = 500;

/** Calls `fn` at most every PROGRESS_EVERY_MS, trailing call included; `cancel` drops a pending one. */
export function throttle(fn: () => Promise<void>) {
  let last = 0;
  let timer: NodeJS.Timeout | undefined;
  const run = () => {
    timer = undefined;
    last = Date.now();
    return fn();
  };
  const call = () => {
    if (timer) return;
    const wait = Math.max(0, last + PROGRESS_EVERY_MS - Date.now());
    timer = setTimeout(run, wait);
  };
  call.cancel = () => {
    clearTimeout(timer);
    timer = undefined;
  };
  return call;
}
