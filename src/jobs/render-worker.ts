// Distributed mode's worker (`reelsmith worker`): takes jobs from the database the API nodes
// share, a lease at a time, and runs them as the embedded service does (plan, render scenes
// through the project's scene cache in object storage, assemble, upload the output). A lease
// is renewed every few seconds while the job runs; a worker that dies (SIGKILL, a lost
// machine) stops renewing, and once its lease lapses another worker claims the job and
// finishes it, reusing the scenes already in the cache; a job whose lease lapsed too
// often (3 times by default) fails instead (leases.ts). The next claim goes to the account
// with the fewest jobs running (job-store.ts). Cancels reach it as the job's final event,
// heard by LISTEN: its ffmpeg processes are killed at once.
//
// A job's uncached scenes are also scene tasks (scene-tasks.ts): the job's worker renders
// those it can take and waits for the others (scene-coordinator.ts); a worker with a free
// slot and no job to claim renders another job's scene task (scene-task-run.ts), under a
// lease of its own, so one long job spreads over machines.
import { rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import { type NetworkPolicy, ScenePool, sharedSceneSlots, type TimeLimits } from '../render/index.ts';
import type { Storage } from '../storage/index.ts';
import { type Database, IDLE_TRANSACTION_MS, type JobEvent, openPostgres, type SceneTaskRow } from './database.ts';
import { failureOf } from './job-failure.ts';
import { logEvent } from './job-log.ts';
import { JobStore } from './job-store.ts';
import { DEFAULT_LEASES, type LeaseSettings } from './leases.ts';
import { EventNotifications, type EventNotice } from './notifications.ts';
import type { RunnerContext } from './job-runner.ts';
import { RunningJobs } from './running-jobs.ts';
import { coordinateScenes, SceneWaits } from './scene-coordinator.ts';
import { runSceneTask } from './scene-task-run.ts';
import { SceneTasks, storedFailure } from './scene-tasks.ts';
import { StoredSceneCache } from './stored-scene-cache.ts';
import { throttle } from './throttle.ts';

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
  /** The disk one job's work files may take (default: the engine's). */
  workDiskBytes?: number;
  logger?: Logger;
  /** This worker's name in leases and logs (default: host and process id). */
  name?: string;
  /**
   * How long its leases hold, how often they are renewed, how many lapses fail a job
   * (default: DEFAULT_LEASES; `reelsmith worker` sets them from --lease-seconds and --lease-tries).
   */
  leases?: LeaseSettings;
}

/** A scene task of another job rendering here. */
interface SceneRun {
  task: SceneTaskRow;
  abort: AbortController;
  /** How a stopped run ends: given back to the queue (draining), else left as it is. */
  ending?: 'release';
  done: Promise<void>;
}

export class RenderWorker {
  readonly #db: Database;
  readonly #store: JobStore;
  readonly #runs: RunningJobs;
  readonly #notifications: EventNotifications;
  readonly #log: Logger;
  readonly #name: string;
  readonly #concurrency: number;
  readonly #leases: LeaseSettings;
  readonly #timers: NodeJS.Timeout[] = [];
  readonly #cache: StoredSceneCache;
  readonly #tasks: SceneTasks;
  readonly #waits = new SceneWaits();
  readonly #sceneRuns = new Map<string, SceneRun>();
  readonly #context: () => RunnerContext;
  #accepting = true;
  #claiming?: Promise<void>;

  private constructor(
    db: Database,
    private readonly options: WorkerOptions,
    leases: LeaseSettings,
  ) {
    this.#db = db;
    this.#store = new JobStore(db);
    this.#log = options.logger ?? pino({ level: 'silent' });
    this.#name = options.name ?? `${hostname()}:${process.pid}`;
    this.#concurrency = options.concurrency ?? 1;
    this.#leases = leases;
    const pool = new ScenePool(sharedSceneSlots(options.cores));
    const cache = new StoredSceneCache(options.storage, join(options.workDir, 'scene-cache'));
    this.#cache = cache;
    this.#tasks = new SceneTasks(db);
    this.#context = () => ({
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
      workDiskBytes: options.workDiskBytes,
      dispatch: (job, signal) =>
        coordinateScenes(job.id, signal, {
          tasks: this.#tasks,
          waits: this.#waits,
          worker: this.#name,
          leases: this.#leases,
          log: this.#log,
        }),
    });
    this.#runs = new RunningJobs({
      maxActive: this.#concurrency,
      store: this.#store,
      log: this.#log,
      announce: (event) => this.#logEvent(event),
      // the scenes it was rendering itself go back too, before the process ends
      requeue: async (job) => {
        await this.#tasks.release(job.id, this.#name);
        return this.#store.release(job.id, this.#name);
      },
      onEnded: () => void this.#claimWhileFree(),
      context: this.#context,
    });
    this.#notifications = new EventNotifications(
      options.database,
      {
        events: (notice) => this.#hear(notice),
        // tasks offered wake an idle worker; a task ended wakes its coordinator
        scenes: (jobId) => {
          this.#waits.wake(jobId);
          void this.#claimWhileFree();
        },
      },
      this.#log,
    );
  }

  static async open(options: WorkerOptions): Promise<RenderWorker> {
    const leases = options.leases ?? DEFAULT_LEASES;
    const db = await openPostgres(options.database, Math.min(IDLE_TRANSACTION_MS, leases.leaseMs / 2));
    return new RenderWorker(db, options, leases);
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
      setInterval(() => void this.#renewLeases(), this.#leases.renewEveryMs),
    );
    await this.#claimWhileFree();
  }

  /** SIGTERM: take no new job; the jobs and scene tasks running here go back to the queue for another worker. */
  async drain(): Promise<void> {
    this.#accepting = false;
    for (const timer of this.#timers) clearInterval(timer);
    await this.#claiming;
    const scenes = [...this.#sceneRuns.values()];
    for (const run of scenes) {
      run.ending = 'release';
      run.abort.abort();
    }
    await Promise.all([this.#runs.drain(), ...scenes.map((run) => run.done)]);
  }

  async close(): Promise<void> {
    await this.drain();
    await this.#notifications.close();
    await this.#db.destroy();
  }

  /** Claims jobs until this worker runs `concurrency` of them or none is left; one claiming at a time. */
  #claimWhileFree(): Promise<void> {
    // cleared in a callback, which runs only after the assignment (the claim may end at once)
    this.#claiming ??= this.#claim().finally(() => {
      this.#claiming = undefined;
    });
    return this.#claiming;
  }

  /** A slot is a job or a scene task; jobs first, then other jobs' scenes. */
  async #claim(): Promise<void> {
    try {
      const { leaseMs, tries } = this.#leases;
      while (this.#accepting && this.#runs.size + this.#sceneRuns.size < this.#concurrency) {
        const claimed = await this.#store.claim(this.#name, leaseMs, tries);
        if (claimed && 'failed' in claimed) {
          // its workers stopped answering: told as any failure is (stored, so SSE and webhooks hear it)
          this.#logEvent(claimed.failed);
          continue;
        }
        if (claimed) {
          this.#log.info({ jobId: claimed.job.id, worker: this.#name }, 'job claimed');
          this.#runs.start(claimed.job);
          continue;
        }
        const task = await this.#tasks.claim(this.#name, leaseMs, tries);
        if (!task) break;
        this.#startScene(task);
      }
    } catch (error) {
      this.#log.warn({ error: (error as Error).message }, 'cannot claim jobs; trying again shortly');
    }
  }

  /** Renders another job's scene task here, then records it done or failed (nothing when stopped: cancelled, lost or drained). */
  #startScene(task: SceneTaskRow): void {
    const { job_id: jobId, scene_index: scene } = task;
    const fields = { jobId, scene, worker: this.#name };
    this.#log.info(fields, 'scene task claimed');
    const run: SceneRun = { task, abort: new AbortController(), done: Promise.resolve() };
    const finish = (error?: string) =>
      this.#tasks.finish(jobId, scene, this.#name, error).catch((err: Error) => {
        // the lease lapses and its coordinator takes the scene over
        this.#log.warn({ ...fields, error: err.message }, 'cannot record its scene task');
      });
    // its frames reach the job's progress through its coordinator, at most every PROGRESS_EVERY_MS
    let frames = 0;
    const report = throttle(() => this.#tasks.recordFrames(jobId, scene, this.#name, frames).catch(() => {}));
    const onFrames = (done: number) => {
      frames = done;
      report();
    };
    run.done = runSceneTask(task, this.#context(), run.abort.signal, onFrames)
      .finally(() => report.cancel())
      .then(
        async () => {
          this.#log.info(fields, 'scene task done');
          await finish();
        },
        async (err) => {
          if (run.abort.signal.aborted) {
            if (run.ending === 'release') await this.#tasks.release(jobId, this.#name, scene).catch(() => {});
            return;
          }
          const failure = failureOf(err);
          this.#log.warn({ ...fields, error: failure.log ?? failure.message }, 'scene task failed');
          await finish(storedFailure(failure));
        },
      )
      .finally(() => {
        this.#sceneRuns.delete(sceneRunId(task));
        void this.#claimWhileFree();
      });
    this.#sceneRuns.set(sceneRunId(task), run);
  }

  /** A job whose lease cannot be renewed is no longer this worker's (cancelled, or taken over): it stops, writing nothing. */
  async #renewLeases(): Promise<void> {
    for (const jobId of this.#runs.ids()) {
      const held = await this.#store.renewLease(jobId, this.#name, this.#leases.leaseMs).catch((error: Error) => {
        this.#log.warn({ jobId, error: error.message }, 'cannot renew its lease; trying again');
        return true; // the database is away: keep working, the lease may still hold
      });
      if (!held) {
        this.#log.warn({ jobId }, 'lost its lease (cancelled, or taken over); stopping it');
        void this.#runs.cancel(jobId, { abandon: true });
      }
    }
    for (const run of this.#sceneRuns.values()) {
      const { job_id: jobId, scene_index: scene } = run.task;
      const held = await this.#tasks.renewLease(jobId, scene, this.#name, this.#leases.leaseMs).catch(() => true);
      if (!held) {
        this.#log.warn({ jobId, scene }, 'lost its scene lease (job ended, or taken over); stopping it');
        run.abort.abort();
      }
    }
  }

  /** Any process's event: a job queued wakes this worker; a job of its own cancelled elsewhere is stopped. */
  #hear(notice: EventNotice | undefined): void {
    if (notice && 'type' in notice && notice.type === 'cancelled') {
      for (const run of this.#sceneRuns.values())
        if (run.task.job_id === notice.job_id) {
          this.#log.info({ jobId: notice.job_id, scene: run.task.scene_index }, 'job cancelled; stopping its scene');
          run.abort.abort();
        }
      if (this.#runs.ids().includes(notice.job_id)) {
        this.#log.info({ jobId: notice.job_id, worker: this.#name }, 'job cancelled; stopping it');
        void this.#runs.cancel(notice.job_id, { abandon: true });
      }
      return;
    }
    if (!notice || ('type' in notice && notice.type === 'phase' && JSON.parse(notice.data).phase === 'queued'))
      void this.#claimWhileFree();
  }

  #logEvent(event: JobEvent | undefined): void {
    if (event) logEvent(this.#log, event, this.#runs.secondsRunning(event.job_id), { worker: this.#name });
  }
}

function sceneRunId(task: SceneTaskRow): string {
  return `${task.job_id}#${task.scene_index}`;
}
