// Runs one job through its phases. Every state change is written to the store first and
// then announced (SSE, webhooks) from what was written. Scenes go through the shared pool
// and the per-project scene cache, so a job restarted after a crash redoes no finished scene.
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { normalizeMovie, type NormalizedMovie } from '../movie/index.ts';
import {
  AbortedError, assemble, LayerSourceError, planMovie, progressOf, renderAudio, renderScene, SourceStore,
  DEFAULT_ENCODER, type FetchLimits, type MediaData, type MoviePlan,
} from '../render/index.ts';
import type { LocalStorage } from '../storage/index.ts';
import type { JobEvent, JobRow } from './database.ts';
import type { Phase } from './job-state.ts';
import type { JobStore } from './job-store.ts';
import type { SceneCache } from './scene-cache.ts';
import type { ScenePool } from './scene-pool.ts';

export interface RunnerContext {
  store: JobStore;
  pool: ScenePool;
  cache: SceneCache;
  storage: LocalStorage;
  /** Announces a stored event (SSE, webhooks); undefined: nothing was stored. */
  announce: (event: JobEvent | undefined) => Promise<void>;
  workRoot: string;
  sourceDir: string;
  fetch: FetchLimits;
  threads: number;
}

/** Fixed points of overall progress outside the rendering share (see render/progress.ts). */
const AFTER_PLANNING = progressOf('rendering', 0, 1);
const UPLOADING = 0.98;
const PROGRESS_EVERY_MS = 500;

export class JobFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export async function runJob(job: JobRow, ctx: RunnerContext, signal: AbortSignal): Promise<void> {
  const { store } = ctx;
  let progress = job.progress;
  const enter = async (phase: Phase, at: number, fields: Partial<JobRow> = {}) => {
    progress = Math.max(progress, at);
    await ctx.announce(await store.enterPhase(job.id, phase, progress, fields));
  };
  const workDir = join(ctx.workRoot, job.id);
  await rm(workDir, { recursive: true, force: true });
  await mkdir(workDir, { recursive: true });
  let reportFrames: ReturnType<typeof throttle> | undefined;
  try {
    await enter('planning', 0, job.started_at ? {} : { started_at: new Date().toISOString() });
    const request = JSON.parse(job.request) as { movie: unknown };
    const movie = normalizeMovie(request.movie, { allowLocalFiles: false });
    const sources = new SourceStore(ctx.sourceDir, ctx.fetch);
    const plan = await planMovie(movie, { store: sources, workDir, encoder: DEFAULT_ENCODER, signal }).catch((err) => {
      if (err instanceof LayerSourceError) throw new JobFailure('SOURCE_UNAVAILABLE', err.message);
      throw err;
    });

    await enter('dispatching', AFTER_PLANNING);
    const chunks: string[][] = new Array(plan.scenes.length);
    const toRender: number[] = [];
    for (const [i, scene] of plan.scenes.entries()) {
      const cached = await ctx.cache.get(job.project_id, scene.key);
      if (cached) {
        chunks[i] = cached;
        await store.setScene(job.id, i, 'cached', scene.key);
      } else {
        toRender.push(i);
        await store.setScene(job.id, i, 'queued', scene.key);
      }
    }

    await enter('waiting', AFTER_PLANNING);
    const framesDone = plan.scenes.map((s, i) => (chunks[i] ? s.scene.frames : 0));
    reportFrames = throttle(async () => {
      const frames = framesDone.reduce((a, b) => a + b, 0);
      const next = Math.max(progress, progressOf('rendering', frames, movie.frames));
      if (next <= progress) return;
      progress = next;
      const scenesDone = plan.scenes.filter((_, i) => framesDone[i] === plan.scenes[i].scene.frames).length;
      await ctx.announce(await store.recordProgress(job.id, progress, { phase: 'rendering', scenesDone, scenesTotal: plan.scenes.length, framesDone: frames, framesTotal: movie.frames }));
    });
    let rendering: Promise<void> | undefined;
    const startRendering = () => (rendering ??= enter('rendering', AFTER_PLANNING));
    // the first scene to fail stops the job's other scenes, so they free their workers at once
    const scenesStop = new AbortController();
    const sceneSignal = AbortSignal.any([signal, scenesStop.signal]);
    const outcomes = await Promise.allSettled(
      toRender.map((i) =>
        ctx.pool.run(job.id, job.workers, async () => {
          if (sceneSignal.aborted) throw new AbortedError();
          await startRendering();
          await store.setScene(job.id, i, 'rendering');
          chunks[i] = await renderCachedScene(plan, i, movie, job, ctx, sceneSignal, (frames) => {
            framesDone[i] = frames;
            reportFrames?.();
          });
          await store.setScene(job.id, i, 'done');
        }).catch((err) => {
          scenesStop.abort();
          throw err;
        }),
      ),
    );
    const failure = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected' && !(o.reason instanceof AbortedError));
    if (failure) throw failure.reason;
    if (signal.aborted) throw new AbortedError();
    await startRendering();
    await reportFrames.flush();

    await enter('assembling', progressOf('assembling', movie.frames, movie.frames));
    const audio = join(workDir, 'audio.m4a');
    const output = join(workDir, 'output.mp4');
    await renderAudio(plan.audio, movie.frames, movie.fps, audio, signal);
    await assemble(chunks.flat(), audio, output, workDir, signal);

    await enter('uploading', UPLOADING);
    const key = `outputs/${job.id}/output.mp4`;
    const stored = await ctx.storage.put(key, output, { move: true });
    const mediaData: MediaData = { duration: movie.frames / movie.fps, width: movie.width, height: movie.height, fps: movie.fps, frames: movie.frames, bytes: stored.bytes };
    await ctx.announce(await store.finish(job.id, 'done', { phase: 'done', progress: 1, output_key: key, media_data: JSON.stringify(mediaData) }, {}));
  } finally {
    reportFrames?.cancel();
    await rm(workDir, { recursive: true, force: true });
  }
}

/** Renders scene `i` into a cache workspace and commits it; returns its chunk files. */
async function renderCachedScene(
  plan: MoviePlan,
  i: number,
  movie: NormalizedMovie,
  job: JobRow,
  ctx: RunnerContext,
  signal: AbortSignal,
  onFrames: (frames: number) => void,
): Promise<string[]> {
  const scene = plan.scenes[i];
  const workspace = await ctx.cache.workspace(job.project_id);
  try {
    const names = await renderScene(scene, movie, workspace, { encoder: DEFAULT_ENCODER, threads: ctx.threads, signal, onFrames });
    return await ctx.cache.commit(job.project_id, scene.key, workspace, names);
  } catch (err) {
    await ctx.cache.discard(workspace);
    throw err;
  }
}

/** Calls `fn` at most every PROGRESS_EVERY_MS, trailing call included; `flush` runs it now, `cancel` drops a pending one. */
function throttle(fn: () => Promise<void>) {
  let last = 0;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const run = () => {
    timer = undefined;
    last = Date.now();
    running = running.then(fn).catch(() => {});
    return running;
  };
  const call = () => {
    if (timer) return;
    const wait = Math.max(0, last + PROGRESS_EVERY_MS - Date.now());
    timer = setTimeout(run, wait);
  };
  call.flush = () => {
    clearTimeout(timer);
    return run();
  };
  call.cancel = () => clearTimeout(timer);
  return call;
}
