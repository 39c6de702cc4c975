// An animated WebP as a video layer. ffmpeg (both builds) decodes no animated WebP, so at
// planning its frames become an APNG in the render's work folder, which the layer then reads
// like any animated picture (apng demuxer, its own timing, looping). Each ANMF frame is taken
// out as a still WebP (its ALPH with it) and all are decoded by one ffmpeg, in the image
// path's colours; the APNG keeps each frame's rectangle, blending, disposal and delay, so
// ffmpeg's APNG decoder composes the canvas exactly as the WebP says (both formats dispose
// to transparent and blend non-premultiplied "over"). Bounded: the frame count and length
// by the source limits, the APNG's bytes (at most its raw pixels) by the job's work budget,
// the decode by a time limit; on the event loop only row copies per frame, deflate on
// libuv's threads.
import { mkdir, open, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';
import * as zlib from 'node:zlib';
import {
  FORMATS,
  ffmpegBinary,
  limitRefusal,
  type LocalSource,
  type MediaInfo,
  readInput,
  run,
  SOURCE_LIMITS,
  SourceRefusal,
  unreadable,
} from '../media/index.ts';
import { shownMilliseconds, type WebpFrame, webpFrames } from '../media/animation.ts';
import { APNG_END, APNG_FRAME_OVERHEAD, apngDelay, apngFrame, apngHead, scanlines } from '../media/apng-writer.ts';
import { IMAGE_TO_RGBA } from './colour.ts';
import { ScenePool } from './scene-pool.ts';
import type { WorkBudget } from './work-budget.ts';
import { FULL_HD } from './workers.ts';

const deflate = promisify(zlib.deflate);

/**
 * Input options that loop the APNG in its demuxer (its acTL says for ever), timestamps running
 * on. -stream_loop restarts a file one frame length after its last frame starts, and takes that
 * length from the average frame rate, which an animation of uneven delays does not have.
 */
export const APNG_LOOPS = ['-ignore_loop', '0'];

type Source = MediaInfo & LocalSource;

/** The decode's time limit: a base, and per frame as much as a 1080p frame may take on a busy machine, scaled by size. */
export function webpDecodeSeconds(frames: number, canvas: { width: number; height: number }): number {
  return 60 + 0.2 * frames * Math.max(1, (canvas.width * canvas.height) / FULL_HD);
}

/** Bytes an animation's APNG takes at most (its scanlines deflated, which zlib bounds at a little over their size), and its frames' stills. */
export function apngBytes(canvas: { width: number; height: number }, frames: WebpFrame[]): number {
  const deflated = (n: number) => n + (n >> 10) + 64;
  return frames.reduce(
    (sum, f, i) =>
      sum +
      f.still.length +
      APNG_FRAME_OVERHEAD +
      // the first frame is the still image too: it covers the canvas
      (i === 0 ? deflated(canvas.height * (canvas.width * 4 + 1)) : deflated(f.height * (f.width * 4 + 1))),
    4096,
  );
}

export class WebpVideos {
  private made = new Map<string, Promise<Source>>();
  // one decode holds a frame of the canvas and the ffmpeg beside it: no more at once than cores
  private decoding: ScenePool;

  constructor(
    private readonly workDir: string,
    cores: number,
    private readonly budget: WorkBudget,
  ) {
    this.decoding = new ScenePool(cores);
  }

  /**
   * The animated WebP `media` as a video source (an APNG in the work folder, with the facts
   * planning needs), made once per content; `what` names the layer if the budget runs out.
   * Its digest stays the WebP's, which is what scene keys name.
   */
  asVideo(media: Source, what: string, signal?: AbortSignal): Promise<Source> {
    let pending = this.made.get(media.digest);
    if (!pending) {
      const out = join(this.workDir, `animation-${this.made.size}.png`);
      pending = readFile(media.path).then((file) => {
        const animation = webpFrames(file);
        if ('problem' in animation) throw new SourceRefusal(`is not a valid animated WebP (it ${animation.problem})`);
        const { frames } = animation;
        if (frames.length > SOURCE_LIMITS.webpFrames)
          throw new SourceRefusal(
            `is an animated WebP of ${frames.length} frames, over the limit of ${SOURCE_LIMITS.webpFrames}`,
          );
        const duration = frames.reduce((sum, f) => sum + shownMilliseconds(f.duration), 0) / 1000;
        const refusal = limitRefusal({ duration });
        if (refusal) throw new SourceRefusal(refusal);
        this.budget.take(apngBytes(animation, frames), what);
        return this.decoding
          .run('webp', this.decoding.size, () => writeApng(animation, out, signal))
          .then(() => videoOf(media, out, animation, duration));
      });
      this.made.set(media.digest, pending);
    }
    return pending;
  }
}

/** The APNG as planning sees a probed source: an animated PNG read by the apng demuxer, RGBA. */
function videoOf(media: Source, path: string, canvas: { width: number; height: number }, duration: number): Source {
  const { width, height } = canvas;
  return {
    ...media,
    path,
    animatedWebp: undefined,
    format: { ...FORMATS.png, demuxer: 'apng', kind: 'media' },
    video: { width, height, duration, start: 0, codec: 'apng', pixelFormat: 'rgba', colour: { matrix: 'gbr' } },
    audio: undefined,
    duration,
    start: 0,
    streams: 1,
  };
}

/**
 * Decodes every frame (one ffmpeg: the stills as an image sequence, each padded to the
 * largest frame so every output frame has one size) and writes them as an APNG to `out`.
 */
async function writeApng(
  animation: { width: number; height: number; frames: WebpFrame[] },
  out: string,
  signal?: AbortSignal,
): Promise<void> {
  const { frames } = animation;
  const stills = `${out}.frames`;
  await mkdir(stills, { recursive: true });
  try {
    for (const [i, frame] of frames.entries()) await writeFile(join(stills, stillName(i)), frame.still);
    const [width, height] = [Math.max(...frames.map((f) => f.width)), Math.max(...frames.map((f) => f.height))];
    const file = await open(out, 'w');
    let written = 0;
    try {
      await file.write(apngHead(animation.width, animation.height, frames.length));
      const readFrames = async (stdout: Readable) => {
        for await (const frame of fixedSize(stdout, width * height * 4)) {
          if (written === frames.length)
            throw new SourceRefusal('cannot be decoded as WebP (more frames than it holds)');
          await file.write(await apngChunks(written, frames[written], frame, width, animation));
          written++;
        }
      };
      const args = [
        '-hide_banner',
        '-loglevel',
        'error',
        '-nostdin',
        '-xerror',
        '-err_detect',
        'explode',
        '-pattern_type',
        'sequence',
        '-start_number',
        '0',
        ...readInput('image2', join(stills, 'f-%05d.webp')),
        '-vf',
        `${IMAGE_TO_RGBA},pad=${width}:${height}:0:0:color=black@0`,
        '-f',
        'rawvideo',
        '-pix_fmt',
        'rgba',
        'pipe:1',
      ];
      await run(ffmpegBinary().path, args, {
        signal,
        limits: { seconds: webpDecodeSeconds(frames.length, animation) },
        names: new Map([[stills, 'frame']]),
        yieldsCpu: true,
        readStdout: readFrames,
      }).catch((err: Error) => {
        throw unreadable(err, 'cannot be decoded as WebP');
      });
      if (written !== frames.length)
        throw new SourceRefusal(`cannot be decoded as WebP (${written} of its ${frames.length} frames decoded)`);
      await file.write(APNG_END);
    } finally {
      await file.close();
    }
  } finally {
    await rm(stills, { recursive: true, force: true });
  }
}

const stillName = (i: number) => `f-${String(i).padStart(5, '0')}.webp`;

/**
 * Frame `index` as APNG chunks: its rectangle cut from the decoded frame (at the top left
 * of `pixels`, `stride` pixels wide); the first frame put on a transparent canvas, since the
 * APNG's first frame is also its still image and covers the canvas.
 */
async function apngChunks(
  index: number,
  frame: WebpFrame,
  pixels: Uint8Array,
  stride: number,
  canvas: { width: number; height: number },
): Promise<Uint8Array> {
  const delay = apngDelay(shownMilliseconds(frame.duration));
  if (index > 0) {
    const lines = scanlines(pixels, stride * 4, frame.width, frame.height);
    return apngFrame(index, { ...frame, delay }, await deflate(lines, { level: 1 }));
  }
  const full = new Uint8Array(canvas.width * canvas.height * 4);
  for (let y = 0; y < frame.height; y++)
    full.set(
      pixels.subarray(y * stride * 4, y * stride * 4 + frame.width * 4),
      ((frame.y + y) * canvas.width + frame.x) * 4,
    );
  const lines = scanlines(full, canvas.width * 4, canvas.width, canvas.height);
  // on the transparent canvas blending changes nothing, and clearing the canvas clears no more than the frame
  const first = { x: 0, y: 0, ...canvas, delay, blend: false, dispose: frame.dispose };
  return apngFrame(0, first, await deflate(lines, { level: 1 }));
}

/** A byte stream cut into pieces of `size` bytes (a last, shorter piece is dropped: the caller counts frames). */
async function* fixedSize(stream: Readable, size: number): AsyncGenerator<Uint8Array> {
  const piece = new Uint8Array(size);
  let filled = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    for (let at = 0; at < chunk.length; ) {
      const n = Math.min(size - filled, chunk.length - at);
      piece.set(chunk.subarray(at, at + n), filled);
      filled += n;
      at += n;
      if (filled === size) {
        // the consumer copies what it keeps before it asks for the next piece
        yield piece;
        filled = 0;
      }
    }
  }
}
