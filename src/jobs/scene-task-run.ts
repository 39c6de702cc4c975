// Distributed mode: one scene task rendered by a worker that is not its job's coordinator.
// The scene is rendered as a movie of its own (the scene as is, on the job's canvas at its
// fps) into the project's scene cache, where the coordinator reads it. The cache key leaves
// out the scene's place in the movie, so it is the key the coordinator offered; a scene
// whose key differs here (another engine version) is refused before it is rendered.
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { normalizeMovie } from '../movie/index.ts';
import { AbortedError, renderMovie } from '../render/index.ts';
import type { SceneTaskRow } from './database.ts';
import type { RunnerContext } from './job-runner.ts';

/** `onFrames`: the frames encoded so far, as the engine reports them (the caller throttles). */
export async function runSceneTask(
  task: SceneTaskRow,
  ctx: RunnerContext,
  signal: AbortSignal,
  onFrames: (frames: number) => void = () => {},
): Promise<void> {
  const job = await ctx.store.job(task.job_id);
  if (!job) throw new Error(`scene task of job ${task.job_id}, which does not exist`);
  const request = JSON.parse(job.request) as { movie: unknown };
  const movie = normalizeMovie(request.movie, { allowLocalFiles: false });
  const scene = movie.scenes[task.scene_index];
  if (!scene)
    throw new Error(`scene task ${task.scene_index} of job ${job.id}, whose movie has ${movie.scenes.length} scenes`);

  const workDir = join(ctx.workRoot, `${job.id}-scene-${task.scene_index}`);
  await rm(workDir, { recursive: true, force: true });
  await mkdir(workDir, { recursive: true });
  const differs = new AbortController();
  let planned: string | undefined;
  try {
    await renderMovie(
      { ...movie, scenes: [scene], frames: scene.frames },
      {
        scenesOnly: true,
        workRoot: workDir,
        signal: AbortSignal.any([signal, differs.signal]),
        concurrency: 1,
        cores: ctx.cores,
        limits: ctx.limits,
        workDiskBytes: ctx.workDiskBytes,
        sourceDir: ctx.sourceDir,
        fetch: ctx.fetch,
        pool: { pool: ctx.pool, owner: `${job.id}#${task.scene_index}`, tenant: job.account_id },
        scenes: ctx.cache.forProject(job.project_id),
        onProgress: (p) => onFrames(p.framesDone),
        onScene: (_i, _state, key) => {
          if (key === task.cache_key) return;
          planned = key;
          differs.abort();
        },
      },
    );
  } catch (err) {
    if (planned !== undefined && err instanceof AbortedError && !signal.aborted)
      throw new Error(
        `scene ${task.scene_index} plans to cache key ${planned} on this worker, not ${task.cache_key} as on its job's (are the workers' engine versions the same?)`,
      );
    throw err;
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}
