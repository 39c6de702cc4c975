// One server per data folder: `serve` holds a lock on <data>/reelsmith.lock for its whole life,
// so a second server cannot sweep the first one's work or run its jobs twice. The lock is
// SQLite's file lock (an OS record lock): the kernel drops it when the holder dies, even on
// SIGKILL, so a dead server's lock is never "stale" and a reused pid never blocks a start.
// The holder writes its pid beside it (reelsmith.pid), for the message a second server prints.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';

export class DataFolderInUse extends Error {
  constructor(
    readonly dataDir: string,
    readonly pid: number | undefined,
  ) {
    super(
      `the data folder ${dataDir} is in use by another Reelsmith server${pid ? ` (pid ${pid})` : ''}; stop it first, or give this one another --data`,
    );
    this.name = 'DataFolderInUse';
  }
}

/** Takes the data folder's lock at once, for the life of the process, or throws DataFolderInUse naming the holder. */
export function lockDataFolder(dataDir: string): void {
  mkdirSync(dataDir, { recursive: true });
  const lock = new SQLite(join(dataDir, 'reelsmith.lock'), { timeout: 0 });
  try {
    // an exclusive transaction that never ends: nobody else can begin one while we live
    lock.exec('BEGIN EXCLUSIVE');
  } catch (err) {
    lock.close();
    if ((err as { code?: string }).code === 'SQLITE_BUSY') throw new DataFolderInUse(dataDir, holderPid(dataDir));
    throw err;
  }
  writeFileSync(join(dataDir, 'reelsmith.pid'), `${process.pid}\n`);
  held.add(lock);
}

/** Open locks, referenced so that they live as long as the process (never collected, never closed). */
const held = new Set<SQLite.Database>();

function holderPid(dataDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(dataDir, 'reelsmith.pid'), 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}
