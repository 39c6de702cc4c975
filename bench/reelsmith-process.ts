// `reelsmith` as an operator runs it, from the compiled build: admin commands run to their
// end, and `serve` / `worker` as long-lived child processes that are waited for until they
// say they are up, and stopped as a deployment stops them (SIGTERM: they drain).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'bin/reelsmith.js');
/** A drained process exits in well under this; one that does not is killed. */
const STOP_GRACE_MS = 15_000;
/** The stop() of every child started and not yet exited, so an interrupted bench leaves none behind. */
const alive = new Set<() => Promise<void>>();

/** An admin command with --json; its answer. */
export async function reelsmith(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Record<string, any>> {
  const { stdout } = await promisify(execFile)(process.execPath, [CLI, ...args, '--json'], {
    cwd: ROOT,
    env: { ...process.env, ...env },
  });
  return JSON.parse(stdout) as Record<string, any>;
}

export interface Running {
  child: ChildProcess;
  pid: number;
  /** The first line it printed (with --json: its JSON answer, e.g. `listening` or `working`). */
  started: Record<string, any>;
  /** Its log (stderr) so far, one record a line. */
  log(): string[];
  /** SIGTERM, then SIGKILL if it has not exited after a grace period; resolves once it has exited. */
  stop(): Promise<void>;
}

/** Starts `reelsmith <args> --json` and waits for its first line on stdout; fails if it exits first. */
export async function start(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Running> {
  const child = spawn(process.execPath, [CLI, ...args, '--json'], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk));
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    }
  };
  alive.add(stop);
  void exited.then(() => alive.delete(stop));
  const firstLine = new Promise<string>((done, fail) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk;
      if (stdout.includes('\n')) done(stdout.slice(0, stdout.indexOf('\n')));
    });
    child.once('exit', (code, signal) =>
      fail(new Error(`reelsmith ${args[0]} exited (${signal ?? code}) before it started:\n${stderr}`)),
    );
  });
  try {
    return {
      child,
      pid: child.pid!,
      started: JSON.parse(await firstLine) as Record<string, any>,
      log: () => stderr.split('\n').filter(Boolean),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Stops every child still running (SIGTERM, then SIGKILL). */
export async function stopAll(): Promise<void> {
  await Promise.all([...alive].map((stop) => stop()));
}
