// Runs one job through its phases by calling the engine's renderMovie with the service's
// shared scene pool and the project's scene cache, then stores the output. Every state
// change is written to the store first and then announced (SSE, webhooks) from what was
// written, in the order the engine reported it. A job restarted after a crash redoes no
// finished scene: those come from the cache.
import type { Logger } from 'pino';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { normalizeMovie } from '../movie/index.ts';
import {
  renderMovie,
  type FetchLimits,
  type RenderProgress,
  type SceneDispatch,
  type ScenePool,
  type TimeLimits,
} from '../render/index.ts';
import type { Storage } from '../storage/index.ts';
import { now } from './clock.ts';
import { isDatabaseUnavailable, type JobEvent, type JobRow } from './database.ts';
import type { Phase } from './job-state.ts';
import type { JobStore } from './job-store.ts';
import { outputKey } from './output-key.ts';
import type { SceneCaches } from './scene-cache.ts';
import { logRetry, untilStored } from './store-retry.ts';
import { throttle } from './throttle.ts';

export interface RunnerContext {
  log: Logger;
  store: JobStore;
  pool: ScenePool;
  cache: SceneCaches;
  storage: Storage;
  /** Announces a stored event (SSE, webhooks); undefined: nothing was stored. */
  announce: (event: JobEvent | undefined) => Promise<void>;
  workRoot: string;
  sourceDir: string;
  fetch: FetchLimits;
  cores: number;
  limits?: Partial<TimeLimits>;
  /** The disk a job's work files may take (default: the engine's DEFAULT_WORK_DISK_BYTES). */
  workDiskBytes?: number;
  /** Distributed mode: shares a job's uncached scenes with other workers (default: all rendered here). */
  dispatch?: (job: JobRow, signal: AbortSignal) => SceneDispatch;
}

/** Where overall progress stands while the output is stored (after the engine's 0.95). */
const UPLOADING = 0.98;

export async function runJob(job: JobRow, ctx: RunnerContext, signal: AbortSignal): Promise<void> {
  const { store } = ctx;
  let progress = job.progress;
  // store writes in the order the engine reports, each announced once written; the first
  // failed write fails the job once the engine returns
  let writes = Promise.resolve();
  let writeFailure: { error: unknown } | undefined;
  // a database restarting (distributed mode) holds the writes back while the render goes on;
  // any other failed write fails the job
  const retryLog = logRetry(ctx.log, job.id, 'its progress');
  const record = (write: () => Promise<JobEvent | undefined | void>) => {
    writes = writes
      .then(async () => ctx.announce((await untilStored(write, signal, retryLog, isDatabaseUnavailable)) ?? undefined))
      .catch((error) => void (writeFailure ??= { error }));
    return writes;
  };
  const throwIfWriteFailed = () => {
    if (writeFailure) throw writeFailure.error;
  };
  const enter = (phase: Phase, at: number, fields: Partial<JobRow> = {}) => {
    progress = Math.max(progress, at);
    const p = progress;
    return record(() => store.enterPhase(job.id, phase, p, fields));
  };
  let latest: RenderProgress | undefined;
  const reportFrames = throttle(() => {
    if (!latest || latest.progress <= progress) return Promise.resolve();
    progress = latest.progress;
    const { phase, scenesDone, scenesTotal, framesDone, framesTotal } = latest;
    const data = { phase, scenesDone, scenesTotal, framesDone, framesTotal };
    const p = progress;
    return record(() => store.recordProgress(job.id, p, data));
  });

  const workDir = join(ctx.workRoot, job.id);
  await rm(workDir, { recursive: true, force: true });
  await mkdir(workDir, { recursive: true });
  try {
    await enter('planning', 0, job.started_at ? {} : { started_at: now() });
    const request = JSON.parse(job.request) as { movie: unknown };
    const movie = normalizeMovie(request.movie, { allowLocalFiles: false });
    const output = join(workDir, 'output.mp4');
    let phase: string = 'planning';
    const { mediaData, warnings } = await renderMovie(movie, {
      output,
      workRoot: workDir,
      signal,
      concurrency: job.workers,
      cores: ctx.cores,
      limits: ctx.limits,
      workDiskBytes: ctx.workDiskBytes,
      sourceDir: ctx.sourceDir,
      fetch: ctx.fetch,
      pool: { pool: ctx.pool, owner: job.id, tenant: job.account_id },
      scenes: ctx.cache.forProject(job.project_id),
      dispatch: ctx.dispatch?.(job, signal),
      onScene: (i, state, key) => void record(() => store.setScene(job.id, i, state, key)),
      onProgress: (p) => {
        latest = p;
        if (p.phase === phase || p.phase === 'done') {
          reportFrames();
          return;
        }
        phase = p.phase;
        reportFrames.cancel();
        void enter(p.phase, p.progress);
      },
    });
    reportFrames.cancel();
    await writes;
    throwIfWriteFailed();

    await enter('uploading', UPLOADING);
    const key = outputKey(job.id);
    await ctx.storage.put(key, output, { move: true });
    // the output is stored: its end is written even if that takes tries (a full disk), until cancelled or drained
    await record(() =>
      untilStored(
        () =>
          store.finish(
            job.id,
            'done',
            {
              phase: 'done',
              progress: 1,
              output_key: key,
              media_data: JSON.stringify(mediaData),
              warnings: JSON.stringify(warnings),
            },
            {},
          ),
        signal,
        logRetry(ctx.log, job.id, 'that it is done'),
      ),
    );
    throwIfWriteFailed();
  } finally {
    reportFrames.cancel();
    await writes;
    await rm(workDir, { recursive: true, force: true });
  }
}
