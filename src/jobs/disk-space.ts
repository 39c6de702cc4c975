// A full disk: the service takes no new job while the data folder's disk is nearly full, and
// tells a full disk apart from other failures (ffmpeg, the file system and SQLite each say it
// their own way), so the job ends with INSUFFICIENT_STORAGE rather than a render error.
import { statfs } from 'node:fs/promises';
import { ServiceError } from './errors.ts';

/** Free space a data folder's disk keeps for the jobs already running; below it, submits are refused. */
export const DEFAULT_MIN_FREE_BYTES = 256 * 1024 * 1024;

/** Messages a tenant may see: they name no path and no amount of our disk. */
const DISK_FULL_AT_SUBMIT =
  'The server is out of disk space and takes no new jobs for now; nothing was saved. Try again later.';
export const DISK_FULL_WHILE_RENDERING =
  'The server ran out of disk space while working on this job; its reserved minutes were returned. Submit it again later.';

/** A job refused because the disk is (nearly) full (the API answers 507); `cause`: the write that hit it. */
export function storageFull(cause?: unknown): ServiceError {
  return new ServiceError('INSUFFICIENT_STORAGE', DISK_FULL_AT_SUBMIT, undefined, { cause });
}

/** Bytes an unprivileged writer can still put on the disk that holds `dir`. */
export async function freeBytes(dir: string): Promise<number> {
  const stats = await statfs(dir);
  return stats.bavail * stats.bsize;
}
