// The CLI renders in the system's temporary folder (TMPDIR). When that folder fails a render,
// the error says which folder it was and how to choose another, never the names we made in it.
import { tmpdir } from 'node:os';
import { dirname } from 'node:path';
import { isDiskFull } from '../media/disk-full.ts';

/** Rethrows a render's error with the work folder explained; `output` is the file being written. */
export function explainWorkFolder(output: string): (err: unknown) => never {
  return (err) => {
    const e = err as NodeJS.ErrnoException;
    if (e instanceof Error && e.syscall === 'mkdtemp' && e.path)
      e.message = `cannot make a work folder in ${dirname(e.path)} (${e.message.split(', ')[0]}): set TMPDIR to a folder this user can write`;
    else if (e instanceof Error && isDiskFull(e))
      e.message += ` (work files go to ${tmpdir()}, which TMPDIR changes; the output to ${dirname(output)})`;
    throw e;
  };
}
