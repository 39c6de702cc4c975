// The time the job database's rows are stamped and compared with: leases, retries, usage
// windows, events. Machines' clocks disagree (by milliseconds on NTP, by minutes without,
// and one may be stepped after its processes start); in distributed mode every process reads
// the time on the database's clock instead: a reading of it, carried forward on this
// machine's monotonic clock (which no step moves) and taken again every minute. A lease
// written on one machine then lapses at the same moment for every other.
import { type Kysely, sql } from 'kysely';

/** How often a process reads the database's clock again. */
const READ_EVERY_MS = 60_000;

/** The database's time at a moment of this machine's monotonic clock (performance.now()). */
let reading: { databaseMs: number; at: number } | undefined;

/** Now, on the database's clock (this machine's, until a Postgres database is opened). */
export function clockNow(): Date {
  return new Date(reading ? reading.databaseMs + (performance.now() - reading.at) : Date.now());
}

/** `clockNow()` as the ISO text rows hold. */
export const now = (): string => clockNow().toISOString();

/** Reads the time on the database's clock from now on: it said `databaseMs` at `at` (performance.now()). */
export function useDatabaseClock(databaseMs: number, at: number): void {
  reading = { databaseMs, at };
}

/** When a reading made between `sentAt` and `receivedAt` is taken to have been made: the round trip's middle. */
export function readAt(sentAt: number, receivedAt: number): number {
  return (sentAt + receivedAt) / 2;
}

/** Reads a Postgres database's clock now, and every minute until `closed()` (a failed reading: the last carries on). */
export async function followDatabaseClock<T>(db: Kysely<T>, closed: () => boolean): Promise<void> {
  const read = async () => {
    const sentAt = performance.now();
    const { rows } = await sql<{ ms: string }>`select extract(epoch from clock_timestamp()) * 1000 as ms`.execute(db);
    useDatabaseClock(Number(rows[0].ms), readAt(sentAt, performance.now()));
  };
  await read();
  const again = setInterval(() => {
    if (closed()) clearInterval(again);
    else read().catch(() => {});
  }, READ_EVERY_MS).unref();
}
