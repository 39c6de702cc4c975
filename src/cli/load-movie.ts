// Reading a movie file for the CLI: a bare Movie or a whole render request, checked by the
// API's own checks (src/jobs/render-request.ts), so `validate`, `render`, `frame` and the
// API agree on every file. Local sources are read relative to the file.
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { CliError } from './cli-error.ts';
import { namePaths } from '../media/ffmpeg-message.ts';
import { isRenderRequest, type RenderRequestOptions, requestProblems } from '../jobs/render-request.ts';
import {
  collectProblems,
  type Movie,
  movieProblems,
  type NormalizedMovie,
  normalizeMovie,
  summarizeProblems,
} from '../movie/index.ts';

export interface MovieFile {
  movie: NormalizedMovie;
  /** The request's renderOptions ({} for a bare Movie). */
  renderOptions: RenderRequestOptions;
  /** Each local file the movie reads, by the name it was given in the file (absolute path -> as written). */
  givenPaths: Map<string, string>;
}

/** The movie in a file, or a CliError (exit 2) naming the file and listing every problem. */
export async function loadMovieFile(path: string): Promise<MovieFile> {
  const json = await readJson(path);
  const request = isRenderRequest(json);
  const policy = { allowLocalFiles: true, projectRequired: false };
  const report = collectProblems(request ? requestProblems(json, policy) : movieProblems(json, policy));
  if (report.total > 0) throw new CliError(`${path} is not valid: ${summarizeProblems(report)}`, report);
  const raw = (request ? json.movie : json) as Movie;
  const movie = normalizeMovie(raw, { allowLocalFiles: true, baseDir: dirname(resolve(path)) });
  return {
    movie,
    renderOptions: (request ? (json.renderOptions as RenderRequestOptions) : undefined) ?? {},
    givenPaths: givenPaths(raw, movie),
  };
}

async function readJson(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CliError(`cannot read ${path}: ${code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new CliError(`${path} is not valid JSON: ${(err as Error).message}`);
  }
}

/** Local sources and fonts as resolved, each to the words the file gave for it, so errors say what the user wrote. */
function givenPaths(raw: Movie, movie: NormalizedMovie): Map<string, string> {
  const given = new Map<string, string>();
  for (const scene of movie.scenes)
    for (const layer of scene.layers) {
      const written = raw.scenes[scene.index].layers?.[layer.index];
      if (!written) continue;
      if ('source' in layer && written.source !== undefined && layer.source !== written.source)
        given.set(layer.source, written.source);
      if ('fontUrl' in layer && layer.fontUrl !== undefined && layer.fontUrl !== written.fontUrl)
        given.set(layer.fontUrl, written.fontUrl!);
    }
  return given;
}

/** Rethrows an error of the render with each local file called what the movie file calls it. */
export function inUsersWords(given: ReadonlyMap<string, string>): (err: unknown) => never {
  return (err) => {
    if (err instanceof Error) err.message = namePaths(err.message, given);
    throw err;
  };
}
