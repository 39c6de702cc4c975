// A job's events after an id, as one stream: the stored ones first, then the live ones as they
// are published, until the final one. The live follower is subscribed before the replay reads,
// so an event written meanwhile is in one or both, and told once, by id.
import type { JobEvent } from './database.ts';
import type { Follower } from './event-hub.ts';
import { isTerminal } from './job-state.ts';

export interface StoredEvents {
  /** The job's stored events after `afterId`, oldest first. */
  after(afterId: number): Promise<JobEvent[]>;
  /** Whether the job has ended (or is not there): then no live event is coming. */
  ended(): Promise<boolean>;
}

/** Ends after the job's final event, when the job has ended, or when `live` stops (closed, aborted); closes `live`. */
export async function* replayThenFollow(
  stored: StoredEvents,
  live: Follower,
  afterId: number,
): AsyncGenerator<JobEvent> {
  try {
    let last = afterId;
    for (const event of await stored.after(last)) {
      yield event;
      last = event.id;
      if (isTerminal(event.type)) return;
    }
    if (await stored.ended()) {
      // it ended meanwhile: its final event is stored, whether or not it has been published yet
      yield* await stored.after(last);
      return;
    }
    for (let event = await live.next(); event; event = await live.next()) {
      if (event.id <= last) continue; // replayed already
      yield event;
      last = event.id;
      if (isTerminal(event.type)) return;
    }
  } finally {
    live.close();
  }
}
