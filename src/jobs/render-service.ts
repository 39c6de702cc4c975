// The jobs module's one surface: submit, read, cancel and follow jobs, usage, webhook
// deliveries, stored outputs, accounts, readiness. Embedded mode (one data folder, SQLite):
// jobs run in this process. Distributed mode (`database`: Postgres, shared by API nodes and
// workers): jobs wait in the database for a `reelsmith worker` (render-worker.ts), and what
// any process writes reaches this one's event streams by LISTEN (notifications.ts). What it
// works with (the store, the live event hub, output storage, the webhook outbox, the
// database, the scene pool and cache, the jobs running here) is private and built here from
// one options object: the API and the CLI see only these methods, and never SQL.
import pino, { type Logger } from 'pino';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { collectProblems, frameSeconds, layerBoxes, normalizeMovie, summarizeProblems } from '../movie/index.ts';
import {
  DEFAULT_PRESET,
  isDiskFull,
  type NetworkPolicy,
  ScenePool,
  sceneWorkers,
  sharedSceneSlots,
  type TimeLimits,
  urlRefusal,
} from '../render/index.ts';
import { LocalStorage, type Storage, type StoredFile } from '../storage/index.ts';
import { Accounts } from './accounts.ts';
import {
  type AccountRow,
  type Database,
  type JobEvent,
  type JobRow,
  openPostgres,
  openSqlite,
  type ProjectRow,
} from './database.ts';
import { DEFAULT_MIN_FREE_BYTES, freeBytes, storageFull } from './disk-space.ts';
import { ServiceError } from './errors.ts';
import { EventHub } from './event-hub.ts';
import { replayThenFollow } from './event-stream.ts';
import type { RunnerContext } from './job-runner.ts';
import { isTerminal, type Status } from './job-state.ts';
import { JobStore, type Usage } from './job-store.ts';
import { type Job, type JobMessage, jobOf, messageOf } from './job-view.ts';
import { decodeCursor, encodeCursor } from './page-cursor.ts';
import { limitRefusal, type Plan, planRefusal, submitLimits } from './plan.ts';
import { EventNotifications, type EventNotice } from './notifications.ts';
import { checkReadiness, type Readiness } from './readiness.ts';
import { type RenderRequest, requestProblems } from './render-request.ts';
import { type RequestCount, RequestCounts } from './request-counts.ts';
import { requestHash } from './request-hash.ts';
import { SceneCache } from './scene-cache.ts';
import { RunningJobs } from './running-jobs.ts';
import { logRetry, untilStored } from './store-retry.ts';
import { type Delivery, WebhookOutbox } from './webhooks.ts';
import { logEvent } from './job-log.ts';

/** Distributed mode: how often an API node looks for jobs whose webhooks nobody feeds (their node died). */
const UNTOLD_SWEEP_MS = 15_000;

/** A webhook may be retried for more than a day, so the outputUrl it carries lasts a week. */
const WEBHOOK_URL_TTL = 7 * 86_400;
/** How long an outputUrl lasts: a day (the seed gives no lifetime; fetch the job again for a fresh one). */
const OUTPUT_URL_TTL = 86_400;

export interface ServiceOptions {
  dataDir: string;
  /** Distributed mode: the Postgres database (postgres://...) API nodes and workers share; jobs run on workers. */
  database?: string;
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
  /** The disk one job's work files may take (default: the engine's). */
  workDiskBytes?: number;
  /** Submits are refused (507) while the data folder's disk has less free (default 256 MiB). */
  minFreeBytes?: number;
  /** Where the service says what happens to jobs and webhooks (default: nowhere). */
  logger?: Logger;
  /** Where outputs go (default: the data folder's storage/, served by the API's signed links). */
  storage?: Storage;
}

/** A submit: whose, under which plan, the request body as sent, and its Idempotency-Key if any. */
export interface Submission {
  accountId: string;
  plan: Plan;
  body: unknown;
  idempotencyKey?: string;
}

export interface Submitted {
  jobId: string;
  /** queued; for a replayed Idempotency-Key, the job's status now. */
  status: Status;
}

export class RenderService {
  readonly #db: Database;
  readonly #store: JobStore;
  readonly #accounts: Accounts;
  readonly #requests: RequestCounts;
  readonly #hub = new EventHub();
  readonly #log: Logger;
  #localStorage?: LocalStorage;
  readonly #webhooks: WebhookOutbox;
  readonly #cache: SceneCache;
  /** Embedded mode: the jobs running here (none until `recover` has swept what a killed process left). */
  readonly #runs?: RunningJobs;
  /** Distributed mode: events written by any process, heard here and published to the hub. */
  readonly #notifications?: EventNotifications;
  /** The last event published per job followed here, to replay from after missed notifications. */
  readonly #heard = new Map<string, number>();
  #publishing = Promise.resolve();
  /** Distributed mode: feeds the webhooks of jobs no node feeds (see `recover`). */
  #untoldSweep?: NodeJS.Timeout;
  #accepting = true;
  /** Aborted on close: the event streams still open (webhook feeds) end. */
  readonly #closing = new AbortController();
  /** Each job's webhook feed running now (see #feedWebhooks). */
  readonly #feeds = new Map<string, Promise<void>>();

  private constructor(
    db: Database,
    readonly options: ServiceOptions,
  ) {
    this.#db = db;
    this.#log = options.logger ?? pino({ level: 'silent' });
    this.#store = new JobStore(db);
    this.#accounts = new Accounts(db);
    this.#requests = new RequestCounts(db, this.#log);
    this.#cache = new SceneCache(join(options.dataDir, 'scene-cache'));
    if (options.database)
      this.#notifications = new EventNotifications(
        options.database,
        { events: (notice) => this.#hear(notice) },
        this.#log,
      );
    else {
      const pool = new ScenePool(options.workers ?? sharedSceneSlots(availableParallelism()));
      this.#runs = new RunningJobs({
        // enough jobs planning, rendering or assembling at once to keep the scene pool busy
        maxActive: pool.size * 2,
        context: () => this.#runnerContext(pool),
        store: this.#store,
        log: this.#log,
        announce: (event) => this.#announce(event),
      });
    }
    this.#webhooks = new WebhookOutbox(db, async (jobId) => (await this.#projectOfJob(jobId))?.webhook_secret, {
      network: options.network ?? {},
      retryScale: options.webhookRetryScale,
      log: this.#log,
    });
  }

  /** Where outputs are: the bucket given, or the data folder's (made, with its link secret, when first used: the admin commands of the distributed mode leave no data folder behind). */
  get #storage(): Storage {
    return (
      this.options.storage ??
      (this.#localStorage ??= new LocalStorage(
        join(this.options.dataDir, 'storage'),
        serviceSecret(this.options.dataDir),
        () => this.options.publicUrl,
      ))
    );
  }

  static async open(options: ServiceOptions): Promise<RenderService> {
    const db = options.database ? await openPostgres(options.database) : await openSqlite(options.dataDir);
    return new RenderService(db, options);
  }

  // -------------------------------------------------------------------------------------
  // Jobs

  /**
   * Submits a render request in one step: the request's checks, the project, the plan's
   * canvas, length and preset, the disk, then (in one transaction) the Idempotency-Key, the
   * plan's concurrent jobs and minutes with the reservation, and the job queued. A refusal is
   * a ServiceError naming the catalogue code; nothing is stored then.
   */
  async submit(submission: Submission): Promise<Submitted> {
    const { accountId, plan, body } = submission;
    const report = collectProblems(
      requestProblems(body, {
        allowLocalFiles: false,
        projectRequired: true,
        callbackRefusal: (url) => urlRefusal(new URL(url), this.options.network ?? {}),
      }),
    );
    if (report.total > 0)
      throw new ServiceError(
        'INVALID_MOVIE_JSON',
        `The request failed validation: ${summarizeProblems(report)}`,
        report.problems,
      );
    const request = body as RenderRequest;
    const project = await this.#accounts.project(accountId, request.projectId);
    if (!project) throw new ServiceError('NOT_FOUND', `Project ${request.projectId} not found`);

    const movie = normalizeMovie(request.movie, { allowLocalFiles: false });
    const seconds = frameSeconds(movie.frames, movie.fps);
    const preset = request.renderOptions?.qualityPreset ?? DEFAULT_PRESET;
    const workers = sceneWorkers(preset, request.renderOptions?.requestedConcurrency);
    const canvas = { width: movie.width, height: movie.height };
    const refusal = planRefusal(plan, { ...canvas, seconds, boxes: layerBoxes(movie) }, preset, workers);
    if (refusal) throw refusal;

    // a full disk refuses the job before anything is stored, and so does a store write that hits one
    if (!(await this.#diskHasRoom())) throw storageFull();
    const key = submission.idempotencyKey;
    const outcome = await this.#store
      .submit(
        {
          accountId,
          projectId: project.id,
          request,
          seconds,
          workers,
          callbackUrl: request.callbackUrl,
          scenes: movie.scenes.map((s) => ({ id: s.id, frames: s.frames })),
          idempotency: key ? { key, requestHash: requestHash(body) } : undefined,
        },
        submitLimits(plan),
      )
      .catch((err) => {
        throw isDiskFull(err) ? storageFull(err) : err;
      });
    if ('refused' in outcome) throw limitRefusal(plan, outcome.refused);
    const { job, replayed } = outcome;
    if (!replayed) {
      this.#log.info({ jobId: job.id, accountId, projectId: project.id, seconds, workers }, 'job submitted');
      if (job.callback_url) this.#feedWebhooks(job.id, job.callback_url);
      // distributed: the workers heard of it with its first event
      this.#runs?.start(job);
    }
    return { jobId: job.id, status: job.status as Status };
  }

  /** A job of the account's; another account's job is not found, like one that does not exist. */
  async jobFor(accountId: string, jobId: string): Promise<Job> {
    return this.#view(await this.#ownJob(accountId, jobId));
  }

  /** The account's (or one of its projects') jobs, newest first, a page at a time. */
  async listJobs(
    accountId: string,
    options: { projectId?: string; limit: number; cursor?: string },
  ): Promise<{ jobs: Job[]; nextCursor: string | null }> {
    const rows = await this.#store.list(accountId, {
      projectId: options.projectId,
      limit: options.limit + 1,
      before: decodeCursor(options.cursor),
    });
    const page = rows.slice(0, options.limit);
    const last = page.at(-1);
    return {
      jobs: await Promise.all(page.map((job) => this.#view(job))),
      nextCursor:
        rows.length > options.limit && last ? encodeCursor({ createdAt: last.created_at, id: last.id }) : null,
    };
  }

  /** Cancels a job of the account's: running ffmpeg processes are killed, reserved minutes returned. A finished job is left as it is. */
  async cancel(accountId: string, jobId: string): Promise<Job> {
    const job = await this.#ownJob(accountId, jobId);
    // a job running here ends cancelled when its run stops; any other is ended here, and in
    // distributed mode the worker running it hears its final event and stops
    if (!isTerminal(job.status) && !(await this.#runs?.cancel(jobId)))
      this.#announce(await this.#store.finish(jobId, 'cancelled', {}, {}));
    return this.#view((await this.#store.job(jobId)) ?? job);
  }

  /** Render seconds the account used and reserved this month and today, and its active jobs. */
  async usage(accountId: string): Promise<Usage> {
    return this.#store.usage(accountId);
  }

  /** The webhook deliveries of a job of the account's, each with every attempt. */
  async deliveries(accountId: string, jobId: string): Promise<Delivery[]> {
    return this.#webhooks.deliveries((await this.#ownJob(accountId, jobId)).id);
  }

  /**
   * A job's events after `afterId`: first those stored, then live ones as they are written,
   * until its final event (done, failed, cancelled), or until `signal` aborts. Nothing is
   * missed or told twice between the two. SSE streams and webhook feeds both read this.
   * `urlTtlSeconds`: how long the outputUrl of a `done` event lasts (default: the service's).
   */
  async *events(
    jobId: string,
    afterId = 0,
    options: { signal?: AbortSignal; urlTtlSeconds?: number } = {},
  ): AsyncGenerator<JobMessage> {
    const live = this.#hub.follow(jobId, options.signal);
    const stored = {
      after: (id: number) => this.#store.events(jobId, id),
      ended: async () => {
        const job = await this.#store.job(jobId);
        return !job || isTerminal(job.status);
      },
    };
    for await (const event of replayThenFollow(stored, live, afterId)) {
      if (event.type !== 'done') yield messageOf(event);
      else {
        const job = await this.#store.job(jobId);
        const outputUrl = job?.output_key ? await this.outputUrl(job.output_key, options.urlTtlSeconds) : undefined;
        yield messageOf(event, { job, outputUrl });
      }
    }
  }

  /** A stored output behind a signed link; INVALID_SIGNATURE for a wrong or expired one. */
  async readOutput(key: string, expires: string | undefined, signature: string | undefined): Promise<StoredFile> {
    // outputs in object storage are fetched from it by their presigned links, never through here
    if (!(this.#storage instanceof LocalStorage) || !this.#storage.verify(key, expires, signature))
      throw new ServiceError(
        'INVALID_SIGNATURE',
        'This link is invalid or has expired; fetch the job again for a fresh outputUrl',
      );
    const file = await this.#storage.stat(key).catch(() => undefined);
    if (!file) throw new ServiceError('NOT_FOUND', 'No such file');
    return file;
  }

  /** A link to a stored output, valid for `ttlSeconds` from now (default: the service's, 24 h). */
  outputUrl(key: string, ttlSeconds = this.options.urlTtlSeconds ?? OUTPUT_URL_TTL): Promise<string> {
    return this.#storage.urlFor(key, Math.floor(Date.now() / 1000) + ttlSeconds);
  }

  /** How many jobs there are of each status, all tenants together. */
  async jobCounts(): Promise<Array<{ status: string; count: number }>> {
    return this.#store.countByStatus();
  }

  // -------------------------------------------------------------------------------------
  // Accounts, projects, keys (admin commands and the API's authentication)

  createAccount(input: { name: string; plan: string }): Promise<AccountRow> {
    return this.#accounts.createAccount(input);
  }

  /** On a database with no account yet: one account on `plan`, its project `projectId` and a key (undefined: there are accounts). */
  createFirstAccount(input: { name: string; plan: string; projectId: string }) {
    return this.#accounts.createFirst(input);
  }

  listAccounts(): Promise<AccountRow[]> {
    return this.#accounts.listAccounts();
  }

  createProject(input: { accountId: string; name: string; id?: string }): Promise<ProjectRow> {
    return this.#accounts.createProject(input);
  }

  /** Makes a key; the returned `key` is the only time it exists in clear. */
  createKey(input: { accountId: string; environment?: 'prod' | 'test' }) {
    return this.#accounts.createKey(input);
  }

  revokeKey(id: string): Promise<boolean> {
    return this.#accounts.revokeKey(id);
  }

  /** The account an API key belongs to, if the key is real and not revoked. */
  authenticate(key: string): Promise<AccountRow | undefined> {
    return this.#accounts.authenticate(key);
  }

  // -------------------------------------------------------------------------------------
  // Rate limits (the plan's requests per minute)

  /**
   * Whether the API should count requests with `countRequest`. Distributed mode: yes, since
   * several API nodes share the plan's requests per minute. Embedded mode: no, one process
   * serves every request, so counting in its memory is exact and costs no write per request.
   */
  get sharedRateLimits(): boolean {
    return this.options.database !== undefined;
  }

  /**
   * Counts a request against `key` (an account) in the database, in windows of `windowMs`:
   * how many its window holds now, this one included, and when it ends. Undefined when the
   * database cannot count it: the request then goes uncounted, not refused (logged once).
   */
  countRequest(key: string, windowMs: number): Promise<RequestCount | undefined> {
    return this.#requests.count(key, windowMs);
  }

  // -------------------------------------------------------------------------------------
  // Life: recover, readiness, drain, close

  /**
   * Starts working (the server calls this once; admin commands never do): clears what a
   * killed process left half-written, starts the webhook outbox, and resumes every
   * unfinished job. Returns how many were resumed.
   */
  async recover(): Promise<number> {
    await this.#notifications?.start();
    await this.#feedUntold();
    this.#webhooks.start();
    if (!this.#runs) {
      // distributed: unfinished jobs are the workers' to resume; the jobs of an API node that
      // died are fed by the others (a delivery is recorded once per event, whoever feeds it)
      this.#untoldSweep = setInterval(() => void this.#feedUntold().catch(() => {}), UNTOLD_SWEEP_MS);
      return 0;
    }
    await this.#cache.sweep();
    await rm(join(this.options.dataDir, 'work'), { recursive: true, force: true });
    // jobs submitted while recovering are among these (they wait in the queue until now)
    const jobs = await this.#store.unfinished();
    for (const job of jobs) this.#runs.start(job);
    this.#runs.resume();
    return jobs.length;
  }

  /** Whether this server should get traffic now (GET /readyz). */
  readiness(): Promise<Readiness> {
    return checkReadiness({
      draining: () => this.draining,
      ping: () => this.#store.ping(),
      diskHasRoom: () => this.#diskHasRoom(),
      log: this.#log,
    });
  }

  /** True from the start of `drain` on: the server is going away and should get no new traffic. */
  get draining(): boolean {
    return !this.#accepting;
  }

  /** SIGTERM: take no new work, stop running jobs and put them back in the queue. */
  async drain(): Promise<void> {
    this.#accepting = false;
    await this.#runs?.drain();
    this.#webhooks.stop();
  }

  async close(): Promise<void> {
    clearInterval(this.#untoldSweep);
    await this.drain();
    // what the feeds have not recorded yet, the next start tells (#webhooks.untold)
    this.#closing.abort();
    await Promise.all(this.#feeds.values());
    await this.#notifications?.close();
    await this.#db.destroy();
  }

  /** Where clients reach the service, once it is known (after listening on a port chosen by the system). */
  setPublicUrl(url: string): void {
    this.options.publicUrl = url;
  }

  // -------------------------------------------------------------------------------------
  // Inside

  async #ownJob(accountId: string, jobId: string): Promise<JobRow> {
    const job = await this.#store.job(jobId);
    if (!job || job.account_id !== accountId) throw new ServiceError('NOT_FOUND', `Job ${jobId} not found`);
    return job;
  }

  async #view(job: JobRow): Promise<Job> {
    const outputUrl = job.status === 'done' && job.output_key ? await this.outputUrl(job.output_key) : undefined;
    return jobOf(job, await this.#store.scenes(job.id), outputUrl);
  }

  /** Whether the data folder's disk has the free space new jobs need (`minFreeBytes`); an API node of the distributed mode writes nothing there. */
  async #diskHasRoom(): Promise<boolean> {
    if (this.options.database) return true;
    return (await freeBytes(this.options.dataDir)) >= (this.options.minFreeBytes ?? DEFAULT_MIN_FREE_BYTES);
  }

  /** Written already; now tell the live listeners (SSE streams, webhook feeds). Nothing, if nothing changed. */
  #announce(event: JobEvent | undefined): void {
    if (!event) return;
    if (!this.#notifications) this.#hub.publish(event); // distributed: it comes back as a notification
    logEvent(this.#log, event, this.#runs?.secondsRunning(event.job_id));
  }

  /** Feeds every job with a callback and events untold (a feed already running here is not started twice). */
  async #feedUntold(): Promise<void> {
    for (const { jobId, callbackUrl } of await this.#webhooks.untold()) this.#feedWebhooks(jobId, callbackUrl);
  }

  /**
   * Records a webhook delivery for each event of a job that its callback was not told yet,
   * as the events are written, until the job ends or the service closes. A delivery that
   * cannot be recorded is tried again until it is; one left when the service closes is
   * recorded by the next start, which feeds every job with events untold.
   */
  #feedWebhooks(jobId: string, callbackUrl: string): void {
    if (this.#feeds.has(jobId)) return;
    const signal = this.#closing.signal;
    const feed = (async () => {
      const after = await this.#webhooks.toldUpTo(jobId);
      for await (const message of this.events(jobId, after, { signal, urlTtlSeconds: WEBHOOK_URL_TTL }))
        await untilStored(
          () => this.#webhooks.enqueue(message, callbackUrl),
          signal,
          logRetry(this.#log, jobId, 'a webhook'),
        );
    })()
      .catch((error) => {
        if (!signal.aborted) this.#log.error({ jobId, error: (error as Error).message }, 'cannot record its webhooks');
      })
      .finally(() => this.#feeds.delete(jobId));
    this.#feeds.set(jobId, feed);
  }

  /**
   * Distributed mode: an event written by some process (this one included), published to the
   * hub in the order heard. A notice without the event (too large to send) is read from the
   * store; after a reconnect (`undefined`), every job followed here is read again from the
   * last event heard, since notifications sent meanwhile are lost.
   */
  #hear(notice: EventNotice | undefined): void {
    const publish = (event: JobEvent) => {
      if (event.id <= (this.#heard.get(event.job_id) ?? 0)) return;
      this.#hub.publish(event);
      if (isTerminal(event.type)) this.#heard.delete(event.job_id);
      else if (this.#hub.isFollowed(event.job_id)) this.#heard.set(event.job_id, event.id);
    };
    const read = async (jobId: string, afterId: number) => {
      for (const event of await this.#store.events(jobId, afterId)) publish(event);
    };
    this.#publishing = this.#publishing
      .then(async () => {
        if (!notice) for (const jobId of this.#hub.followedJobs()) await read(jobId, this.#heard.get(jobId) ?? 0);
        else if ('type' in notice) publish(notice);
        else await read(notice.job_id, notice.id - 1);
      })
      .catch((error) => this.#log.error({ error: (error as Error).message }, 'events: cannot read what was heard'));
  }

  #runnerContext(pool: ScenePool): RunnerContext {
    return {
      log: this.#log,
      store: this.#store,
      pool,
      cache: this.#cache,
      storage: this.#storage,
      announce: async (event: JobEvent | undefined) => this.#announce(event),
      workRoot: join(this.options.dataDir, 'work'),
      sourceDir: join(this.options.dataDir, 'sources'),
      fetch: this.options.network ?? {},
      cores: availableParallelism(),
      limits: this.options.limits,
      workDiskBytes: this.options.workDiskBytes,
    };
  }

  async #projectOfJob(jobId: string) {
    const job = await this.#store.job(jobId);
    return job ? this.#accounts.projectById(job.project_id) : undefined;
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
