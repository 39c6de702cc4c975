// A refusal of the user's input (a usage problem, an invalid movie): exit code 2, with the
// movie's problems listed when there are any.
import type { ProblemReport } from '../movie/problems.ts';

export class CliError extends Error {
  constructor(
    message: string,
    /** An invalid movie's problems (the first ones, and how many there are). */
    readonly report?: ProblemReport,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** A command that ran and failed (a check, a job): exit code 1. */
export class CommandFailed extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CommandFailed';
  }
}
