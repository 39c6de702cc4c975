// The CLI's exit codes, one home for each: scripts and CI tell outcomes apart by them.
import { CommanderError } from 'commander';
import { CliError } from './cli-error.ts';

export const EXIT = {
  /** The command did what was asked. */
  ok: 0,
  /** The work failed: a render (a source unavailable, ffmpeg failed, a timeout) or another command's. */
  failed: 1,
  /** A usage problem or an invalid movie: nothing was attempted. */
  usage: 2,
  /** Interrupted by Ctrl-C (SIGINT) or SIGTERM: work stopped and temporary files removed. */
  interrupted: 130,
} as const;

/** The exit code for an error a command ended with. */
export function exitCodeOf(err: unknown, interrupted: boolean): number {
  if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
  if (err instanceof CliError) return EXIT.usage;
  if (interrupted) return EXIT.interrupted;
  return EXIT.failed;
}
