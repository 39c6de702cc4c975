// Measuring one bench movie: its baselines and its render, back to back, a few times.
// Shared 2-core machines vary by tens of percent from one run to the next, so each
// run pairs a baseline with a render (both see the same machine state) and the
// report takes medians; peak memory is the largest of any run.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { normalizeMovie, type NormalizedMovie } from '../src/movie/index.ts';
import { renderMovie, type RenderResult } from '../src/render/index.ts';
import type { BenchAssets } from './assets.ts';
import { encodeFloor, plainTranscode } from './baselines.ts';
import { checkOutput } from './check-output.ts';
import { foreignCpuShare } from './cpu-share.ts';
import type { BenchMovie } from './movies.ts';
import { sampleTreeRss } from './rss.ts';

export interface RenderRun {
  wall: number;
  /** Bytes, node and every ffmpeg summed at the same moment. */
  peakRss: number;
  timings: RenderResult['timings'];
  /** Video frames in the output, and how it differs from the movie (empty: not at all). */
  frames: number;
  problems: string[];
}

export interface Run {
  /** Share of the CPU time that processes outside the bench used during the run. */
  othersCpu: number;
  floorWall: number;
  transcodeWall?: number;
  render?: RenderRun;
  error?: string;
}

export interface Measurement {
  bench: BenchMovie;
  /** Movie length in seconds. */
  seconds: number;
  runs: number;
  /** Medians over the runs. */
  floorWall: number;
  transcodeWall?: number;
  /** Medians of each run's render wall over the baseline it was paired with. */
  floorRatio?: number;
  transcodeRatio?: number;
  /** The median run's render, with the largest peak RSS and every problem of any run; absent when a render failed. */
  render?: RenderRun;
  error?: string;
}

export async function measure(
  bench: BenchMovie,
  assets: BenchAssets,
  dir: string,
  runs: number,
  onRun: (run: Run) => void,
): Promise<Measurement> {
  const movie = normalizeMovie(bench.movie(assets), { allowLocalFiles: true, baseDir: assets.dir });
  const done: Run[] = [];
  for (let i = 0; i < runs; i++) {
    const run = await measureOnce(movie, bench, assets, dir);
    onRun(run);
    done.push(run);
    if (run.error) break; // a failing render fails the same way again
  }
  return summarize(bench, movie, done);
}

async function measureOnce(movie: NormalizedMovie, bench: BenchMovie, assets: BenchAssets, dir: string): Promise<Run> {
  const source = bench.transcodeSource?.(assets);
  const othersCpu = foreignCpuShare();
  const floorWall = await encodeFloor(movie, movie.frames, dir);
  const transcodeWall = source === undefined ? undefined : await plainTranscode(source, movie, movie.frames, dir);
  try {
    const render = await timedRender(movie, join(dir, `${bench.name}.mp4`));
    return { othersCpu: othersCpu(), floorWall, transcodeWall, render };
  } catch (err) {
    return { othersCpu: othersCpu(), floorWall, transcodeWall, error: (err as Error).message };
  }
}

async function timedRender(movie: NormalizedMovie, output: string): Promise<RenderRun> {
  try {
    const rss = sampleTreeRss();
    const started = performance.now();
    // default options on purpose: the balanced preset's workers, as the CLI and service run
    const result = await renderMovie(movie, { output }).finally(() => rss.stop());
    const wall = (performance.now() - started) / 1000;
    const { frames, problems } = await checkOutput(result.path, movie);
    return { wall, peakRss: rss.stop(), timings: result.timings, frames, problems };
  } finally {
    await rm(output, { force: true });
  }
}

function summarize(bench: BenchMovie, movie: NormalizedMovie, runs: Run[]): Measurement {
  const measurement: Measurement = {
    bench,
    seconds: movie.frames / movie.fps,
    runs: runs.length,
    floorWall: median(runs.map((r) => r.floorWall)),
    transcodeWall: runs[0].transcodeWall === undefined ? undefined : median(runs.map((r) => r.transcodeWall!)),
  };
  const failed = runs.find((r) => r.error);
  if (failed) return { ...measurement, error: failed.error };

  const renders = runs.map((r) => r.render!);
  const middle = [...renders].sort((a, b) => a.wall - b.wall)[(renders.length - 1) >> 1];
  const problems = [...new Set(renders.flatMap((r) => r.problems))];
  return {
    ...measurement,
    floorRatio: median(runs.map((r) => r.render!.wall / r.floorWall)),
    transcodeRatio:
      measurement.transcodeWall === undefined ? undefined : median(runs.map((r) => r.render!.wall / r.transcodeWall!)),
    render: { ...middle, peakRss: Math.max(...renders.map((r) => r.peakRss)), problems },
  };
}

/** The middle value (the lower middle one for an even count, so it is a run that happened). */
function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[(sorted.length - 1) >> 1];
}
