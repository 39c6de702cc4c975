// Reading a movie file for the CLI: either a bare Movie or a whole render request
// ({ kind: "movie", movie, renderOptions }), local sources relative to the file.
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { CliError } from './cli-error.ts';
import {
  normalizeMovie,
  summarizeProblems,
  validateMovie,
  type NormalizedMovie,
  type ProblemReport,
} from '../movie/index.ts';

export interface RenderOptionsInFile {
  qualityPreset?: 'stable' | 'balanced' | 'fast' | 'turbo';
  requestedConcurrency?: number;
}

export interface MovieFile {
  raw: unknown;
  renderOptions: RenderOptionsInFile;
  baseDir: string;
}

export async function readMovieFile(path: string): Promise<MovieFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new CliError(
      `cannot read ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new CliError(`${path} is not valid JSON: ${(err as Error).message}`);
  }
  const isRequest = typeof json === 'object' && json !== null && 'kind' in json && 'movie' in json;
  const body = json as { movie?: unknown; renderOptions?: RenderOptionsInFile };
  return {
    raw: isRequest ? body.movie : json,
    renderOptions: (isRequest && body.renderOptions) || {},
    baseDir: dirname(resolve(path)),
  };
}

export function checkMovieFile(file: MovieFile): ProblemReport {
  return validateMovie(file.raw, { allowLocalFiles: true });
}

export function loadMovie(file: MovieFile): NormalizedMovie {
  const report = checkMovieFile(file);
  if (report.total > 0) {
    const unlisted = report.total > report.problems.length ? `: ${summarizeProblems(report)}` : '';
    throw new CliError(`the movie is not valid${unlisted}`, report.problems);
  }
  return normalizeMovie(file.raw, { allowLocalFiles: true, baseDir: file.baseDir });
}
