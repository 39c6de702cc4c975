// Which ffmpeg and ffprobe to run: FFMPEG_PATH / FFPROBE_PATH, else the ones on PATH,
// else the static builds shipped inside the npm packages. npm's ffprobe package makes its
// binary executable by its owner only (`chmod u+x`), so after a root install nobody else can
// run it: the shipped binaries are made executable for whoever may read them, at install
// (bin/postinstall.js) and again at first use, and a binary that still cannot start is
// reported as itself, with the way out, never as a fault of the source being read.
import { accessSync, chmodSync, constants, existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, join } from 'node:path';

type Program = 'ffmpeg' | 'ffprobe';

export interface Binary {
  name: Program;
  path: string;
  /** Where the choice came from, for `reelsmith doctor`. */
  origin: 'env' | 'PATH' | 'npm';
}

const SOURCES: Record<Program, { envVar: string; npmPackage: string }> = {
  ffmpeg: { envVar: 'FFMPEG_PATH', npmPackage: '@ffmpeg-installer/ffmpeg' },
  ffprobe: { envVar: 'FFPROBE_PATH', npmPackage: '@ffprobe-installer/ffprobe' },
};

const require = createRequire(import.meta.url);
const cache = new Map<string, Binary>();

export function ffmpegBinary(): Binary {
  return resolveBinary('ffmpeg');
}

export function ffprobeBinary(): Binary {
  return resolveBinary('ffprobe');
}

function resolveBinary(name: Program): Binary {
  const fromEnv = process.env[SOURCES[name].envVar];
  const key = `${name}\0${fromEnv ?? ''}\0${process.env.PATH ?? ''}`;
  const known = cache.get(key);
  if (known) return known;
  let found: Binary;
  if (fromEnv) found = { name, path: fromEnv, origin: 'env' };
  else {
    const onPath = (process.env.PATH ?? '')
      .split(delimiter)
      .map((dir) => join(dir, name))
      .find(isExecutable);
    if (onPath) found = { name, path: onPath, origin: 'PATH' };
    else {
      found = { name, path: shippedPath(name), origin: 'npm' };
      if (!isExecutable(found.path)) executableByReaders(found.path);
    }
  }
  cache.set(key, found);
  return found;
}

function shippedPath(name: Program): string {
  return (require(SOURCES[name].npmPackage) as { path: string }).path;
}

/** The install step: the shipped ffmpeg and ffprobe made executable by everyone who may read them. */
export function fixShippedBinaries(): void {
  for (const name of Object.keys(SOURCES) as Program[]) {
    try {
      executableByReaders(shippedPath(name));
    } catch {
      // not installed for this platform: resolving it says so
    }
  }
}

/**
 * Adds the execute bit wherever the read bit is (0744 -> 0755), when this user may (the
 * owner or root); otherwise running it says why it cannot start, and what to do.
 */
function executableByReaders(path: string): void {
  try {
    const { mode } = statSync(path);
    const wanted = (mode | ((mode & 0o444) >> 2)) & 0o7777;
    if ((mode & 0o7777) !== wanted) chmodSync(path, wanted);
  } catch {
    // not ours to change (EPERM, a read-only file system)
  }
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** An ffmpeg or ffprobe that could not be started at all: which one, where, why, and how to fix it. */
export class BinaryUnavailableError extends Error {
  constructor(
    /** ffmpeg or ffprobe (or the path, for another program). */
    readonly program: string,
    readonly path: string,
    readonly code: string | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'BinaryUnavailableError';
  }
}

/** Why spawning `path` failed (EACCES, ENOENT, ...), in words an operator can act on. */
export function cannotStart(path: string, err: NodeJS.ErrnoException): BinaryUnavailableError {
  const binary = [...cache.values()].find((b) => b.path === path);
  if (!binary) return new BinaryUnavailableError(path, path, err.code, `cannot run ${path}: ${err.message}`);
  const { name, origin } = binary;
  const { envVar, npmPackage } = SOURCES[name];
  const whence =
    origin === 'env'
      ? `from ${envVar}`
      : origin === 'PATH'
        ? 'found on PATH'
        : `shipped in the npm package ${npmPackage}`;
  const instead = `set ${envVar} to an ${name} that runs (Debian: apt install ffmpeg)`;
  const why =
    err.code === 'EACCES'
      ? `is not executable by this user (EACCES). Make it executable (chmod a+x ${path}, as its owner) or ${instead}`
      : err.code === 'ENOENT'
        ? `${existsSync(path) ? 'cannot be started on this system' : 'does not exist'} (ENOENT). To fix it, ${instead}`
        : `cannot be started (${err.code ?? err.message}). To fix it, ${instead}`;
  return new BinaryUnavailableError(name, path, err.code, `cannot run ${name}: ${path} (${whence}) ${why}`);
}
