// The engine's one entry point for a whole movie: a normalised Movie in, an MP4 out.
// Plans, renders the scenes (and the audio mix) in parallel, assembles by stream copy.
// Knows nothing of HTTP, databases or tenants; the service composes the same steps.
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NormalizedMovie } from '../movie/index.ts';
import { AbortedError, SourceStore, type FetchLimits } from '../media/index.ts';
import { assemble } from './assemble.ts';
import { renderAudio } from './audio-mix.ts';
import { DEFAULT_ENCODER, type EncoderProfile } from './encoder.ts';
import { planMovie } from './plan.ts';
import { progressOf, type RenderPhase, type RenderProgress } from './progress.ts';
import { renderScene } from './render-scene.ts';
import { runPool, sceneWorkers, threadsPerProcess } from './workers.ts';

export interface RenderOptions {
  /** Where the MP4 goes; written under a temporary name and renamed when complete. */
  output: string;
  /** Scenes rendered at once (default 3, the balanced preset). */
  concurrency?: number;
  encoder?: EncoderProfile;
  signal?: AbortSignal;
  onProgress?: (progress: RenderProgress) => void;
  /** Content-addressed store for fetched sources (default: the OS temp folder). */
  sourceDir?: string;
  fetch?: FetchLimits;
  /** CPU cores to share among workers (default: all of this machine's). */
  cores?: number;
}

export interface MediaData {
  duration: number;
  width: number;
  height: number;
  fps: number;
  frames: number;
  bytes: number;
}

export interface RenderResult {
  path: string;
  mediaData: MediaData;
  /** Seconds spent in each phase. */
  timings: Record<'planning' | 'rendering' | 'assembling', number>;
}

export async function renderMovie(movie: NormalizedMovie, options: RenderOptions): Promise<RenderResult> {
  const encoder = options.encoder ?? DEFAULT_ENCODER;
  // aborted when the caller cancels, and on any failure or exit, so no sibling work outlives the call
  const stop = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
  const workDir = await mkdtemp(join(tmpdir(), 'reelsmith-render-'));
  const report = progressReporter(movie, options.onProgress);
  const timings = { planning: 0, rendering: 0, assembling: 0 };
  let started = performance.now();
  const lap = (phase: keyof typeof timings) => {
    timings[phase] = (performance.now() - started) / 1000;
    started = performance.now();
  };

  try {
    report('planning', 0, 0);
    const store = new SourceStore(options.sourceDir ?? join(tmpdir(), 'reelsmith-sources'), options.fetch);
    const plan = await planMovie(movie, { store, workDir, encoder, signal });
    lap('planning');

    const workers = options.concurrency ?? sceneWorkers();
    // the audio mix is light: only scene encodes share the cores
    const threads = threadsPerProcess(options.cores ?? availableParallelism(), Math.min(workers, plan.scenes.length));
    const encoded = new Array<number>(plan.scenes.length).fill(0);
    let scenesDone = 0;
    const update = () => report('rendering', scenesDone, encoded.reduce((a, b) => a + b, 0));
    update();
    const audioPath = join(workDir, 'audio.m4a');
    const sceneTasks = plan.scenes.map((scenePlan, i) => async () => {
      const dir = join(workDir, `scene-${i}`);
      await mkdir(dir);
      const names = await renderScene(scenePlan, movie, dir, {
        encoder,
        threads,
        signal,
        onFrames: (frames) => {
          encoded[i] = frames;
          update();
        },
      });
      scenesDone++;
      update();
      return names.map((name) => join(dir, name));
    });
    // the audio mix runs beside the scene workers, not in one of their places
    const [sceneChunks] = await Promise.all([
      runPool(sceneTasks, workers, () => stop.abort()),
      renderAudio(plan.audio, movie.frames, movie.fps, audioPath, signal).catch((err) => {
        stop.abort();
        throw err;
      }),
    ]);
    const chunks = sceneChunks.flat();
    lap('rendering');

    report('assembling', movie.scenes.length, movie.frames);
    await assemble(chunks, audioPath, options.output, workDir, signal);
    lap('assembling');
    const bytes = (await stat(options.output)).size;
    report('done', movie.scenes.length, movie.frames);
    return {
      path: options.output,
      mediaData: { duration: movie.frames / movie.fps, width: movie.width, height: movie.height, fps: movie.fps, frames: movie.frames, bytes },
      timings,
    };
  } catch (err) {
    if (options.signal?.aborted) throw new AbortedError();
    throw err;
  } finally {
    stop.abort();
    await rm(workDir, { recursive: true, force: true });
  }
}

/** Turns phase + counts into RenderProgress callbacks whose progress never goes backwards. */
function progressReporter(movie: NormalizedMovie, onProgress?: (p: RenderProgress) => void) {
  let highest = 0;
  return (phase: RenderPhase, scenesDone: number, framesDone: number) => {
    highest = Math.max(highest, progressOf(phase, framesDone, movie.frames));
    onProgress?.({ phase, progress: highest, scenesDone, scenesTotal: movie.scenes.length, framesDone, framesTotal: movie.frames });
  };
}
