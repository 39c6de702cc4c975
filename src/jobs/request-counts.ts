// Requests counted per rate-limit key in fixed windows, in the database every API node
// shares, so a plan's requests per minute hold for the whole service rather than per node.
// One statement per request, atomic on SQLite and Postgres alike: the key's row is
// inserted, or counts one more, or starts a new window when its window has ended. Rows of
// ended windows are deleted now and then. Times are on the database's clock (clock.ts), as
// everywhere in the store, so every node agrees on when a window ends.
import type { Logger } from 'pino';
import { clockNow } from './clock.ts';
import type { Database } from './database.ts';

export interface RequestCount {
  /** Requests in the key's current window, this one included. */
  current: number;
  /** Milliseconds until the window ends and the count starts again. */
  ttl: number;
}

export class RequestCounts {
  /** When this node deletes ended windows next: at most once a window. */
  #nextSweep = 0;
  /** The last count failed: said once in the log until counting works again. */
  #failing = false;

  constructor(
    private readonly db: Database,
    private readonly log: Logger,
  ) {}

  /**
   * Counts a request against `key`'s window of `windowMs`. Undefined when the database cannot
   * count it: the request then goes uncounted rather than refused, because the limit guards
   * the service's capacity and a limiter failing every request would turn a database hiccup
   * into an outage of the whole API. Logged once when counting stops and once when it resumes.
   */
  async count(key: string, windowMs: number): Promise<RequestCount | undefined> {
    const now = clockNow().getTime();
    const nowIso = new Date(now).toISOString();
    try {
      const row = await this.db
        .insertInto('request_counts')
        .values({ key, count: 1, window_end: new Date(now + windowMs).toISOString() })
        .onConflict((oc) =>
          oc.column('key').doUpdateSet((eb) => {
            const ended = eb('request_counts.window_end', '<=', nowIso);
            return {
              count: eb
                .case()
                .when(ended)
                .then(eb.lit(1))
                .else(eb('request_counts.count', '+', 1))
                .end(),
              window_end: eb
                .case()
                .when(ended)
                .then(eb.ref('excluded.window_end'))
                .else(eb.ref('request_counts.window_end'))
                .end(),
            };
          }),
        )
        .returning(['count', 'window_end'])
        .executeTakeFirstOrThrow();
      if (this.#failing) this.log.info('rate limits: requests are counted again');
      this.#failing = false;
      this.#sweep(now, windowMs);
      // never past the window: another handle's reading of the database's clock may differ by a millisecond
      return { current: row.count, ttl: Math.min(windowMs, Math.max(0, Date.parse(row.window_end) - now)) };
    } catch (err) {
      if (!this.#failing)
        this.log.error(
          { error: (err as Error).message },
          'rate limits: the database cannot count requests; letting them through uncounted',
        );
      this.#failing = true;
      return undefined;
    }
  }

  /** Deletes the rows of ended windows, in the background; one that fails is done at the next sweep. */
  #sweep(now: number, windowMs: number): void {
    if (now < this.#nextSweep) return;
    this.#nextSweep = now + windowMs;
    this.db
      .deleteFrom('request_counts')
      .where('window_end', '<=', new Date(now).toISOString())
      .execute()
      .catch(() => {});
  }
}
