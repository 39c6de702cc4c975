// Which ffmpeg and ffprobe to run: FFMPEG_PATH / FFPROBE_PATH, else the ones on PATH,
// else the static builds shipped inside the npm packages.
import { accessSync, constants } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, join } from 'node:path';

export interface Binary {
  path: string;
  /** Where the choice came from, for `reelsmith doctor`. */
  origin: 'env' | 'PATH' | 'npm';
}

const require = createRequire(import.meta.url);
const cache = new Map<string, Binary>();

export function ffmpegBinary(): Binary {
  return resolveBinary('ffmpeg', 'FFMPEG_PATH', '@ffmpeg-installer/ffmpeg');
}

export function ffprobeBinary(): Binary {
  return resolveBinary('ffprobe', 'FFPROBE_PATH', '@ffprobe-installer/ffprobe');
}

function resolveBinary(name: string, envVar: string, npmPackage: string): Binary {
  const fromEnv = process.env[envVar];
  const key = `${name}\0${fromEnv ?? ''}\0${process.env.PATH ?? ''}`;
  const known = cache.get(key);
  if (known) return known;
  let found: Binary | undefined;
  if (fromEnv) found = { path: fromEnv, origin: 'env' };
  else {
    const onPath = (process.env.PATH ?? '')
      .split(delimiter)
      .map((dir) => join(dir, name))
      .find(isExecutable);
    if (onPath) found = { path: onPath, origin: 'PATH' };
    else found = { path: (require(npmPackage) as { path: string }).path, origin: 'npm' };
  }
  cache.set(key, found);
  return found;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
