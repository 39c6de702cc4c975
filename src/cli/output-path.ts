// The file a command is asked to write, checked before any work: its extension says the
// format we write, and its folder exists and is writable, so a long render never ends in
// "cannot write" (or an MP4 named out.txt).
import { accessSync, constants, statSync } from 'node:fs';
import { dirname, extname, resolve } from 'node:path';
import { CliError } from './cli-error.ts';

/** The absolute path to write; throws CliError naming the path as the user gave it. */
export function checkedOutput(given: string, extension: '.mp4' | '.png'): string {
  const path = resolve(given);
  if (extname(path).toLowerCase() !== extension)
    throw new CliError(
      `-o ${given}: the output is ${extension === '.mp4' ? 'an MP4' : 'a PNG'}, so its name must end in ${extension}`,
    );
  const folder = dirname(path);
  let isFolder = false;
  try {
    isFolder = statSync(folder).isDirectory();
  } catch {
    throw new CliError(`-o ${given}: the folder ${dirname(given)} does not exist (create it first)`);
  }
  if (!isFolder) throw new CliError(`-o ${given}: ${dirname(given)} is not a folder`);
  try {
    accessSync(folder, constants.W_OK);
  } catch {
    throw new CliError(`-o ${given}: the folder ${dirname(given)} is not writable by this user`);
  }
  if (statSync(path, { throwIfNoEntry: false })?.isDirectory()) throw new CliError(`-o ${given}: is a folder`);
  return path;
}
