// Readiness (GET /readyz): whether this server should be sent traffic now. Not while it
// drains (SIGTERM), nor when its database does not answer, its data folder's disk has less
// free space than new jobs need, or ffmpeg or ffprobe do not run. Liveness (/healthz) is
// only "the process answers". Messages name no path and no amount of our disk: the route is
// open to anyone; the cause of a failure goes to the server's log.
import type { Logger } from 'pino';
import { ffmpegBinary, ffprobeBinary, run, type Binary } from '../render/index.ts';

/** What readiness asks of the service it checks. */
export interface Checked {
  /** Asked again after the other checks: a drain that began meanwhile is the answer. */
  draining(): boolean;
  /** Resolves when the database answers. */
  ping(): Promise<void>;
  diskHasRoom(): Promise<boolean>;
  /** Where a failing check's real cause goes (the answer names no path). */
  log: Logger;
}

export interface Check {
  ok: boolean;
  message?: string;
}

export type CheckName = 'draining' | 'database' | 'disk' | 'ffmpeg' | 'ffprobe';

export interface Readiness {
  ready: boolean;
  /** The checks that failed, in the order of `checks`. */
  failing: CheckName[];
  /** Every check run; when a drain had begun already, only `draining` (the rest would not change the answer). */
  checks: Partial<Record<CheckName, Check>>;
}

/** How long a binary's answer is reused: probes come every few seconds, and each check spawns a process. */
const BINARY_CHECK_MS = 60_000;

const pass: Check = { ok: true };
const fail = (message: string): Check => ({ ok: false, message });

export async function checkReadiness(service: Checked): Promise<Readiness> {
  const others = service.draining()
    ? {}
    : Object.fromEntries(
        await Promise.all([
          named('database', databaseAnswers(service)),
          named('disk', diskHasRoom(service)),
          named('ffmpeg', binaryRuns('ffmpeg', ffmpegBinary(), service.log)),
          named('ffprobe', binaryRuns('ffprobe', ffprobeBinary(), service.log)),
        ]),
      );
  // read after the others: a drain that began meanwhile is the answer
  const checks: Partial<Record<CheckName, Check>> = {
    draining: service.draining() ? fail('the server is shutting down; its unfinished jobs go back to the queue') : pass,
    ...others,
  };
  const failing = (Object.keys(checks) as CheckName[]).filter((name) => !checks[name]?.ok);
  return { ready: failing.length === 0, failing, checks };
}

const named = async (name: CheckName, check: Promise<Check>) => [name, await check] as const;

async function databaseAnswers(service: Checked): Promise<Check> {
  try {
    await service.ping();
    return pass;
  } catch (err) {
    service.log.error({ error: (err as Error).message }, 'readiness: the database does not answer');
    return fail('the database does not answer');
  }
}

async function diskHasRoom(service: Checked): Promise<Check> {
  return (await service.diskHasRoom().catch(() => false))
    ? pass
    : fail("the data folder's disk has less free space than new jobs need (--min-free-disk)");
}

const binaryChecks = new Map<string, { at: number; check: Promise<Check> }>();

/** `<binary> -version` runs; its answer is kept for BINARY_CHECK_MS, and requests meanwhile share one run. */
function binaryRuns(name: string, binary: Binary, log: Logger): Promise<Check> {
  const known = binaryChecks.get(binary.path);
  if (known && Date.now() - known.at < BINARY_CHECK_MS) return known.check;
  const check = run(binary.path, ['-version']).then(
    () => pass,
    (err: Error) => {
      log.error({ binary: binary.path, error: err.message }, `readiness: ${name} does not run`);
      return fail(`${name} does not run (\`reelsmith doctor\` says why)`);
    },
  );
  binaryChecks.set(binary.path, { at: Date.now(), check });
  return check;
}
