// The jobs this process is running, at most `maxActive` at once, the rest waiting: a slot
// that frees goes to the waiting job of the account with the fewest running, then to the
// oldest (fair-turn.ts), so one account's queue holds another's back by at most that slot.
// Each runs through runJob until it ends, and a run that throws is settled in the store
// (back in the queue when draining, cancelled, or failed with its code). The embedded
// service runs every job this way; a distributed worker runs the jobs it has claimed.
import type { Logger } from 'pino';
import { AbortedError } from '../render/index.ts';
import { addCount, nextTurn } from '../render/fair-turn.ts';
import type { JobEvent, JobRow } from './database.ts';
import { failureOf } from './job-failure.ts';
import { type RunnerContext, runJob } from './job-runner.ts';
import type { JobStore } from './job-store.ts';
import { logRetry, untilStored } from './store-retry.ts';

export interface RunningJobsOptions {
  maxActive: number;
  context: () => RunnerContext;
  store: JobStore;
  log: Logger;
  announce: (event: JobEvent | undefined) => void;
  /** Puts a drained job back in the queue (default: the phase `queued`, its progress kept). */
  requeue?: (job: JobRow) => Promise<JobEvent | undefined>;
  /** Called when a job's run has ended, however it ended. */
  onEnded?: (jobId: string) => void;
}

interface Run {
  abort: AbortController;
  done: Promise<void>;
  /** How a stopped run ends: back in the queue (draining), or left alone (abandoned); else cancelled. */
  ending?: 'requeue' | 'abandon';
  job: JobRow;
  /** performance.now() when it started, for the seconds its end is logged with. */
  startedAt: number;
}

export class RunningJobs {
  readonly #running = new Map<string, Run>();
  /** Jobs waiting for a slot, oldest first: they stay `queued` until they start planning. */
  #waiting: JobRow[] = [];
  #accepting = true;
  #paused = true;
  /** Aborted when draining: a job's end that cannot be written is then left to the next start. */
  readonly #stopping = new AbortController();

  constructor(private readonly options: RunningJobsOptions) {}

  get size(): number {
    return this.#running.size + this.#waiting.length;
  }

  has(jobId: string): boolean {
    return this.#running.has(jobId) || this.#waiting.some((j) => j.id === jobId);
  }

  /** Seconds since the job's run started here (undefined: not running here). */
  secondsRunning(jobId: string): number | undefined {
    const run = this.#running.get(jobId);
    return run && (performance.now() - run.startedAt) / 1000;
  }

  /** Jobs start only once resumed (the service first sweeps what a killed process left). */
  resume(): void {
    this.#paused = false;
    this.#startWaiting();
  }

  /** Runs a job when a slot is free; a job already here is not added twice. */
  start(job: JobRow): void {
    if (!this.#accepting || this.has(job.id)) return;
    this.#waiting.push(job);
    this.#startWaiting();
  }

  /**
   * Stops a job here (its ffmpeg processes killed) and waits for its end to be written
   * (cancelled); false if it was not running, so nobody wrote its end. `abandon`: write
   * nothing (it is someone else's now, or its end is written already).
   */
  async cancel(jobId: string, options: { abandon?: boolean } = {}): Promise<boolean> {
    this.#waiting = this.#waiting.filter((j) => j.id !== jobId);
    const run = this.#running.get(jobId);
    if (!run) return false;
    if (options.abandon) run.ending = 'abandon';
    run.abort.abort();
    await run.done;
    return true;
  }

  /** The jobs running now. */
  ids(): string[] {
    return [...this.#running.keys()];
  }

  /** Takes no new job, stops those running and puts them back in the queue. */
  async drain(): Promise<void> {
    this.#accepting = false;
    this.#stopping.abort();
    this.#waiting = [];
    const runs = [...this.#running.values()];
    for (const run of runs) {
      run.ending ??= 'requeue';
      run.abort.abort();
    }
    await Promise.all(runs.map((r) => r.done));
  }

  #startWaiting(): void {
    const { maxActive, log } = this.options;
    while (this.#accepting && !this.#paused && this.#running.size < maxActive && this.#waiting.length > 0) {
      const running = new Map<string, number>();
      for (const run of this.#running.values()) addCount(running, run.job.account_id, 1);
      const [job] = this.#waiting.splice(
        nextTurn(
          this.#waiting,
          (waiting) => waiting.account_id,
          (account) => running.get(account) ?? 0,
        ),
        1,
      );
      const abort = new AbortController();
      const run: Run = { abort, done: Promise.resolve(), job, startedAt: performance.now() };
      log.info({ jobId: job.id }, 'job started');
      run.done = runJob(job, this.options.context(), abort.signal)
        .catch((err) => {
          if (run.ending === 'abandon') return;
          return this.#settle(
            job,
            err,
            run.ending === 'requeue' ? 'requeue' : abort.signal.aborted ? 'cancel' : 'fail',
          );
        })
        .finally(() => {
          this.#running.delete(job.id);
          this.options.onEnded?.(job.id);
          this.#startWaiting();
        });
      this.#running.set(job.id, run);
    }
  }

  /**
   * A run that threw (its work folder is removed by then): put back in the queue (drain),
   * cancelled (whatever the error), or failed. The store write is retried until it succeeds
   * (a full disk, a locked database), since a job left `running` with nobody working on it
   * would hold its minutes forever; only draining gives up, and the next start (or, in
   * distributed mode, the lease lapsing) resumes the job.
   */
  async #settle(job: JobRow, err: unknown, outcome: 'requeue' | 'cancel' | 'fail'): Promise<void> {
    const { store, log } = this.options;
    const end = async () => {
      if (outcome === 'requeue')
        return this.options.requeue
          ? this.options.requeue(job)
          : store.enterPhase(job.id, 'queued', (await store.job(job.id))?.progress ?? 0);
      if (outcome === 'cancel' || err instanceof AbortedError) return store.finish(job.id, 'cancelled', {}, {});
      const { code, message, log: cause } = failureOf(err);
      // the operator's to fix, with our paths: the log gets it, the tenant hears what happened
      if (cause) log.error({ jobId: job.id, cause }, 'job failed for a reason the operator must fix');
      return store.finish(job.id, 'failed', { error_code: code, error_message: message }, { error: { code, message } });
    };
    try {
      this.options.announce(await untilStored(end, this.#stopping.signal, logRetry(log, job.id, 'its end')));
    } catch (error) {
      log.error({ jobId: job.id, error: (error as Error).message }, 'cannot record its end; the next start resumes it');
    }
  }
}
