// Distributed mode: stored events as they are written by any process (a worker's progress, an
// API node's cancel), heard over Postgres LISTEN on the channel the store notifies, and (for
// workers) scene tasks offered or ended, on a channel of their own. One
// connection of its own, reconnected with backoff when it drops (Postgres restarting); what
// was written while it was down is not lost: readers replay the stored log (event-stream.ts),
// and the follower of a job re-reads it after a reconnect.
import pg from 'pg';
import type { Logger } from 'pino';
import type { JobEvent } from './database.ts';
import { EVENTS_CHANNEL } from './job-store.ts';
import { SCENES_CHANNEL } from './scene-tasks.ts';

/** A notification's payload: the whole event, or (too large to send) its id to read. */
export type EventNotice = JobEvent | Pick<JobEvent, 'id' | 'job_id'>;

/** An event was written; `undefined` after a reconnect: some may have been missed. */
export type EventListener = (notice: EventNotice | undefined) => void;

/** What is heard, by channel; `undefined` after a reconnect: some may have been missed. */
export interface Listeners {
  events: EventListener;
  /** A job's scene tasks were offered, or one ended (the job's id). */
  scenes?: (jobId: string | undefined) => void;
}

const RETRY_MS = [100, 250, 500, 1000, 2000];

export class EventNotifications {
  #client?: pg.Client;
  #closed = false;
  #tries = 0;
  #timer?: NodeJS.Timeout;

  constructor(
    private readonly url: string,
    private readonly listeners: Listeners,
    private readonly log: Logger,
  ) {}

  /** Listens from now on; resolves once the first connection listens (or fails, when it retries). */
  async start(): Promise<void> {
    await this.#connect();
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    await this.#client?.end().catch(() => {});
  }

  async #connect(): Promise<void> {
    if (this.#closed) return;
    const client = new pg.Client({ connectionString: this.url });
    client.on('error', () => this.#reconnect(client));
    client.on('end', () => this.#reconnect(client));
    client.on('notification', (message) => {
      if (!message.payload) return;
      if (message.channel === SCENES_CHANNEL) return this.listeners.scenes?.(message.payload);
      if (message.channel !== EVENTS_CHANNEL) return;
      try {
        this.listeners.events(JSON.parse(message.payload) as EventNotice);
      } catch (error) {
        this.log.error({ error: (error as Error).message }, 'events: unreadable notification');
      }
    });
    try {
      await client.connect();
      await client.query(`listen ${EVENTS_CHANNEL}`);
      if (this.listeners.scenes) await client.query(`listen ${SCENES_CHANNEL}`);
      // closed while connecting: this connection would otherwise outlive the process's work
      if (this.#closed) return void (await client.end().catch(() => {}));
      this.#client = client;
      if (this.#tries > 0) {
        this.log.info('events: listening again');
        this.listeners.events(undefined);
        this.listeners.scenes?.(undefined);
      }
      this.#tries = 0;
    } catch (error) {
      this.log.warn({ error: (error as Error).message }, 'events: cannot listen; retrying');
      this.#reconnect(client);
    }
  }

  #reconnect(client: pg.Client): void {
    if (this.#closed || (this.#client && this.#client !== client) || this.#timer) return;
    this.#client = undefined;
    client.end().catch(() => {});
    const wait = RETRY_MS[Math.min(this.#tries++, RETRY_MS.length - 1)];
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#connect();
    }, wait);
  }
}
