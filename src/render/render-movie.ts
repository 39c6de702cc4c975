// The engine's one entry point: a normalised Movie in, an MP4 out. Plans, renders the
// scenes (and the audio mix) in parallel, assembles by stream copy, and writes the file
// atomically. Knows nothing of HTTP, databases or tenants.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rename, rm, stat, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { NormalizedMovie } from '../movie/index.ts';
import { AbortedError, runFfmpeg, SourceStore, type FetchLimits } from '../media/index.ts';
import { compileAudioMix } from './audio-mix.ts';
import { DEFAULT_ENCODER, type EncoderProfile } from './encoder.ts';
import { planMovie, type MoviePlan } from './plan.ts';
import { progressOf, type RenderPhase, type RenderProgress } from './progress.ts';
import { compileScene } from './scene-graph.ts';
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
  const stop = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
  const workDir = await mkdtemp(join(tmpdir(), 'reelsmith-render-'));
  const partial = join(dirname(options.output), `.${randomBytes(6).toString('hex')}.partial.mp4`);
  const report = progressReporter(movie, options.onProgress);
  const timings = { planning: 0, rendering: 0, assembling: 0 };
  const clock = (phase: keyof typeof timings, started: number) => (timings[phase] = (performance.now() - started) / 1000);

  try {
    let started = performance.now();
    report('planning', 0, 0);
    const store = new SourceStore(options.sourceDir ?? join(tmpdir(), 'reelsmith-sources'), options.fetch);
    const plan = await planMovie(movie, { store, workDir, encoder, signal });
    clock('planning', started);

    started = performance.now();
    const playlist = await renderScenes(plan, workDir, encoder, options, signal, report).catch((err) => {
      stop.abort();
      throw err;
    });
    clock('rendering', started);

    started = performance.now();
    report('assembling', movie.scenes.length, movie.frames);
    const list = join(workDir, 'segments.ffconcat');
    await writeFile(list, ['ffconcat version 1.0', ...playlist.map((p) => `file '${p}'`)].join('\n') + '\n');
    await runFfmpeg(
      ['-f', 'concat', '-safe', '0', '-i', `file:${list}`, '-i', `file:${join(workDir, 'audio.m4a')}`,
        '-map', '0:v:0', '-map', '1:a:0', '-c', 'copy', '-movflags', '+faststart', '-f', 'mp4', `file:${partial}`],
      { signal },
    );
    await rename(partial, options.output);
    clock('assembling', started);
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
    await rm(partial, { force: true });
    await rm(workDir, { recursive: true, force: true });
  }
}

/** Renders every scene's chunks and the audio mix; returns the movie's chunk playlist. */
async function renderScenes(
  plan: MoviePlan,
  workDir: string,
  encoder: EncoderProfile,
  options: RenderOptions,
  signal: AbortSignal,
  report: (phase: RenderPhase, scenesDone: number, framesDone: number) => void,
): Promise<string[]> {
  const { movie } = plan;
  const workers = options.concurrency ?? sceneWorkers();
  const threads = threadsPerProcess(options.cores ?? availableParallelism(), Math.min(workers, plan.scenes.length + 1));
  const encoded = new Array<number>(plan.scenes.length).fill(0);
  let scenesDone = 0;
  const update = () => report('rendering', scenesDone, encoded.reduce((a, b) => a + b, 0));
  update();

  const audio = async () => {
    await runFfmpeg(compileAudioMix(plan.audio, movie.frames, movie.fps, join(workDir, 'audio.m4a')), { signal });
    return [] as string[];
  };
  const scenes = plan.scenes.map((scenePlan, i) => async () => {
    const command = compileScene(scenePlan, movie, encoder, threads, (name) => join(workDir, `scene${i}-${name}.mp4`));
    const frames = scenePlan.scene.frames;
    await runFfmpeg(command.args, {
      signal,
      onFrames: (n) => {
        encoded[i] = Math.min(frames, Math.round((n / Math.max(1, command.progressFrames)) * frames));
        update();
      },
    });
    encoded[i] = frames;
    scenesDone++;
    update();
    return command.playlist;
  });
  const results = await runPool([audio, ...scenes], workers);
  return results.flat();
}

/** Turns phase + counts into RenderProgress callbacks whose progress never goes backwards. */
function progressReporter(movie: NormalizedMovie, onProgress?: (p: RenderProgress) => void) {
  let highest = 0;
  return (phase: RenderPhase, scenesDone: number, framesDone: number) => {
    highest = Math.max(highest, progressOf(phase, framesDone, movie.frames));
    onProgress?.({ phase, progress: highest, scenesDone, scenesTotal: movie.scenes.length, framesDone, framesTotal: movie.frames });
  };
}
