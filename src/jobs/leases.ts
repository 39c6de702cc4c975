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

export const DEFAULT_LEASES: LeaseSettings = { leaseMs: 20_000, renewEveryMs: 5_000, tries: 3 };

/** A lease renewed every quarter of its length: three renewals may fail before it lapses. */
export function leasesOf(seconds: number, tries = DEFAULT_LEASES.tries): LeaseSettings {
  return { leaseMs: seconds * 1000, renewEveryMs: (seconds * 1000) / 4, tries };
}

/**
 * The worker's lease settings from its environment, read once at its start:
 * REELSMITH_LEASE_SECONDS (default 20) and REELSMITH_LEASE_TRIES (default 3).
 */
export function leasesFromEnvironment(env: NodeJS.ProcessEnv): LeaseSettings {
  const seconds = positive(env.REELSMITH_LEASE_SECONDS, 'REELSMITH_LEASE_SECONDS') ?? DEFAULT_LEASES.leaseMs / 1000;
  const tries = positive(env.REELSMITH_LEASE_TRIES, 'REELSMITH_LEASE_TRIES') ?? DEFAULT_LEASES.tries;
  if (!Number.isInteger(tries)) throw new Error(`REELSMITH_LEASE_TRIES must be a whole number, not ${tries}`);
  return leasesOf(seconds, tries);
}

function positive(text: string | undefined, name: string): number | undefined {
  if (text === undefined || text === '') return undefined;
  const value = Number(text);
  if (!(value > 0)) throw new Error(`${name} must be a number above 0, not "${text}"`);
  return value;
}

/** Why a job (or one of its scenes, `movie.scenes[i]`) fails once its leases lapsed `tries` times. */
export function stoppedAnswering(what: string, tries: number): string {
  return `${what} stopped answering ${tries} times (its workers' leases lapsed ${tries} times); it is not tried again`;
}
