// The last step: every scene's chunks concatenated byte for byte into one raw H.264
// stream (each scene's frames counted on the way), then muxed with the audio track:
// ffmpeg numbers the pictures at exactly the movie's rate (30000/1001 for 29.97), so every
// frame lasts 1/fps and the video starts with the audio; a stream copy then moves the video to a finer
// timescale, a whole multiple, that browsers seek in exactly (encoder.ts videoTimescale).
// Written under a temporary name and renamed, so no half file is ever visible.
import { randomBytes } from 'node:crypto';
import { open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { AbortedError, failureIn, FORMATS, readInput, runFfmpeg, writeAtomically } from '../media/index.ts';
import { ffmpegRate } from '../movie/index.ts';
import { chunkFrames } from './chunk-frames.ts';
import { CHUNK_DEMUXER, frameTimescale, videoTimescale } from './encoder.ts';
import { SceneFramesError } from './render-scene.ts';
import { assemblyLimits, type TimeLimits } from './time-limits.ts';

export interface AssemblyOptions {
  fps: number;
  /** The movie's frames, for the time limit. */
  frames: number;
  limits: TimeLimits;
  signal?: AbortSignal;
}

export interface AssembledScene {
  id: string;
  index: number;
  frames: number;
  /** Chunk files in play order. */
  chunks: string[];
}

/** Joins the scenes' chunk files (in play order) and the audio track into `output`. */
export async function assemble(
  scenes: AssembledScene[],
  audioPath: string,
  output: string,
  workDir: string,
  options: AssemblyOptions,
): Promise<void> {
  const name = randomBytes(4).toString('hex');
  const video = join(workDir, `video-${name}.h264`);
  const framed = join(workDir, `framed-${name}.mp4`);
  const run = (args: string[]) =>
    runFfmpeg(args, {
      signal: options.signal,
      limits: assemblyLimits(options.limits, options.frames),
      names: new Map([
        [video, 'the video'],
        [audioPath, 'the audio mix'],
        [framed, 'the muxed movie'],
      ]),
    }).catch(failureIn('assembly'));
  try {
    await concatenate(scenes, video, options.signal);
    await run([
      // -r as well: with it ffmpeg times frame n as n / rate; without, it summed each frame's
      // length in microseconds, which drifts at NTSC rates (1002/30000 from frame 50 at 29.97)
      '-r',
      ffmpegRate(options.fps),
      '-framerate',
      ffmpegRate(options.fps),
      ...readInput(CHUNK_DEMUXER, video),
      ...readInput(FORMATS.mp4.demuxer, audioPath),
      '-map',
      '0:v:0',
      '-map',
      '1:a:0',
      '-c',
      'copy',
      '-video_track_timescale',
      String(frameTimescale(options.fps)),
      '-f',
      'mp4',
      `file:${framed}`,
    ]);
    await writeAtomically(output, (partial) =>
      run([
        ...readInput(FORMATS.mp4.demuxer, framed),
        '-map',
        '0',
        '-c',
        'copy',
        '-video_track_timescale',
        String(videoTimescale(options.fps)),
        '-movflags',
        '+faststart+write_colr',
        '-f',
        'mp4',
        `file:${partial}`,
      ]),
    );
  } finally {
    await Promise.all([rm(video, { force: true }), rm(framed, { force: true })]);
  }
}

/** Writes every scene's chunks, in play order, into one file; a scene whose chunks hold other than its frames fails it. */
async function concatenate(scenes: AssembledScene[], path: string, signal?: AbortSignal): Promise<void> {
  const out = await open(path, 'w');
  try {
    for (const scene of scenes) {
      let found = 0;
      for (const chunk of scene.chunks) {
        if (signal?.aborted) throw new AbortedError();
        found += await chunkFrames(chunk, (piece) => out.write(piece)).catch(missingAsNone);
      }
      if (found !== scene.frames)
        throw new SceneFramesError(
          `scene "${scene.id}" (movie.scenes[${scene.index}]): its encoded chunks hold ${found} frames, expected ${scene.frames}`,
        );
    }
  } finally {
    await out.close();
  }
}

/** A chunk file that is gone (a scene cache entry removed by hand) holds no frames. */
function missingAsNone(err: NodeJS.ErrnoException): number {
  if (err.code === 'ENOENT') return 0;
  throw err;
}
