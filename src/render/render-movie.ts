// The engine's one entry point: a normalised Movie in, an MP4 out. The CLI's `render`
// and the service's jobs both call it. It plans (fetch, probe, rasterize), looks each
// scene up in a scene store, renders the others in a pool of scene workers while the
// audio is mixed, assembles, and reads the finished file back to check it is the movie
// planned (what it returns of the file comes from that reading). Knows nothing of HTTP, databases or
// tenants: the service brings its shared pool, its per-project scene cache and (distributed
// mode) a dispatch that spreads scenes over machines as options. `scenesOnly` renders the
// scenes into the store and stops there: another machine's share of a movie.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NormalizedMovie } from '../movie/index.ts';
import { AbortedError, DEFAULT_SOURCE_DIR, SourceStore, type FetchLimits } from '../media/index.ts';
import { assemble } from './assemble.ts';
import { renderAudio } from './audio-mix.ts';
import { DEFAULT_ENCODER, type EncoderProfile } from './encoder.ts';
import { planMovie, planSound, type ScenePlan } from './plan.ts';
import { progressOf, type RenderPhase, type RenderProgress } from './progress.ts';
import { renderScene } from './render-scene.ts';
import { type SceneDispatch, sceneChunks } from './scene-dispatch.ts';
import { ScenePool } from './scene-pool.ts';
import { DEFAULT_TIME_LIMITS, type TimeLimits } from './time-limits.ts';
import { verifyOutput, type MediaData } from './verify-output.ts';
import { WorkBudget } from './work-budget.ts';
import { encodersAtOnce, sceneWorkers, threadsPerProcess } from './workers.ts';

/** Where rendered scenes are kept, by cache key; the service keeps them per project. */
export interface SceneStore {
  /** The chunk files of a scene rendered before under `key`, in play order. */
  get(key: string): Promise<string[] | undefined>;
  /** An empty folder to render a scene into. */
  workspace(): Promise<string>;
  /** Keeps a rendered scene; returns its chunk files, in play order. */
  commit(key: string, workspace: string, names: string[]): Promise<string[]>;
  discard(workspace: string): Promise<void>;
}

export type SceneState = 'cached' | 'queued' | 'rendering' | 'done';

export interface RenderOptions {
  /** Where the MP4 goes; written under a temporary name and renamed when complete. */
  output: string;
  /** Scenes rendered at once (default 3, the balanced preset). */
  concurrency?: number;
  encoder?: EncoderProfile;
  signal?: AbortSignal;
  onProgress?: (progress: RenderProgress) => void;
  /** Each scene's state as it changes, with its cache key. */
  onScene?: (index: number, state: SceneState, key: string) => void;
  /** Content-addressed store for fetched sources (default: the OS temp folder). */
  sourceDir?: string;
  fetch?: FetchLimits;
  /** CPU cores to share among workers (default: all of this machine's). */
  cores?: number;
  /** A pool shared with other renders, this render's name in it and whose it is (default: a pool of its own). */
  pool?: { pool: ScenePool; owner: string; tenant?: string };
  /** Keeps rendered scenes across renders (default: none, scenes live in the render's work folder). */
  scenes?: SceneStore;
  /** How long each ffmpeg may run (default DEFAULT_TIME_LIMITS, any of them overridden). */
  limits?: Partial<TimeLimits>;
  /** Folder the render's temporary work folder is made in (default: the OS temp folder); the service sweeps its own at start. */
  workRoot?: string;
  /** Scenes shared with other machines (default: every scene rendered here). */
  dispatch?: SceneDispatch;
  /** The disk the render's work files may take (default DEFAULT_WORK_DISK_BYTES). */
  workDiskBytes?: number;
}

/** Only the scenes, into the store: no sound, no assembly, no output file. */
export type ScenesOnlyOptions = Omit<RenderOptions, 'output'> & { scenesOnly: true };

export interface RenderResult {
  path: string;
  /** The output as read back from the file. */
  mediaData: MediaData;
  /** Seconds spent in each phase. */
  timings: Record<'planning' | 'rendering' | 'assembling', number>;
  /** What the user should know about the output (a text character no font has), in scene and layer order. */
  warnings: string[];
}

export interface ScenesResult {
  /** Each scene's cache key, in the movie's order: the store has them all. */
  keys: string[];
  timings: Pick<RenderResult['timings'], 'planning' | 'rendering'>;
  warnings: string[];
}

export function renderMovie(movie: NormalizedMovie, options: ScenesOnlyOptions): Promise<ScenesResult>;
export function renderMovie(movie: NormalizedMovie, options: RenderOptions): Promise<RenderResult>;
export async function renderMovie(
  movie: NormalizedMovie,
  options: RenderOptions | ScenesOnlyOptions,
): Promise<RenderResult | ScenesResult> {
  const encoder = options.encoder ?? DEFAULT_ENCODER;
  const limits = { ...DEFAULT_TIME_LIMITS, ...options.limits };
  // aborted when the caller cancels, and on any failure or exit, so no sibling work outlives the call
  const stop = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
  const workDir = await mkdtemp(join(options.workRoot ?? tmpdir(), 'reelsmith-render-'));
  const progress = progressTracker(movie, options.onProgress);
  const timings = { planning: 0, rendering: 0, assembling: 0 };
  let started = performance.now();
  const lap = (phase: keyof typeof timings) => {
    timings[phase] = (performance.now() - started) / 1000;
    started = performance.now();
  };

  try {
    progress.enter('planning');
    const sources = new SourceStore(options.sourceDir ?? DEFAULT_SOURCE_DIR, options.fetch);
    const cores = options.cores ?? availableParallelism();
    const budget = new WorkBudget(options.workDiskBytes);
    const planContext = { store: sources, workDir, encoder, cores, budget, signal };
    // the sound is known once its sources are probed: it is mixed while pictures are fitted
    // and scenes render, and a mix that fails stops the rest
    const audioPath = join(workDir, 'audio.m4a');
    const mixing =
      'scenesOnly' in options
        ? Promise.resolve()
        : renderAudio(await planSound(movie, planContext), movie.frames, movie.fps, audioPath, { limits, signal });
    let mixFailure: { error: unknown } | undefined;
    mixing.catch((error) => {
      mixFailure = { error };
      stop.abort();
    });
    const plan = await planMovie(movie, planContext).catch((err) => {
      stop.abort();
      throw mixFailure ? mixFailure.error : err;
    });
    lap('planning');

    progress.enter('dispatching');
    const store = options.scenes ?? workFolderStore(workDir);
    const chunks: string[][] = [];
    for (const [i, scene] of plan.scenes.entries()) {
      const cached = await store.get(scene.key);
      if (cached) chunks[i] = cached;
      options.onScene?.(i, cached ? 'cached' : 'queued', scene.key);
      if (cached) progress.sceneDone(i, scene.scene.frames);
    }
    const toRender = plan.scenes.map((_, i) => i).filter((i) => !chunks[i]);
    await options.dispatch?.offer(toRender.map((i) => ({ index: i, key: plan.scenes[i].key })));

    progress.enter('waiting');
    const workers = encodersAtOnce(options.concurrency ?? sceneWorkers(), cores, movie);
    const { pool, owner, tenant } = options.pool ?? { pool: new ScenePool(workers), owner: 'movie' };
    // only scene encodes share the cores (the audio mix is light); a shared pool may be full of other renders' scenes
    const sharing = options.pool ? pool.size : Math.min(workers, Math.max(1, toRender.length));
    const threads = threadsPerProcess(cores, sharing);
    const renderOne = async (i: number) => {
      const { key } = plan.scenes[i];
      const rendering = () => {
        progress.enter('rendering');
        options.onScene?.(i, 'rendering', key);
      };
      const onFrames = (frames: number) => progress.frames(i, frames);
      const steps = {
        slot: <T>(task: () => Promise<T>) => pool.run(owner, workers, task, tenant),
        render: () => {
          rendering();
          return renderKept(plan.scenes[i], movie, store, { encoder, threads, limits, signal, onFrames });
        },
        elsewhere: rendering,
        frames: onFrames,
        stored: () => store.get(key),
      };
      chunks[i] = await sceneChunks(i, key, options.dispatch, steps, signal);
      progress.sceneDone(i, plan.scenes[i].scene.frames);
      options.onScene?.(i, 'done', key);
    };
    // the first scene or the audio mix to fail stops the others, so they free their workers at once;
    // the mix runs beside the scene workers, not in one of their places
    await settleAll([...toRender.map(renderOne), mixing], () => stop.abort());
    progress.enter('rendering');
    lap('rendering');
    if ('scenesOnly' in options) {
      progress.enter('done');
      const { planning, rendering } = timings;
      return { keys: plan.scenes.map((s) => s.key), timings: { planning, rendering }, warnings: plan.warnings };
    }

    progress.enter('assembling');
    const scenes = plan.scenes.map((s, i) => ({
      id: s.scene.id,
      index: s.scene.index,
      frames: s.scene.frames,
      chunks: chunks[i],
    }));
    await assemble(scenes, audioPath, options.output, workDir, {
      fps: movie.fps,
      frames: movie.frames,
      limits,
      signal,
    });
    const mediaData = await verifyOutput(options.output, {
      width: movie.width,
      height: movie.height,
      fps: movie.fps,
      frames: movie.frames,
      scenes,
    }).catch(async (err) => {
      await rm(options.output, { force: true });
      throw err;
    });
    lap('assembling');
    progress.enter('done');
    return { path: options.output, mediaData, timings, warnings: plan.warnings };
  } catch (err) {
    if (options.signal?.aborted) throw new AbortedError();
    throw err;
  } finally {
    stop.abort();
    await rm(workDir, { recursive: true, force: true });
  }
}

/** Renders a scene into a workspace of the store and keeps it there. */
async function renderKept(
  plan: ScenePlan,
  movie: NormalizedMovie,
  store: SceneStore,
  options: Parameters<typeof renderScene>[3],
): Promise<string[]> {
  const workspace = await store.workspace();
  try {
    return await store.commit(plan.key, workspace, await renderScene(plan, movie, workspace, options));
  } catch (err) {
    await store.discard(workspace);
    throw err;
  }
}

/** Scenes kept in the render's own work folder, for this render only. */
function workFolderStore(workDir: string): SceneStore {
  let n = 0;
  return {
    get: async () => undefined,
    async workspace() {
      const dir = join(workDir, `scene-${n++}`);
      await mkdir(dir);
      return dir;
    },
    commit: async (_key, workspace, names) => names.map((name) => join(workspace, name)),
    discard: (workspace) => rm(workspace, { recursive: true, force: true }),
  };
}

/**
 * Waits for every task; on the first failure calls `onFailure` (which aborts the rest), then
 * throws that failure rather than the cancellations it caused.
 */
async function settleAll(tasks: Array<Promise<unknown>>, onFailure: () => void): Promise<void> {
  let first: { error: unknown } | undefined;
  const outcomes = await Promise.allSettled(
    tasks.map((task) =>
      task.catch((error) => {
        if (!first && !(error instanceof AbortedError)) {
          first = { error };
          onFailure();
        }
        throw error;
      }),
    ),
  );
  if (first) throw first.error;
  const cancelled = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
  if (cancelled) throw cancelled.reason;
}

/** Phase and frame counts to RenderProgress callbacks whose progress never goes backwards. */
function progressTracker(movie: NormalizedMovie, onProgress?: (p: RenderProgress) => void) {
  let phase: RenderPhase = 'planning';
  let highest = 0;
  const encoded = new Array<number>(movie.scenes.length).fill(0);
  const done = new Set<number>();
  const report = () => {
    const framesDone = encoded.reduce((a, b) => a + b, 0);
    highest = Math.max(highest, progressOf(phase, framesDone, movie.frames));
    onProgress?.({
      phase,
      progress: highest,
      scenesDone: done.size,
      scenesTotal: movie.scenes.length,
      framesDone,
      framesTotal: movie.frames,
    });
  };
  return {
    enter(next: RenderPhase) {
      if (next === phase && next !== 'planning') return;
      phase = next;
      report();
    },
    frames(scene: number, frames: number) {
      encoded[scene] = frames;
      report();
    },
    sceneDone(scene: number, frames: number) {
      encoded[scene] = frames;
      done.add(scene);
      report();
    },
  };
}
