// A problem with a movie: where (a JSON path such as movie.scenes[1].layers[0].duration)
// and what, in a plain sentence.

export interface Problem {
  path: string;
  message: string;
}

export function formatProblem(p: Problem): string {
  return `${p.path}: ${p.message}`;
}

/** Turns a JSON pointer (/scenes/1/layers/0) into the path users read (movie.scenes[1].layers[0]). */
export function pointerToPath(pointer: string, root = 'movie'): string {
  let path = root;
  for (const raw of pointer.split('/').slice(1)) {
    const part = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    path += /^\d+$/.test(part) ? `[${part}]` : /^[A-Za-z_$][\w$]*$/.test(part) ? `.${part}` : `[${JSON.stringify(part)}]`;
  }
  return path;
}

export class MovieError extends Error {
  constructor(readonly problems: Problem[]) {
    super(`invalid movie:\n${problems.map((p) => `  ${formatProblem(p)}`).join('\n')}`);
    this.name = 'MovieError';
  }
}
