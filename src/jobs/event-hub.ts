// Live fan-out of stored job events to whoever listens (SSE streams, webhooks).
// Events are published only after the store has written them.
import { EventEmitter } from 'node:events';
import type { JobEvent } from './database.ts';

export class EventHub {
  private emitter = new EventEmitter().setMaxListeners(0);

  publish(event: JobEvent): void {
    this.emitter.emit(event.job_id, event);
    this.emitter.emit('*', event);
  }

  /** Listens to one job's events, or every job's with '*'; returns the unsubscribe. */
  subscribe(jobId: string, listener: (event: JobEvent) => void): () => void {
    this.emitter.on(jobId, listener);
    return () => this.emitter.off(jobId, listener);
  }
}
