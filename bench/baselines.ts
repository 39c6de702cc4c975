// What a render is measured against: ffmpeg alone doing the least the same output
// needs. Both use the engine's own encoder arguments, so the only difference from a
// render is the work the engine adds (planning, compositing, audio, assembly).
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { runFfmpeg } from '../src/media/index.ts';
import { BENCH_LIMITS } from './assets.ts';
import { DEFAULT_ENCODER } from '../src/render/index.ts';
import { encoderArgs, type Canvas } from '../src/render/encoder.ts';

/** libx264 picks its own thread count, as a lone ffmpeg on this machine would. */
const AUTO_THREADS = 0;

/** Seconds to encode `frames` frames of a plain colour: the floor no render of that length can beat by encoding. */
export function encodeFloor(canvas: Canvas, frames: number, dir: string): Promise<number> {
  const source = `color=c=0x1a1a2e:s=${canvas.width}x${canvas.height}:r=${canvas.fps}`;
  return timedEncode(['-f', 'lavfi', '-i', source, ...encodeArgs(canvas, frames)], join(dir, 'floor.mp4'));
}

/** Seconds to decode `source`, scale it to the canvas and encode `frames` frames of it. */
export function plainTranscode(source: string, canvas: Canvas, frames: number, dir: string): Promise<number> {
  return timedEncode(
    ['-i', `file:${source}`, '-vf', `scale=${canvas.width}:${canvas.height}`, ...encodeArgs(canvas, frames)],
    join(dir, 'transcode.mp4'),
  );
}

/** The engine's encoder settings for a plain MP4 of `frames` frames. */
function encodeArgs(canvas: Canvas, frames: number): string[] {
  return [...encoderArgs(DEFAULT_ENCODER, canvas, AUTO_THREADS), '-frames:v', String(frames), '-an', '-f', 'mp4'];
}

async function timedEncode(args: string[], output: string): Promise<number> {
  const started = performance.now();
  try {
    await runFfmpeg([...args, `file:${output}`], { limits: BENCH_LIMITS });
    return (performance.now() - started) / 1000;
  } finally {
    await rm(output, { force: true });
  }
}
