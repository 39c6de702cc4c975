// Live fan-out of stored job events to whoever listens (the event streams of
// RenderService.events: SSE clients and webhook feeds). Events are published only after the
// store has written them.
import { EventEmitter } from 'node:events';
import type { JobEvent } from './database.ts';

/** A job's live events, in the order they were published, taken one at a time. */
export interface Follower {
  /** The next event; undefined once closed or `signal` aborted. */
  next(): Promise<JobEvent | undefined>;
  close(): void;
}

export class EventHub {
  private emitter = new EventEmitter().setMaxListeners(0);

  publish(event: JobEvent): void {
    this.emitter.emit(event.job_id, event);
  }

  /** Whether anyone here listens to the job's events. */
  isFollowed(jobId: string): boolean {
    return this.emitter.listenerCount(jobId) > 0;
  }

  /** The jobs someone here listens to. */
  followedJobs(): string[] {
    return this.emitter.eventNames().filter((name): name is string => typeof name === 'string');
  }

  /** Listens to one job's events; returns the unsubscribe. */
  subscribe(jobId: string, listener: (event: JobEvent) => void): () => void {
    this.emitter.on(jobId, listener);
    return () => this.emitter.off(jobId, listener);
  }

  /** Buffers a job's events from now on until closed, or until `signal` aborts. */
  follow(jobId: string, signal?: AbortSignal): Follower {
    const buffered: JobEvent[] = [];
    let wake: (() => void) | undefined;
    let closed = false;
    const done = () => closed || Boolean(signal?.aborted);
    const unsubscribe = this.subscribe(jobId, (event) => {
      buffered.push(event);
      wake?.();
    });
    const stop = () => wake?.();
    signal?.addEventListener('abort', stop, { once: true });
    return {
      async next() {
        while (buffered.length === 0 && !done()) await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
        return done() ? undefined : buffered.shift();
      },
      close() {
        closed = true;
        unsubscribe();
        signal?.removeEventListener('abort', stop);
        wake?.();
      },
    };
  }
}
