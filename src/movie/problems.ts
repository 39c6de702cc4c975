// A problem with a movie: where (a JSON path such as movie.scenes[1].layers[0].duration)
// and what, in a plain sentence. A report lists a bounded number of them and counts the rest,
// so a body full of mistakes costs bounded work and a bounded answer.

export interface Problem {
  path: string;
  message: string;
}

/** At most this many problems are listed; counting the rest stops at `counted`. */
export const PROBLEM_CAPS = { listed: 100, counted: 1_000 } as const;

export interface ProblemReport {
  /** The first PROBLEM_CAPS.listed problems, in document order. */
  problems: Problem[];
  /** How many problems there are (all of them, listed or not). */
  total: number;
  /** Counting stopped at PROBLEM_CAPS.counted: there are more than `total`. */
  countStopped: boolean;
}

export function formatProblem(p: Problem): string {
  return `${p.path}: ${p.message}`;
}

/** "3 problems", or "2,000 problems; the first 100 are listed, and 1,900 more". */
export function summarizeProblems(report: ProblemReport): string {
  const { problems, total, countStopped } = report;
  const count = (n: number) => n.toLocaleString('en-US');
  if (countStopped) return `more than ${count(total)} problems; the first ${problems.length} are listed`;
  if (total <= problems.length) return `${count(total)} problem${total === 1 ? '' : 's'}`;
  return `${count(total)} problems; the first ${problems.length} are listed, and ${count(total - problems.length)} more`;
}

/** How many characters of a user's value a message or path shows. */
const SHOWN = 60;
/** Control characters and lone surrogates: shown as U+FFFD, so messages stay printable text. */
const UNPRINTABLE =
  /[\u0000-\u001f\u007f-\u009f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** A value from the body as a message shows it: quoted, printable, and cut short if long. */
export function quote(value: string): string {
  return `"${shown(value)}"`;
}

/** A value from the body as a message shows it unquoted: printable, and cut short if long. */
export function shown(value: string): string {
  return value.slice(0, SHOWN).replace(UNPRINTABLE, '\uFFFD') + (value.length > SHOWN ? '…' : '');
}

/** The keys a JSON pointer (/scenes/1/layers/0) goes through: scenes, 1, layers, 0. */
export function pointerParts(pointer: string): string[] {
  return pointer
    .split('/')
    .slice(1)
    .map((raw) => raw.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** Turns a JSON pointer (/scenes/1/layers/0) into the path users read (movie.scenes[1].layers[0]). */
export function pointerToPath(pointer: string, root = 'movie'): string {
  let path = root;
  for (const part of pointerParts(pointer)) {
    path += /^\d{1,10}$/.test(part)
      ? `[${part}]`
      : /^[A-Za-z_$][\w$]*$/.test(part) && part.length <= SHOWN
        ? `.${part}`
        : `[${JSON.stringify(shown(part))}]`;
  }
  return path;
}

export class MovieError extends Error {
  constructor(readonly problems: Problem[]) {
    super(`invalid movie:\n${problems.map((p) => `  ${formatProblem(p)}`).join('\n')}`);
    this.name = 'MovieError';
  }
}
