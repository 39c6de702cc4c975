// One frame of a movie as a PNG, composed by the same graph the video uses.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { frameAt, frameSeconds, type NormalizedMovie } from '../movie/index.ts';
import {
  DEFAULT_SOURCE_DIR,
  failureIn,
  runFfmpeg,
  SourceStore,
  writeAtomically,
  type FetchLimits,
} from '../media/index.ts';
import { DEFAULT_ENCODER } from './encoder.ts';
import { planMovie } from './plan.ts';
import { inputNames } from './render-scene.ts';
import { compileFrame } from './scene-graph.ts';
import { DEFAULT_TIME_LIMITS, frameLimits } from './time-limits.ts';

export interface FrameOptions {
  /** Seconds into the movie; the frame shown at that moment. */
  at: number;
  output: string;
  sourceDir?: string;
  fetch?: FetchLimits;
  signal?: AbortSignal;
}

export async function renderFrame(
  movie: NormalizedMovie,
  options: FrameOptions,
): Promise<{ path: string; frame: number; sceneId: string }> {
  const frame = frameAt(options.at, movie.fps);
  if (!(frame >= 0 && frame < movie.frames)) {
    const end = frameSeconds(movie.frames, movie.fps);
    throw new RangeError(`--at ${options.at} is outside the movie (0 to ${end.toFixed(3)} s)`);
  }
  const scene = movie.scenes.findLast((s) => s.offset <= frame)!;
  const workDir = await mkdtemp(join(tmpdir(), 'reelsmith-frame-'));
  try {
    const store = new SourceStore(options.sourceDir ?? DEFAULT_SOURCE_DIR, options.fetch);
    const only = { ...movie, scenes: [scene] };
    const [plan] = (await planMovie(only, { store, workDir, encoder: DEFAULT_ENCODER, signal: options.signal })).scenes;
    await writeAtomically(options.output, (partial) =>
      runFfmpeg(compileFrame(plan, frame - scene.offset, movie, partial), {
        signal: options.signal,
        limits: frameLimits(DEFAULT_TIME_LIMITS),
        names: inputNames(plan),
      }).catch(failureIn(`frame ${frame} of scene "${scene.id}" (movie.scenes[${scene.index}])`)),
    );
    return { path: options.output, frame, sceneId: scene.id };
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}
