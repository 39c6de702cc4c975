// The bench's input media, made with ffmpeg's lavfi sources so the bench needs no
// downloads. Made once and cached in the OS temp folder: the 1080p footage alone
// takes longer to make than most renders it feeds.
import { mkdir, rename, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runFfmpeg, type RunLimits } from '../src/media/index.ts';

/** The bench's own ffmpegs (making media, baseline encodes) are meant to finish: an hour only stops a hung one. */
export const BENCH_LIMITS: RunLimits = { seconds: 3600 };

export const ASSET_DIR = join(tmpdir(), 'reelsmith-bench-assets');

export interface BenchAssets {
  dir: string;
  /** Five different 4000x3000 JPEGs, camera-sized. */
  photos: string[];
  /** 25 s of 1080p30 H.264 with an AAC tone. */
  footage: string;
  /** A 400x120 PNG with transparency. */
  logo: string;
  /** 64 s of music (AAC in .m4a): long enough to run under the 60 s movie. */
  music: string;
}

export const FOOTAGE_SECONDS = 25;
const MUSIC_SECONDS = 64;

export async function prepareAssets(dir = ASSET_DIR): Promise<BenchAssets> {
  await mkdir(dir, { recursive: true });
  const photos = await Promise.all(
    [0, 1, 2, 3, 4].map((i) => ensure(join(dir, `photo-${i}.jpg`), (out) => makePhoto(i, out))),
  );
  return {
    dir,
    photos,
    footage: await ensure(join(dir, 'footage-1080p.mp4'), makeFootage),
    logo: await ensure(join(dir, 'logo.png'), makeLogo),
    music: await ensure(join(dir, 'music.m4a'), makeMusic),
  };
}

/** Makes `path` unless it is there; written under a temporary name so an interrupted run leaves no half file. */
async function ensure(path: string, make: (out: string) => Promise<void>): Promise<string> {
  const exists = await stat(path).then(
    (s) => s.size > 0,
    () => false,
  );
  if (!exists) {
    const partial = `${path}.partial${path.slice(path.lastIndexOf('.'))}`;
    await make(partial);
    await rename(partial, path);
  }
  return path;
}

/** A photo-sized JPEG; the noise gives it a real photo's byte count (~4 MB) and decode cost. */
function makePhoto(index: number, out: string): Promise<void> {
  return runFfmpeg(
    [
      '-f',
      'lavfi',
      '-i',
      `testsrc2=s=4000x3000,hue=h=${index * 72},noise=alls=16:allf=u`,
      '-frames:v',
      '1',
      '-q:v',
      '2',
      `file:${out}`,
    ],
    { limits: BENCH_LIMITS },
  );
}

function makeFootage(out: string): Promise<void> {
  return runFfmpeg(
    [
      '-f',
      'lavfi',
      '-i',
      `testsrc2=s=1920x1080:r=30:d=${FOOTAGE_SECONDS}`,
      '-f',
      'lavfi',
      '-i',
      `sine=f=220:r=48000:d=${FOOTAGE_SECONDS}`,
      '-c:v',
      'libx264',
      '-preset',
      'veryfast',
      '-crf',
      '23',
      '-pix_fmt',
      'yuv420p',
      '-c:a',
      'aac',
      '-b:a',
      '128k',
      '-movflags',
      '+faststart',
      '-f',
      'mp4',
      `file:${out}`,
    ],
    { limits: BENCH_LIMITS },
  );
}

/** A yellow disc and bar on transparency, drawn by geq so no font is needed. */
function makeLogo(out: string): Promise<void> {
  const alpha = '255*(lt(hypot(X-60\\,Y-60)\\,48)+between(X\\,130\\,380)*between(Y\\,40\\,80))';
  return runFfmpeg(
    [
      '-f',
      'lavfi',
      '-i',
      `color=c=black@0:s=400x120,format=rgba,geq=r=255:g=200:b=40:a='${alpha}'`,
      '-frames:v',
      '1',
      '-f',
      'image2',
      '-c:v',
      'png',
      `file:${out}`,
    ],
    { limits: BENCH_LIMITS },
  );
}

/** A major chord pulsing at 120 bpm, like the examples' music. */
function makeMusic(out: string): Promise<void> {
  const chord = '0.2*(sin(2*PI*261.63*t)+sin(2*PI*329.63*t)+sin(2*PI*392*t))*(0.6+0.4*cos(4*PI*t))';
  return runFfmpeg(
    [
      '-f',
      'lavfi',
      '-i',
      `aevalsrc='${chord}|${chord}':s=44100:d=${MUSIC_SECONDS}`,
      '-c:a',
      'aac',
      '-b:a',
      '128k',
      '-f',
      'mp4',
      `file:${out}`,
    ],
    { limits: BENCH_LIMITS },
  );
}
