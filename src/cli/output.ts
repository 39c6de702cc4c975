// What a command prints: lines for people, or with --json one JSON document per line on
// stdout for scripts. Errors too: with --json a failure is `{"error": {...}}` on stdout,
// with the same exit code, so a script reads one thing whatever happened.
import { CommanderError, Option } from 'commander';
import { CliError } from './cli-error.ts';
import { EXIT } from './exit-codes.ts';
import { formatProblem } from '../movie/problems.ts';

/** The `--json` every command has. */
export function jsonOption(what = 'the result'): Option {
  return new Option('--json', `print ${what} as JSON on stdout (errors too)`);
}

/** Prints a command's result: `value` as one line of JSON with --json, else `text` for people. */
export function print(opts: { json?: boolean }, value: unknown, text: string): void {
  console.log(opts.json ? JSON.stringify(value) : text);
}

/**
 * Whether the command line asks for JSON. Read from the arguments themselves, so that a
 * mistake commander finds while parsing them is reported as JSON too.
 */
export function jsonRequested(args: readonly string[]): boolean {
  const end = args.indexOf('--');
  return (end === -1 ? args : args.slice(0, end)).includes('--json');
}

/** The error a command ended with, as JSON: its exit code by name and number, its message, an invalid movie's problems. */
export function errorJson(err: Error, exitCode: number): { error: Record<string, unknown> } {
  const code = Object.keys(EXIT).find((name) => EXIT[name as keyof typeof EXIT] === exitCode) ?? 'failed';
  // commander's messages start with its own "error: "
  const message = err instanceof CommanderError ? err.message.replace(/^error: /, '') : err.message;
  const report = err instanceof CliError ? err.report : undefined;
  return { error: { code, exitCode, message, ...report } };
}

/** Reports the error a command ended with (commander has printed its own already, unless JSON was asked for). */
export function reportError(err: Error, exitCode: number, json: boolean): void {
  if (exitCode === EXIT.ok) return; // --help, --version
  if (json) print({ json }, errorJson(err, exitCode), '');
  else if (!(err instanceof CommanderError)) {
    console.error(`error: ${err.message}`);
    for (const p of (err instanceof CliError && err.report?.problems) || []) console.error(`  ${formatProblem(p)}`);
  }
}
