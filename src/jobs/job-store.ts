// Jobs in SQL: submit (with the quota check and reservation in one transaction), state
// changes, scenes, the event log every announcement is replayed from, and (distributed mode)
// workers' leases on jobs. On Postgres every event written is also sent to the
// `reelsmith_events` channel when its transaction commits, so other processes hear of it.
import { type Kysely, sql, type Transaction } from 'kysely';
import {
  type Database,
  isStorableText,
  type JobEvent,
  type JobRow,
  type JobSceneRow,
  kindOf,
  type Tables,
} from './database.ts';
import type { AnswerCode } from './errors.ts';
import { clockNow, now } from './clock.ts';
import { newJobId } from './ids.ts';
import { stoppedAnswering } from './leases.ts';
import {
  ACTIVE,
  COUNTED,
  statusOf,
  type EventType,
  type FinalStatus,
  type Phase,
  type SceneState,
} from './job-state.ts';

/** What an account may hold at once; null means no limit. */
export interface SubmitLimits {
  concurrentJobs: number | null;
  monthlySeconds: number | null;
  dailySeconds: number | null;
}

export interface NewJob {
  accountId: string;
  projectId: string;
  request: unknown;
  seconds: number;
  workers: number;
  callbackUrl?: string;
  scenes: Array<{ id: string; frames: number }>;
  idempotency?: { key: string; requestHash: string };
}

/** Why the store refused a submit: limits and idempotency, checked in its transaction. */
export type LimitRefusal = Extract<
  AnswerCode,
  'CONCURRENCY_LIMIT_EXCEEDED' | 'RENDER_QUOTA_EXCEEDED' | 'RENDER_QUOTA_DAILY_EXCEEDED' | 'IDEMPOTENCY_KEY_REUSED'
>;

export type SubmitOutcome = { job: JobRow; replayed: boolean } | { refused: LimitRefusal };

export interface Usage {
  /** Seconds used by finished jobs plus reserved by active ones, this calendar month (UTC). */
  monthSeconds: number;
  /** The same since midnight UTC. */
  daySeconds: number;
  activeJobs: number;
}

export class JobStore {
  constructor(readonly db: Database) {}

  /** Checks limits and reserves the job's seconds atomically: parallel submits never overspend. */
  async submit(input: NewJob, limits: SubmitLimits, at = clockNow()): Promise<SubmitOutcome> {
    return this.db.transaction().execute(async (tx) => {
      // SQLite has one writer; on Postgres, parallel submits of one account wait for each other here
      if (kindOf(this.db) === 'postgres')
        await tx.selectFrom('accounts').select('id').where('id', '=', input.accountId).forUpdate().execute();
      if (input.idempotency) {
        const seen = await tx
          .selectFrom('idempotency_keys')
          .selectAll()
          .where('account_id', '=', input.accountId)
          .where('key', '=', input.idempotency.key)
          .executeTakeFirst();
        if (seen) {
          if (seen.request_hash !== input.idempotency.requestHash)
            return { refused: 'IDEMPOTENCY_KEY_REUSED' as const };
          const job = await tx.selectFrom('jobs').selectAll().where('id', '=', seen.job_id).executeTakeFirstOrThrow();
          return { job, replayed: true };
        }
      }
      const usage = await usageOf(tx, input.accountId, at);
      if (limits.concurrentJobs !== null && usage.activeJobs >= limits.concurrentJobs)
        return { refused: 'CONCURRENCY_LIMIT_EXCEEDED' as const };
      if (limits.monthlySeconds !== null && usage.monthSeconds + input.seconds > limits.monthlySeconds)
        return { refused: 'RENDER_QUOTA_EXCEEDED' as const };
      if (limits.dailySeconds !== null && usage.daySeconds + input.seconds > limits.dailySeconds)
        return { refused: 'RENDER_QUOTA_DAILY_EXCEEDED' as const };

      const stamp = at.toISOString();
      const job: JobRow = {
        id: newJobId(),
        account_id: input.accountId,
        project_id: input.projectId,
        status: 'queued',
        phase: 'queued',
        progress: 0,
        request: JSON.stringify(input.request),
        seconds: input.seconds,
        workers: input.workers,
        callback_url: input.callbackUrl ?? null,
        error_code: null,
        error_message: null,
        output_key: null,
        media_data: null,
        warnings: null,
        created_at: stamp,
        started_at: null,
        updated_at: stamp,
        finished_at: null,
        lease_owner: null,
        lease_until: null,
        lease_losses: 0,
      };
      await tx.insertInto('jobs').values(job).execute();
      await tx
        .insertInto('job_scenes')
        .values(
          input.scenes.map((s, i) => ({
            job_id: job.id,
            scene_index: i,
            scene_id: s.id,
            frames: s.frames,
            state: 'queued',
            cache_key: null,
          })),
        )
        .execute();
      if (input.idempotency) {
        await tx
          .insertInto('idempotency_keys')
          .values({
            account_id: input.accountId,
            key: input.idempotency.key,
            request_hash: input.idempotency.requestHash,
            job_id: job.id,
            created_at: stamp,
          })
          .execute();
      }
      await insertEvent(tx, job.id, 'phase', { status: 'queued', phase: 'queued', progress: 0 }, stamp);
      return { job, replayed: false };
    });
  }

  async usage(accountId: string, at = clockNow()): Promise<Usage> {
    return usageOf(this.db, accountId, at);
  }

  async job(id: string): Promise<JobRow | undefined> {
    if (!isStorableText(id)) return undefined;
    return this.db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async scenes(jobId: string): Promise<JobSceneRow[]> {
    return this.db.selectFrom('job_scenes').selectAll().where('job_id', '=', jobId).orderBy('scene_index').execute();
  }

  /** Newest first; `before` is the (created_at, id) of the last job of the previous page. */
  async list(
    accountId: string,
    options: { projectId?: string; limit: number; before?: { createdAt: string; id: string } },
  ): Promise<JobRow[]> {
    if (options.projectId !== undefined && !isStorableText(options.projectId)) return [];
    let query = this.db.selectFrom('jobs').selectAll().where('account_id', '=', accountId);
    if (options.projectId) query = query.where('project_id', '=', options.projectId);
    if (options.before) {
      const { createdAt, id } = options.before;
      query = query.where((eb) =>
        eb.or([eb('created_at', '<', createdAt), eb.and([eb('created_at', '=', createdAt), eb('id', '<', id)])]),
      );
    }
    return query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(options.limit).execute();
  }

  /** How many jobs there are of each status, all tenants together (for /metrics). */
  async countByStatus(): Promise<Array<{ status: string; count: number }>> {
    const rows = await this.db
      .selectFrom('jobs')
      .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
      .groupBy('status')
      .execute();
    return rows.map((row) => ({ status: row.status, count: Number(row.n) }));
  }

  /** Resolves when the database answers a trivial query. */
  async ping(): Promise<void> {
    await sql`select 1`.execute(this.db);
  }

  /** Jobs that were not finished when the process stopped. */
  async unfinished(): Promise<JobRow[]> {
    return this.db.selectFrom('jobs').selectAll().where('status', 'in', ACTIVE).orderBy('created_at').execute();
  }

  /**
   * Moves a job to a phase and records the event, in one transaction; returns the event, or
   * undefined when the job had already ended (a cancel won the race) and nothing changed.
   */
  async enterPhase(
    jobId: string,
    phase: Phase,
    progress: number,
    fields: Partial<JobRow> = {},
  ): Promise<JobEvent | undefined> {
    return this.change(jobId, 'phase', { status: statusOf(phase), phase, progress, ...fields });
  }

  async recordProgress(jobId: string, progress: number, data: Record<string, unknown>): Promise<JobEvent | undefined> {
    return this.db.transaction().execute(async (tx) => {
      const stamp = now();
      const changed = await tx
        .updateTable('jobs')
        .set({ progress, updated_at: stamp })
        .where('id', '=', jobId)
        .where('status', 'in', ACTIVE)
        .executeTakeFirst();
      if (Number(changed.numUpdatedRows) === 0) return undefined;
      return insertEvent(tx, jobId, 'progress', { progress, ...data }, stamp);
    });
  }

  /** Ends a job (done, failed or cancelled) with the final event; undefined if it had ended already. */
  async finish(
    jobId: string,
    status: FinalStatus,
    fields: Partial<JobRow>,
    data: Record<string, unknown>,
  ): Promise<JobEvent | undefined> {
    return this.change(jobId, status, { status, ...fields, finished_at: now() }, data);
  }

  async setScene(jobId: string, index: number, state: SceneState, cacheKey?: string): Promise<void> {
    await this.db
      .updateTable('job_scenes')
      .set({ state, ...(cacheKey ? { cache_key: cacheKey } : {}) })
      .where('job_id', '=', jobId)
      .where('scene_index', '=', index)
      .execute();
  }

  async events(jobId: string, afterId = 0): Promise<JobEvent[]> {
    return this.db
      .selectFrom('job_events')
      .selectAll()
      .where('job_id', '=', jobId)
      .where('id', '>', afterId)
      .orderBy('id')
      .execute();
  }

  /**
   * Distributed mode: gives `worker` a job that is queued, or running under a lease that has
   * lapsed (its worker stopped), leased until `leaseMs` from now: of the accounts with such
   * jobs, the one with the fewest jobs under a live lease goes first, then the oldest job, so
   * one account's queue holds another's back by at most a worker slot. Workers claiming at
   * once each get a different job (SKIP LOCKED). A job taken over for the `tries`th time
   * (every worker it ran on stopped answering) is failed instead: `{ failed }`, its final event.
   */
  async claim(
    worker: string,
    leaseMs: number,
    tries: number,
    at = clockNow(),
  ): Promise<{ job: JobRow } | { failed: JobEvent } | undefined> {
    return this.db.transaction().execute(async (tx) => {
      const stamp = at.toISOString();
      const next = await tx
        .with('held', (db) =>
          db
            .selectFrom('jobs')
            .select(['account_id', (eb) => eb.fn.countAll<number>().as('live')])
            .where('status', 'in', ACTIVE)
            .where('lease_until', '>=', stamp)
            .groupBy('account_id'),
        )
        .selectFrom('jobs')
        .leftJoin('held', 'held.account_id', 'jobs.account_id')
        .select(['jobs.id', 'jobs.lease_until', 'jobs.lease_losses'])
        .where('jobs.status', 'in', ACTIVE)
        .where((eb) => eb.or([eb('jobs.lease_until', 'is', null), eb('jobs.lease_until', '<', stamp)]))
        .orderBy((eb) => eb.fn.coalesce('held.live', eb.lit(0)))
        .orderBy('jobs.created_at')
        .orderBy('jobs.id')
        .limit(1)
        .$if(kindOf(this.db) === 'postgres', (q) => q.forUpdate('jobs').skipLocked())
        .executeTakeFirst();
      if (!next) return undefined;
      // a lease still set has lapsed (a drained job's was cleared): its worker stopped answering
      const losses = next.lease_losses + (next.lease_until === null ? 0 : 1);
      if (losses >= tries) {
        const message = stoppedAnswering('the job', losses);
        const failed = await changeIn(
          tx,
          next.id,
          'failed',
          {
            status: 'failed',
            error_code: 'RENDER_FAILED',
            error_message: message,
            finished_at: stamp,
            lease_owner: null,
            lease_until: null,
            lease_losses: losses,
          },
          { error: { code: 'RENDER_FAILED', message } },
        );
        return failed && { failed };
      }
      const job = await tx
        .updateTable('jobs')
        .set({
          lease_owner: worker,
          lease_until: new Date(at.getTime() + leaseMs).toISOString(),
          lease_losses: losses,
        })
        .where('id', '=', next.id)
        .returningAll()
        .executeTakeFirstOrThrow();
      return { job };
    });
  }

  /** Extends `worker`'s lease on a job; false when it has lost it (the job ended, or another worker took it). */
  async renewLease(jobId: string, worker: string, leaseMs: number, at = clockNow()): Promise<boolean> {
    const changed = await this.db
      .updateTable('jobs')
      .set({ lease_until: new Date(at.getTime() + leaseMs).toISOString() })
      .where('id', '=', jobId)
      .where('lease_owner', '=', worker)
      .where('status', 'in', ACTIVE)
      .executeTakeFirst();
    return Number(changed.numUpdatedRows) > 0;
  }

  /** Gives a job back to the queue (a worker draining): queued again, for any worker to claim at once. */
  async release(jobId: string, worker: string): Promise<JobEvent | undefined> {
    const job = await this.job(jobId);
    if (!job || job.lease_owner !== worker) return undefined;
    return this.change(jobId, 'phase', { status: 'queued', phase: 'queued', lease_owner: null, lease_until: null });
  }

  /** Changes a job that has not ended yet; a finished job never changes again. */
  private async change(
    jobId: string,
    type: EventType,
    fields: Partial<JobRow>,
    extra: Record<string, unknown> = {},
  ): Promise<JobEvent | undefined> {
    return this.db.transaction().execute((tx) => changeIn(tx, jobId, type, fields, extra));
  }
}

/** JobStore's change, in a transaction under way: the job's row and its event; undefined if it had ended. */
async function changeIn(
  tx: Transaction<Tables>,
  jobId: string,
  type: EventType,
  fields: Partial<JobRow>,
  extra: Record<string, unknown> = {},
): Promise<JobEvent | undefined> {
  const stamp = now();
  const changed = await tx
    .updateTable('jobs')
    .set({ ...fields, updated_at: stamp })
    .where('id', '=', jobId)
    .where('status', 'in', ACTIVE)
    .executeTakeFirst();
  if (Number(changed.numUpdatedRows) === 0) return undefined;
  const job = await tx
    .selectFrom('jobs')
    .select(['status', 'phase', 'progress'])
    .where('id', '=', jobId)
    .executeTakeFirstOrThrow();
  return insertEvent(
    tx,
    jobId,
    type,
    { status: job.status, phase: job.phase, progress: job.progress, ...extra },
    stamp,
  );
}

async function insertEvent(
  tx: Kysely<Tables> | Transaction<Tables>,
  jobId: string,
  type: EventType,
  data: Record<string, unknown>,
  stamp: string,
): Promise<JobEvent> {
  const row = await tx
    .insertInto('job_events')
    .values({ job_id: jobId, type, data: JSON.stringify(data), created_at: stamp })
    .returningAll()
    .executeTakeFirstOrThrow();
  if (kindOf(tx) === 'postgres') await notifyEvent(tx, row);
  return row;
}

/** Postgres's limit on a notification's payload is 8000 bytes: a larger event is sent as its id, to be read. */
const NOTIFY_MAX_BYTES = 7900;

/** Tells every listening process of a stored event, once its transaction commits. */
async function notifyEvent(tx: Kysely<Tables>, event: JobEvent): Promise<void> {
  const whole = JSON.stringify(event);
  const payload =
    Buffer.byteLength(whole) <= NOTIFY_MAX_BYTES ? whole : JSON.stringify({ id: event.id, job_id: event.job_id });
  await sql`select pg_notify(${EVENTS_CHANNEL}, ${payload})`.execute(tx);
}

/** The Postgres channel stored events are announced on (see notifications.ts). */
export const EVENTS_CHANNEL = 'reelsmith_events';

async function usageOf(db: Kysely<Tables>, accountId: string, at: Date): Promise<Usage> {
  const month = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), 1)).toISOString();
  const day = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate())).toISOString();
  const row = await db
    .selectFrom('jobs')
    .select((eb) => [
      eb.fn.coalesce(eb.fn.sum<number>('seconds'), eb.lit(0)).as('month'),
      eb.fn
        .coalesce(
          eb.fn.sum<number>(eb.case().when('created_at', '>=', day).then(eb.ref('seconds')).else(0).end()),
          eb.lit(0),
        )
        .as('day'),
    ])
    .where('account_id', '=', accountId)
    .where('status', 'in', COUNTED)
    .where('created_at', '>=', month)
    .executeTakeFirstOrThrow();
  const active = await db
    .selectFrom('jobs')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('account_id', '=', accountId)
    .where('status', 'in', ACTIVE)
    .executeTakeFirstOrThrow();
  return { monthSeconds: Number(row.month), daySeconds: Number(row.day), activeJobs: Number(active.n) };
}
