// Outputs appear whole or not at all: written under a hidden temporary name in the same
// folder, renamed when complete, removed on any failure or cancel.
import { randomBytes } from 'node:crypto';
import { rename, rm } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';

export async function writeAtomically(output: string, write: (partial: string) => Promise<void>): Promise<void> {
  const partial = join(
    dirname(output),
    `.${basename(output, extname(output))}.${randomBytes(6).toString('hex')}.partial${extname(output)}`,
  );
  try {
    await write(partial);
    await rename(partial, output);
  } finally {
    await rm(partial, { force: true });
  }
}
