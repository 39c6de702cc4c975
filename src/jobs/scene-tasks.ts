// Distributed mode: a job's uncached scenes as tasks any worker may lease, so one long job
// spreads over machines. The job's own worker (its coordinator) offers them, renders those it
// takes itself and waits for the others; a task is leased as jobs are (claimed with SKIP
// LOCKED, renewed, taken over once lapsed). On Postgres a task that ends is announced on
// `reelsmith_scenes`, and offered tasks wake idle workers there.
import { type ExpressionBuilder, type Kysely, sql, type Transaction } from 'kysely';
import { type Database, kindOf, type SceneTaskRow, type Tables } from './database.ts';
import { clockNow, now } from './clock.ts';
import type { Failure } from './job-failure.ts';
import { ACTIVE } from './job-state.ts';
import { stoppedAnswering } from './leases.ts';

/** The Postgres channel scene tasks are announced on: the job id, when tasks are offered or one ends. */
export const SCENES_CHANNEL = 'reelsmith_scenes';

export class SceneTasks {
  constructor(readonly db: Database) {}

  /** Adds a job's scenes as queued tasks; a scene that has a task already keeps it. */
  async offer(jobId: string, scenes: Array<{ index: number; key: string }>): Promise<void> {
    if (scenes.length === 0) return;
    await this.db.transaction().execute(async (tx) => {
      const stamp = now();
      await tx
        .insertInto('scene_tasks')
        .values(
          scenes.map((s) => ({
            job_id: jobId,
            scene_index: s.index,
            cache_key: s.key,
            state: 'queued' as const,
            lease_owner: null,
            lease_until: null,
            error: null,
            created_at: stamp,
            frames_done: 0,
            lease_losses: 0,
          })),
        )
        .onConflict((oc) => oc.columns(['job_id', 'scene_index']).doNothing())
        .execute();
      await announce(tx, jobId);
    });
  }

  /**
   * Gives `worker` the oldest task that is queued, or running under a lapsed lease, of a job
   * still active; workers claiming at once each get a different one (SKIP LOCKED). A task
   * that would be taken over for the `tries`th time fails instead (see leases.ts), and the
   * next is looked at.
   */
  async claim(worker: string, leaseMs: number, tries: number, at = clockNow()): Promise<SceneTaskRow | undefined> {
    return this.db.transaction().execute(async (tx) => {
      for (;;) {
        const next = await tx
          .selectFrom('scene_tasks')
          .select(['job_id', 'scene_index'])
          .where((eb) => claimable(eb, at.toISOString()))
          .where('job_id', 'in', (eb) => eb.selectFrom('jobs').select('id').where('status', 'in', ACTIVE))
          .orderBy('created_at')
          .orderBy('job_id')
          .orderBy('scene_index')
          .limit(1)
          .$if(kindOf(this.db) === 'postgres', (q) => q.forUpdate().skipLocked())
          .executeTakeFirst();
        if (!next) return undefined;
        const task = await lease(tx, next.job_id, next.scene_index, worker, leaseMs, tries, at);
        if (task !== 'failed') return task;
      }
    });
  }

  /**
   * The coordinator takes one task to render itself: true unless it is finished, another
   * holds a live lease, or this would be its `tries`th takeover (it fails instead).
   */
  async take(
    jobId: string,
    index: number,
    worker: string,
    leaseMs: number,
    tries: number,
    at = clockNow(),
  ): Promise<boolean> {
    const task = await this.db.transaction().execute((tx) => lease(tx, jobId, index, worker, leaseMs, tries, at));
    return task !== undefined && task !== 'failed';
  }

  /** Extends `worker`'s lease on a task; false when it has lost it (taken over, or its job ended). */
  async renewLease(jobId: string, index: number, worker: string, leaseMs: number, at = clockNow()): Promise<boolean> {
    const changed = await this.db
      .updateTable('scene_tasks')
      .set({ lease_until: new Date(at.getTime() + leaseMs).toISOString() })
      .where('job_id', '=', jobId)
      .where('scene_index', '=', index)
      .where('lease_owner', '=', worker)
      .where('state', '=', 'running')
      .where('job_id', 'in', (eb) => eb.selectFrom('jobs').select('id').where('status', 'in', ACTIVE))
      .executeTakeFirst();
    return Number(changed.numUpdatedRows) > 0;
  }

  /** Frames the task's worker has encoded; announced, so its coordinator reports them. */
  async recordFrames(jobId: string, index: number, worker: string, frames: number): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      const changed = await tx
        .updateTable('scene_tasks')
        .set({ frames_done: frames })
        .where('job_id', '=', jobId)
        .where('scene_index', '=', index)
        .where('lease_owner', '=', worker)
        .where('state', '=', 'running')
        .executeTakeFirst();
      if (Number(changed.numUpdatedRows) > 0) await announce(tx, jobId);
    });
  }

  /** Ends `worker`'s task: done (its chunks are in the scene cache) or failed with why; false if it was not its own. */
  async finish(jobId: string, index: number, worker: string, error?: string): Promise<boolean> {
    return this.db.transaction().execute(async (tx) => {
      const changed = await tx
        .updateTable('scene_tasks')
        .set({ state: error === undefined ? 'done' : 'failed', error: error ?? null, lease_until: null })
        .where('job_id', '=', jobId)
        .where('scene_index', '=', index)
        .where('lease_owner', '=', worker)
        .where('state', '=', 'running')
        .executeTakeFirst();
      if (Number(changed.numUpdatedRows) === 0) return false;
      await announce(tx, jobId);
      return true;
    });
  }

  /** Gives `worker`'s task (or, without `index`, all its tasks of the job) back to the queue, for another to claim at once. */
  async release(jobId: string, worker: string, index?: number): Promise<void> {
    await this.db
      .updateTable('scene_tasks')
      .set({ state: 'queued', lease_owner: null, lease_until: null })
      .where('job_id', '=', jobId)
      .$if(index !== undefined, (q) => q.where('scene_index', '=', index!))
      .where('lease_owner', '=', worker)
      .where('state', '=', 'running')
      .execute();
  }

  async task(jobId: string, index: number): Promise<SceneTaskRow | undefined> {
    return this.db
      .selectFrom('scene_tasks')
      .selectAll()
      .where('job_id', '=', jobId)
      .where('scene_index', '=', index)
      .executeTakeFirst();
  }
}

/** Queued, or running under a lease that has lapsed (its worker died). */
function claimable(eb: ExpressionBuilder<Tables, 'scene_tasks'>, stamp: string) {
  return eb.or([
    eb('state', '=', 'queued'),
    eb.and([eb('state', '=', 'running'), eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', stamp)])]),
  ]);
}

/**
 * Leases a task to `worker` if it is claimable; a running one (its lease lapsed) is taken
 * over, unless that makes `tries` lapses: then it fails, for its coordinator to fail the job.
 */
async function lease(
  tx: Transaction<Tables>,
  jobId: string,
  index: number,
  worker: string,
  leaseMs: number,
  tries: number,
  at: Date,
): Promise<SceneTaskRow | 'failed' | undefined> {
  const task = await tx
    .selectFrom('scene_tasks')
    .select(['state', 'lease_losses'])
    .where('job_id', '=', jobId)
    .where('scene_index', '=', index)
    .where((eb) => claimable(eb, at.toISOString()))
    .$if(kindOf(tx) === 'postgres', (q) => q.forUpdate())
    .executeTakeFirst();
  if (!task) return undefined;
  const losses = task.lease_losses + (task.state === 'running' ? 1 : 0);
  const row = tx.updateTable('scene_tasks').where('job_id', '=', jobId).where('scene_index', '=', index);
  if (losses >= tries) {
    const message = stoppedAnswering(`movie.scenes[${index}]`, losses);
    await row
      .set({
        state: 'failed',
        error: storedFailure({ code: 'RENDER_FAILED', message }),
        lease_owner: null,
        lease_until: null,
        lease_losses: losses,
      })
      .execute();
    await announce(tx, jobId);
    return 'failed';
  }
  return row
    .set({
      state: 'running',
      lease_owner: worker,
      lease_until: new Date(at.getTime() + leaseMs).toISOString(),
      lease_losses: losses,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** How a task's failure is stored, for the coordinator to fail its job with. */
export function storedFailure(failure: Failure): string {
  return JSON.stringify({ code: failure.code, message: failure.message });
}

/** A failure as storedFailure stored it (anything else: the render failed, for that reason). */
export function failureStored(stored: string | null): Failure {
  try {
    const { code, message } = JSON.parse(stored ?? '') as Failure;
    if (typeof code === 'string' && typeof message === 'string') return { code, message };
  } catch {}
  return { code: 'RENDER_FAILED', message: stored ?? 'unknown reason' };
}

/** Tells listening workers a job's tasks changed, once the transaction commits. */
async function announce(tx: Kysely<Tables>, jobId: string): Promise<void> {
  if (kindOf(tx) === 'postgres') await sql`select pg_notify(${SCENES_CHANNEL}, ${jobId})`.execute(tx);
}
