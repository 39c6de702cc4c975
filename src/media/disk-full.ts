// A full disk is never the user's media's fault: every reader that blames a source asks
// this first, and the service answers it with INSUFFICIENT_STORAGE.

/** True when `err` (or what caused it) is a full disk or an exhausted quota. */
export function isDiskFull(err: unknown): boolean {
  for (let e = err; e instanceof Error; e = e.cause) {
    const { code, stderr } = e as Error & { code?: unknown; stderr?: unknown };
    if (code === 'ENOSPC' || code === 'EDQUOT' || code === 'SQLITE_FULL') return true;
    if (DISK_FULL_TEXT.test(e.message) || (typeof stderr === 'string' && DISK_FULL_TEXT.test(stderr))) return true;
  }
  return false;
}

/** How ffmpeg (strerror) and SQLite word it. */
const DISK_FULL_TEXT = /No space left on device|Disk quota exceeded|database or disk is full/i;
