// The job service for one data folder (embedded mode): the store, the shared scene pool,
// the scene cache, output storage, the webhook outbox, and the jobs running right now.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import {
  AbortedError,
  isDiskFull,
  ScenePool,
  urlRefusal,
  type NetworkPolicy,
  type TimeLimits,
} from '../render/index.ts';
import { LocalStorage } from '../storage/index.ts';
import { Accounts } from './accounts.ts';
import { openSqlite, type Database, type JobEvent, type JobRow } from './database.ts';
import { DEFAULT_MIN_FREE_BYTES, freeBytes, storageFull } from './disk-space.ts';
import { EventHub } from './event-hub.ts';
import { isTerminal } from './job-state.ts';
import { JobStore, type NewJob, type SubmitLimits, type SubmitOutcome } from './job-store.ts';
import { failureOf } from './job-failure.ts';
import { runJob } from './job-runner.ts';
import { SceneCache } from './scene-cache.ts';
import { logRetry, untilStored } from './store-retry.ts';
import { WebhookOutbox } from './webhooks.ts';

/** A webhook may be retried for more than a day, so the outputUrl it carries lasts a week. */
const WEBHOOK_URL_TTL = 7 * 86_400;

export interface ServiceOptions {
  dataDir: string;
  /** Base URL clients reach the service at, for outputUrl. */
  publicUrl: string;
  network?: NetworkPolicy;
  /** Scene workers shared by all jobs (default: the machine's cores, at least 2). */
  workers?: number;
  /** How long an outputUrl stays valid, seconds (default 24 h). */
  urlTtlSeconds?: number;
  webhookRetryScale?: number;
  /** How long each ffmpeg of a job may run (default: the engine's DEFAULT_TIME_LIMITS). */
  limits?: Partial<TimeLimits>;
  /** Submits are refused (507) while the data folder's disk has less free (default 256 MiB). */
  minFreeBytes?: number;
}

export class RenderService {
  readonly store: JobStore;
  readonly accounts: Accounts;
  readonly hub = new EventHub();
  readonly storage: LocalStorage;
  readonly webhooks: WebhookOutbox;
  private readonly pool: ScenePool;
  private readonly cache: SceneCache;
  private readonly running = new Map<string, { abort: AbortController; done: Promise<void>; requeue: boolean }>();
  /** Jobs waiting for a slot, oldest first: they stay `queued` until they start planning. */
  private waiting: JobRow[] = [];
  /** Jobs planning, rendering or assembling at once: enough to keep the scene pool busy. */
  private readonly maxActiveJobs: number;
  private accepting = true;
  /** Jobs start only once `recover` has swept what a killed process left, so it never sweeps theirs. */
  private recovered = false;
  /** Aborted when the server stops: a job's end that cannot be written is then left to the next start. */
  private readonly stopping = new AbortController();

  private constructor(
    readonly db: Database,
    readonly options: ServiceOptions,
  ) {
    this.store = new JobStore(db);
    this.accounts = new Accounts(db);
    this.storage = new LocalStorage(join(options.dataDir, 'storage'), serviceSecret(options.dataDir));
    this.cache = new SceneCache(join(options.dataDir, 'scene-cache'));
    this.pool = new ScenePool(options.workers ?? Math.max(2, availableParallelism()));
    this.maxActiveJobs = this.pool.size * 2;
    this.webhooks = new WebhookOutbox(db, async (jobId) => (await this.projectOfJob(jobId))?.webhook_secret, {
      network: options.network ?? {},
      retryScale: options.webhookRetryScale,
    });
  }

  static async open(options: ServiceOptions): Promise<RenderService> {
    return new RenderService(await openSqlite(options.dataDir), options);
  }

  /**
   * Starts working (the server calls this once; admin commands never do): clears what a
   * killed process left half-written, starts the webhook outbox, and resumes every
   * unfinished job. Returns how many were resumed.
   */
  async recover(): Promise<number> {
    await this.cache.sweep();
    await rm(join(this.options.dataDir, 'work'), { recursive: true, force: true });
    await this.redeliverLostEndings();
    this.webhooks.start();
    // jobs submitted while recovering are among these (they wait in the queue until now)
    const jobs = await this.store.unfinished();
    this.recovered = true;
    for (const job of jobs) this.start(job);
    this.startWaiting();
    return jobs.length;
  }

  /**
   * Stores a new job (see JobStore.submit), unless the disk is nearly full: then, or when the
   * store's write fails for a full disk, an INSUFFICIENT_STORAGE ServiceError and nothing stored.
   */
  async submit(input: NewJob, limits: SubmitLimits): Promise<SubmitOutcome> {
    if (!(await this.diskHasRoom())) throw storageFull();
    return this.store.submit(input, limits).catch((err) => {
      throw isDiskFull(err) ? storageFull(err) : err;
    });
  }

  /** Whether the data folder's disk has the free space new jobs need (`minFreeBytes`). */
  async diskHasRoom(): Promise<boolean> {
    return (await freeBytes(this.options.dataDir)) >= (this.options.minFreeBytes ?? DEFAULT_MIN_FREE_BYTES);
  }

  /** Queues a job to run in the background until it ends; at most `maxActiveJobs` run at once. */
  start(job: JobRow): void {
    if (!this.accepting || this.running.has(job.id) || this.waiting.some((j) => j.id === job.id)) return;
    this.waiting.push(job);
    this.startWaiting();
  }

  private startWaiting(): void {
    while (this.accepting && this.recovered && this.running.size < this.maxActiveJobs && this.waiting.length > 0) {
      const job = this.waiting.shift()!;
      const abort = new AbortController();
      const entry = { abort, requeue: false, done: Promise.resolve() };
      entry.done = runJob(job, this.runnerContext(), abort.signal)
        .catch((err) =>
          this.settleFailure(job.id, err, entry.requeue ? 'requeue' : abort.signal.aborted ? 'cancel' : 'fail'),
        )
        .finally(() => {
          this.running.delete(job.id);
          this.startWaiting();
        });
      this.running.set(job.id, entry);
    }
  }

  /** Cancels a job: running ffmpeg processes are killed, reserved minutes returned. */
  async cancel(jobId: string): Promise<JobRow | undefined> {
    const job = await this.store.job(jobId);
    if (!job || isTerminal(job.status)) return job;
    this.waiting = this.waiting.filter((j) => j.id !== jobId);
    const running = this.running.get(jobId);
    if (running) {
      running.abort.abort();
      await running.done;
    } else {
      await this.announce(await this.store.finish(jobId, 'cancelled', {}, {}));
    }
    return this.store.job(jobId);
  }

  /** True from the start of `drain` on: the server is going away and should get no new traffic. */
  get draining(): boolean {
    return !this.accepting;
  }

  /** SIGTERM: take no new work, stop running jobs and put them back in the queue. */
  async drain(): Promise<void> {
    this.accepting = false;
    this.stopping.abort();
    this.waiting = [];
    const entries = [...this.running.values()];
    for (const entry of entries) {
      entry.requeue = true;
      entry.abort.abort();
    }
    await Promise.all(entries.map((e) => e.done));
    this.webhooks.stop();
  }

  async close(): Promise<void> {
    await this.drain();
    await this.db.destroy();
  }

  /** Where clients reach the service, once it is known (after listening on a port chosen by the system). */
  setPublicUrl(url: string): void {
    this.options.publicUrl = url;
  }

  /** Why this service would refuse to call a callback URL (a private address it may not reach), if it would. */
  callbackRefusal(url: string): string | undefined {
    return urlRefusal(new URL(url), this.options.network ?? {});
  }

  /** A signed URL for a stored output. */
  outputUrl(key: string, ttlSeconds = this.options.urlTtlSeconds ?? 86_400): string {
    const expires = Math.floor(Date.now() / 1000) + ttlSeconds;
    return `${this.options.publicUrl.replace(/\/$/, '')}/v1/files/${key}?${this.storage.sign(key, expires)}`;
  }

  /** The body an event carries to SSE clients and webhooks: the seed's fields plus phase. */
  async payload(event: JobEvent, urlTtlSeconds?: number): Promise<Record<string, unknown>> {
    const data = JSON.parse(event.data) as Record<string, unknown>;
    const body: Record<string, unknown> = { event: event.type, jobId: event.job_id, ...data };
    if (event.type === 'done') {
      const job = await this.store.job(event.job_id);
      if (job?.output_key) body.outputUrl = this.outputUrl(job.output_key, urlTtlSeconds);
      if (job?.media_data) body.mediaData = JSON.parse(job.media_data);
    }
    return body;
  }

  /**
   * A job's final event is written before its webhook delivery; a process killed between the
   * two would lose the delivery, so every start makes the ones that are missing.
   */
  private async redeliverLostEndings(): Promise<void> {
    const lost = await this.db
      .selectFrom('job_events as e')
      .innerJoin('jobs as j', 'j.id', 'e.job_id')
      .selectAll('e')
      .select('j.callback_url')
      .where('j.callback_url', 'is not', null)
      .where('e.type', 'in', ['done', 'failed', 'cancelled'])
      .where(({ not, exists, selectFrom }) =>
        not(exists(selectFrom('webhook_deliveries as d').select('d.id').whereRef('d.event_id', '=', 'e.id'))),
      )
      .execute();
    for (const { callback_url, ...event } of lost)
      await this.webhooks.enqueue(event, callback_url, await this.payload(event, WEBHOOK_URL_TTL));
  }

  /** Written already; now tell the live listeners and the webhook outbox. (Nothing, if nothing changed.) */
  private async announce(event: JobEvent | undefined): Promise<void> {
    if (!event) return;
    this.hub.publish(event);
    const job = await this.store.job(event.job_id);
    if (job?.callback_url)
      await this.webhooks.enqueue(event, job.callback_url, await this.payload(event, WEBHOOK_URL_TTL));
  }

  /**
   * A run that threw (its work folder is removed by then): put back in the queue (drain),
   * cancelled (whatever the error), or failed. The store write is retried until it succeeds
   * (a full disk, a locked database), since a job left `running` with nobody working on it
   * would hold its minutes forever; only a stopping server gives up, and its next start
   * resumes the job.
   */
  private async settleFailure(jobId: string, err: unknown, outcome: 'requeue' | 'cancel' | 'fail'): Promise<void> {
    const end = async () => {
      if (outcome === 'requeue')
        return this.store.enterPhase(jobId, 'queued', (await this.store.job(jobId))?.progress ?? 0);
      if (outcome === 'cancel' || err instanceof AbortedError) return this.store.finish(jobId, 'cancelled', {}, {});
      const { code, message, log } = failureOf(err);
      // the operator's to fix, with our paths: the log gets it, the tenant hears what happened
      if (log) console.error(`job ${jobId}: ${log}`);
      return this.store.finish(
        jobId,
        'failed',
        { error_code: code, error_message: message },
        { error: { code, message } },
      );
    };
    let event: JobEvent | undefined;
    try {
      event = await untilStored(end, this.stopping.signal, logRetry(jobId, 'its end'));
    } catch (error) {
      console.error(`job ${jobId}: cannot record its end (${(error as Error).message}); the next start resumes it`);
      return;
    }
    // a lost webhook delivery is made again by the next start (redeliverLostEndings)
    await this.announce(event).catch((error) =>
      console.error(`job ${jobId}: cannot announce its end: ${(error as Error).message}`),
    );
  }

  private runnerContext() {
    return {
      store: this.store,
      pool: this.pool,
      cache: this.cache,
      storage: this.storage,
      announce: (event: JobEvent | undefined) => this.announce(event),
      workRoot: join(this.options.dataDir, 'work'),
      sourceDir: join(this.options.dataDir, 'sources'),
      fetch: this.options.network ?? {},
      cores: availableParallelism(),
      limits: this.options.limits,
    };
  }

  private async projectOfJob(jobId: string) {
    const job = await this.store.job(jobId);
    return job ? this.accounts.projectById(job.project_id) : undefined;
  }
}

/** The secret that signs output URLs: made once per data folder. */
function serviceSecret(dataDir: string): string {
  const path = join(dataDir, 'secret');
  if (!existsSync(path)) {
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(path, randomBytes(32).toString('hex'), { mode: 0o600, flag: 'wx' });
  }
  return readFileSync(path, 'utf8').trim();
}
