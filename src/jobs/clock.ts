// The time the job database's rows are stamped and compared with: leases, retries, usage
// windows, events. Machines' clocks disagree (by milliseconds on NTP, by minutes without);
// in distributed mode every process reads the time on the database's clock instead, its
// offset from this machine's measured when it opens the database, so that a lease written
// on one machine lapses at the same moment for every other.

let offsetMs = 0;

/** Now, on the database's clock (this machine's, until a Postgres database is opened). */
export function clockNow(): Date {
  return new Date(Date.now() + offsetMs);
}

/** `clockNow()` as the ISO text rows hold. */
export const now = (): string => clockNow().toISOString();

/** Reads the time on the database's clock from now on: `offset` ms ahead of this machine's. */
export function useDatabaseClock(offset: number): void {
  offsetMs = offset;
}

/**
 * How far the database's clock is ahead of this machine's, from one reading: `databaseMs`
 * read between `sentAt` and `receivedAt` (this machine's), taken at the round trip's middle.
 */
export function clockOffset(databaseMs: number, sentAt: number, receivedAt: number): number {
  return databaseMs - (sentAt + receivedAt) / 2;
}
