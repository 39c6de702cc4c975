// Distributed mode's leases in one place: how long a worker's claim on a job (or a scene
// task) holds without renewal, how often it is renewed, and how many times its lease may
// lapse before the job is taken for poison. A job whose workers stop answering (blocked past
// the lease, killed by what it does) would otherwise bounce from worker to worker for ever,
// each time holding a worker slot for a lease's length.

export interface LeaseSettings {
  /** How long a claim holds without renewal: a stopped worker's job is taken over this long after its last renewal. */
  leaseMs: number;
  /** How often a worker renews its leases, so a few missed renewals (a busy database) do not lose one. */
  renewEveryMs: number;
  /** Lapses after which a job (or a scene task) fails instead of being taken over again. */
  tries: number;
}

export const DEFAULT_LEASE_SECONDS = 20;
export const DEFAULT_LEASE_TRIES = 3;

/** A lease renewed every quarter of its length: three renewals may fail before it lapses. */
export function leasesOf(seconds: number, tries: number): LeaseSettings {
  return { leaseMs: seconds * 1000, renewEveryMs: (seconds * 1000) / 4, tries };
}

export const DEFAULT_LEASES = leasesOf(DEFAULT_LEASE_SECONDS, DEFAULT_LEASE_TRIES);

/** Why a job (or one of its scenes, `movie.scenes[i]`) fails once its leases lapsed `tries` times. */
export function stoppedAnswering(what: string, tries: number): string {
  return `${what} stopped answering ${tries} times (its workers' leases lapsed ${tries} times); it is not tried again`;
}
