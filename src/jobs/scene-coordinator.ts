// Distributed mode: the job's own worker as the coordinator of its scene tasks, through the
// engine's SceneDispatch. It offers the uncached scenes; a scene it can take (free, or its
// lease lapsed) it renders itself under a renewed lease; one another worker holds it waits
// for (a notice on the scenes channel, or a look every second), taking it over if that
// worker's lease lapses. A scene that failed elsewhere fails the job with that failure.
import type { SceneDispatch } from '../render/index.ts';
import { AbortedError } from '../render/index.ts';
import type { Logger } from 'pino';
import { now } from './clock.ts';
import { isDatabaseUnavailable } from './database.ts';
import type { Failure } from './job-failure.ts';
import type { LeaseSettings } from './leases.ts';
import { failureStored, type SceneTasks } from './scene-tasks.ts';
import { logRetry, untilStored } from './store-retry.ts';

/** A task is looked at this often while another worker renders it, besides when its job's tasks are announced. */
const LOOK_EVERY_MS = 1_000;

export interface CoordinatorOptions {
  tasks: SceneTasks;
  waits: SceneWaits;
  /** This worker's name in leases. */
  worker: string;
  leases: LeaseSettings;
  log: Logger;
}

/** A scene failed on another worker: the job fails as that scene did. */
export class SceneTaskFailed extends Error {
  constructor(
    readonly index: number,
    readonly failure: Failure,
  ) {
    super(`scene ${index} failed on another worker: ${failure.message}`);
    this.name = 'SceneTaskFailed';
  }
}

/** `signal`: the job's run; while the database is away (restarting) each step waits for it, until the run stops. */
export function coordinateScenes(jobId: string, signal: AbortSignal, options: CoordinatorOptions): SceneDispatch {
  const { tasks, waits, worker } = options;
  const { leaseMs, renewEveryMs, tries } = options.leases;
  const onRetry = logRetry(options.log, jobId, 'its scene tasks');
  const reach = <T>(step: () => Promise<T>) => untilStored(step, signal, onRetry, isDatabaseUnavailable);
  // the tasks rendered here, each with its lease renewal
  const held = new Map<number, NodeJS.Timeout>();
  const letGo = (index: number) => {
    clearInterval(held.get(index));
    return held.delete(index);
  };
  return {
    offer: (scenes) => reach(() => tasks.offer(jobId, scenes)),
    async claim(index, _key, signal) {
      // not taken: another worker has it, or it failed (settled tells which)
      if (!(await reach(() => tasks.take(jobId, index, worker, leaseMs, tries)))) return 'elsewhere';
      const renew = () => void tasks.renewLease(jobId, index, worker, leaseMs).catch(() => {});
      held.set(index, setInterval(renew, renewEveryMs));
      // a render that stops (cancelled, failed, drained) gives its scenes back at once
      signal.addEventListener('abort', () => letGo(index) && void tasks.release(jobId, worker, index).catch(() => {}), {
        once: true,
      });
      return 'here';
    },
    async rendered(index) {
      letGo(index);
      await reach(() => tasks.finish(jobId, index, worker));
    },
    async settled(index, _key, signal, onFrames) {
      for (;;) {
        const task = await reach(() => tasks.task(jobId, index));
        if (!task || task.state === 'queued') return 'free';
        if (task.frames_done > 0) onFrames(task.frames_done);
        if (task.state === 'done') return 'done';
        if (task.state === 'failed') throw new SceneTaskFailed(index, failureStored(task.error));
        if (task.lease_until === null || task.lease_until < now()) return 'free';
        await waits.wait(jobId, LOOK_EVERY_MS, signal);
      }
    },
  };
}

/** Coordinators waiting for their jobs' tasks to change, woken by the scenes channel. */
export class SceneWaits {
  readonly #waiting = new Map<string, Set<() => void>>();

  /** Resolves when `jobId`'s tasks are announced, or after `ms`; rejects when `signal` aborts. */
  wait(jobId: string, ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal.aborted) return reject(new AbortedError());
      const end = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', abort);
        this.#waiting.get(jobId)?.delete(wake);
      };
      const wake = () => {
        end();
        resolve();
      };
      const abort = () => {
        end();
        reject(new AbortedError());
      };
      const timer = setTimeout(wake, ms);
      signal.addEventListener('abort', abort, { once: true });
      let waiters = this.#waiting.get(jobId);
      if (!waiters) this.#waiting.set(jobId, (waiters = new Set()));
      waiters.add(wake);
    });
  }

  /** `jobId`'s tasks changed; undefined: any may have (the channel reconnected). */
  wake(jobId: string | undefined): void {
    const jobs = jobId === undefined ? [...this.#waiting.keys()] : [jobId];
    for (const job of jobs) {
      for (const wake of this.#waiting.get(job) ?? []) wake();
      this.#waiting.delete(job);
    }
  }
}
