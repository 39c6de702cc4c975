// Secrets at rest: the data folder holds every project's webhook secret (in SQLite), the key
// that signs output URLs and every tenant's media, so only its owner may read any of it:
// folders 0700, files 0600. A process that works on a data folder makes everything private
// from the start (its umask also covers what SQLite and ffmpeg create), and `keepPrivate`
// fixes what an older release, or another umask, left readable.
import { chmod, lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';

const PRIVATE_FOLDER_MODE = 0o700;
const PRIVATE_FILE_MODE = 0o600;
/** The umask that gives files and folders the modes above. */
const PRIVATE_UMASK = 0o077;

/** From now on, everything this process (and its children) creates is its owner's only. */
export function createPrivately(): void {
  process.umask(PRIVATE_UMASK);
}

/** Makes the folder and everything under it private (symbolic links are left alone, never followed). */
export async function keepPrivate(path: string): Promise<void> {
  const info = await lstat(path).catch(() => undefined);
  if (info?.isDirectory()) {
    await chmod(path, PRIVATE_FOLDER_MODE);
    for (const name of await readdir(path)) await keepPrivate(join(path, name));
  } else if (info?.isFile()) {
    await chmod(path, PRIVATE_FILE_MODE);
  }
}
