// Distributed mode's worker (`reelsmith worker`): takes jobs from the database the API nodes
// share, a lease at a time, and runs them as the embedded service does (plan, render scenes
// through the project's scene cache in object storage, assemble, upload the output). A lease
// is renewed every few seconds while the job runs; a worker that dies (SIGKILL, a lost
// machine) stops renewing, and once its lease lapses another worker claims the job and
// finishes it, reusing the scenes already in the cache. Cancels reach it as the job's
// final event, heard by LISTEN: its ffmpeg processes are killed at once.
import { rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import { type NetworkPolicy, ScenePool, type TimeLimits } from '../render/index.ts';
import type { Storage } from '../storage/index.ts';
import { type Database, type JobEvent, openPostgres } from './database.ts';
import { logLineOf } from './job-log.ts';
import { JobStore } from './job-store.ts';
import { EventNotifications, type EventNotice } from './notifications.ts';
import { RunningJobs } from './running-jobs.ts';
import { StoredSceneCache } from './stored-scene-cache.ts';

/** How long a claim holds without renewal: a dead worker's jobs are taken over this long after its last renewal. */
export const LEASE_MS = 20_000;
/** Leases are renewed this often, so a few missed renewals (a busy database) do not lose one. */
const RENEW_EVERY_MS = 5_000;
/** Besides being woken by new jobs, a worker looks for work this often (lapsed leases wake nobody). */
const LOOK_EVERY_MS = 2_000;

export interface WorkerOptions {
  /** The Postgres database the API nodes use (postgres://...). */
  database: string;
  /** Where outputs and the scene cache go: the same bucket the API nodes use. */
  storage: Storage;
  /** A local folder for work files, fetched sources and copies of cached scenes. */
  workDir: string;
  /** Jobs run at once (default 1). */
  concurrency?: number;
  /** CPU cores the jobs' scene encoders share (default: this machine's). */
  cores: number;
  network?: NetworkPolicy;
  limits?: Partial<TimeLimits>;
  logger?: Logger;
  /** This worker's name in leases and logs (default: host and process id). */
  name?: string;
}

export class RenderWorker {
  readonly #db: Database;
  readonly #store: JobStore;
  readonly #runs: RunningJobs;
  readonly #notifications: EventNotifications;
  readonly #log: Logger;
  readonly #name: string;
  readonly #concurrency: number;
  readonly #startedAt = new Map<string, number>();
  readonly #timers: NodeJS.Timeout[] = [];
  readonly #cache: StoredSceneCache;
  #accepting = true;
  #claiming?: Promise<void>;

  private constructor(
    db: Database,
    private readonly options: WorkerOptions,
  ) {
    this.#db = db;
    this.#store = new JobStore(db);
    this.#log = options.logger ?? pino({ level: 'silent' });
    this.#name = options.name ?? `${hostname()}:${process.pid}`;
    this.#concurrency = options.concurrency ?? 1;
    const pool = new ScenePool(Math.max(2, options.cores));
    const cache = new StoredSceneCache(options.storage, join(options.workDir, 'scene-cache'));
    this.#cache = cache;
    this.#runs = new RunningJobs({
      maxActive: this.#concurrency,
      store: this.#store,
      log: this.#log,
      announce: (event) => this.#logEvent(event),
      requeue: (job) => this.#store.release(job.id, this.#name),
      onStarted: (jobId) => this.#startedAt.set(jobId, performance.now()),
      onEnded: () => void this.#claimWhileFree(),
      context: () => ({
        log: this.#log,
        store: this.#store,
        pool,
        cache,
        storage: options.storage,
        announce: async (event) => this.#logEvent(event),
        workRoot: join(options.workDir, 'work'),
        sourceDir: join(options.workDir, 'sources'),
        fetch: options.network ?? {},
        cores: options.cores,
        limits: options.limits,
      }),
    });
    this.#notifications = new EventNotifications(options.database, (notice) => this.#hear(notice), this.#log);
  }

  static async open(options: WorkerOptions): Promise<RenderWorker> {
    return new RenderWorker(await openPostgres(options.database), options);
  }

  get name(): string {
    return this.#name;
  }

  /** Starts taking jobs: at once, whenever one is queued, and every few seconds. */
  async start(): Promise<void> {
    // the work folder is this worker's alone (the CLI locks it): what a killed run left goes
    await this.#cache.sweep();
    await rm(join(this.options.workDir, 'work'), { recursive: true, force: true });
    await this.#notifications.start();
    this.#runs.resume();
    this.#timers.push(
      setInterval(() => void this.#claimWhileFree(), LOOK_EVERY_MS),
      setInterval(() => void this.#renewLeases(), RENEW_EVERY_MS),
    );
    await this.#claimWhileFree();
  }

  /** SIGTERM: take no new job; the jobs running here go back to the queue for another worker. */
  async drain(): Promise<void> {
    this.#accepting = false;
    for (const timer of this.#timers) clearInterval(timer);
    await this.#claiming;
    await this.#runs.drain();
  }

  async close(): Promise<void> {
    await this.drain();
    await this.#notifications.close();
    await this.#db.destroy();
  }

  /** Claims jobs until this worker runs `concurrency` of them or none is left; one claim loop at a time. */
  #claimWhileFree(): Promise<void> {
    // cleared in a callback, never synchronously: a worker that is full ends the loop without
    // awaiting, and a clear inside it would run before this assignment, leaving it set for good
    this.#claiming ??= this.#claimUntilFull().finally(() => {
      this.#claiming = undefined;
    });
    return this.#claiming;
  }

  async #claimUntilFull(): Promise<void> {
    try {
      while (this.#accepting && this.#runs.size < this.#concurrency) {
        const job = await this.#store.claim(this.#name, LEASE_MS);
        if (!job) break;
        this.#log.info({ jobId: job.id, worker: this.#name }, 'job claimed');
        this.#runs.start(job);
      }
    } catch (error) {
      this.#log.warn({ error: (error as Error).message }, 'cannot claim jobs; trying again shortly');
    }
  }

  /** A job whose lease cannot be renewed is no longer this worker's (cancelled, or taken over): it stops, writing nothing. */
  async #renewLeases(): Promise<void> {
    for (const jobId of this.#runs.ids()) {
      const held = await this.#store.renewLease(jobId, this.#name, LEASE_MS).catch((error: Error) => {
        this.#log.warn({ jobId, error: error.message }, 'cannot renew its lease; trying again');
        return true; // the database is away: keep working, the lease may still hold
      });
      if (!held) {
        this.#log.warn({ jobId }, 'lost its lease (cancelled, or taken over); stopping it');
        void this.#runs.cancel(jobId, { abandon: true });
      }
    }
  }

  /** Any process's event: a job queued wakes this worker; a job of its own cancelled elsewhere is stopped. */
  #hear(notice: EventNotice | undefined): void {
    if (notice && 'type' in notice && notice.type === 'cancelled') {
      if (this.#runs.ids().includes(notice.job_id)) void this.#runs.cancel(notice.job_id, { abandon: true });
      return;
    }
    if (!notice || ('type' in notice && notice.type === 'phase' && JSON.parse(notice.data).phase === 'queued'))
      void this.#claimWhileFree();
  }

  #logEvent(event: JobEvent | undefined): void {
    if (!event) return;
    const started = this.#startedAt.get(event.job_id);
    const line = logLineOf(event, started === undefined ? undefined : (performance.now() - started) / 1000);
    if (line) this.#log[line.level]({ ...line.fields, worker: this.#name }, line.msg);
  }
}
