// What a source file is, decided by allow-list: its first bytes name one of the formats
// Reelsmith reads (anything else is refused), an image's size comes from its header (its
// one strict decode is decodePicture's, at planning), a video's or audio's streams come from
// ffprobe (ffmpeg for MPEG-TS), and every size is checked against the source limits.
// Every tool opens the file with its demuxer named and the `file` protocol only.
import { open, readFile, writeFile } from 'node:fs/promises';
import { apngDuration, firstWebpFrame, isAnimatedPng, isAnimatedWebp } from './animation.ts';
import { ffmpegBinary } from './binaries.ts';
import { isDiskFull } from './disk-full.ts';
import { imageDimensions } from './image-header.ts';
import {
  parseFirstPacketTime,
  parseInputDescription,
  sampleAspect,
  videoColour,
  type StreamFacts,
} from './input-description.ts';
import { readInput } from './read-input.ts';
import { mebibytes } from './process-limits.ts';
import {
  DEFAULT_RUN_SECONDS,
  FfmpegError,
  FfmpegMemoryError,
  FfmpegTimeoutError,
  run,
  runFfmpeg,
  runFfprobe,
} from './run-ffmpeg.ts';
import { FORMAT_LABELS, FORMATS, HEAD_BYTES, sniff, type MediaFormat } from './sniff.ts';
import { limitRefusal } from './source-limits.ts';

export interface MediaInfo extends StreamFacts {
  /** The allowed format the file is in; its demuxer is the one every later read names. */
  format: MediaFormat;
  /** An animated picture (GIF, APNG) read as a video: its demuxer and streams; an animated WebP's is undefined. */
  animation?: { demuxer: string } & StreamFacts;
  /** An animated WebP, which ffmpeg decodes only frame by frame, each taken out as a still WebP (decodePicture, render/animated-webp.ts). */
  animatedWebp?: boolean;
}

/** A source that is not a file Reelsmith reads, or not within the limits: `reason` follows its URL in messages. */
export class SourceRefusal extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'SourceRefusal';
  }
}

/** A source whose reading needs more memory than a reader may take (an index of millions of samples). */
export class SourceTooLarge extends SourceRefusal {
  constructor(reason: string) {
    super(reason);
    this.name = 'SourceTooLarge';
  }
}

/**
 * A picture that was read but whose fit to its box failed in ffmpeg's filters: the engine's
 * failure, not the source's, so it is never told as a damaged file.
 */
export class PictureFitError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'PictureFitError';
  }
}

/** ffmpeg's words when its filters fail (configuring, or taking a frame), as against a decoder's. */
const FILTER_FAILURE =
  /Failed to inject frame into filter network|Error reinitializing filters|Error (?:configuring|initializing) (?:the )?filter|Error while filtering/;
const DECODE_FAILURE = /Error while decoding|Invalid data found|decode_frame|corrupt|truncated/i;

export async function probeMedia(path: string, signal?: AbortSignal): Promise<MediaInfo> {
  const head = await readHead(path);
  const sniffed = sniff(head);
  if ('looksLike' in sniffed)
    throw new SourceRefusal(`is ${sniffed.looksLike}, not an image or media file Reelsmith reads (${FORMAT_LABELS})`);
  const { format } = sniffed;
  const facts = format.kind === 'image' ? imageFacts(format, head) : await streamFacts(path, format, signal);
  const refusal = limitRefusal({ ...facts.video, duration: facts.duration, streams: facts.streams });
  if (refusal) throw new SourceRefusal(refusal);
  if (format === FORMATS.webp && isAnimatedWebp(head)) return { format, ...facts, animatedWebp: true };
  const animated = format === FORMATS.gif || (format === FORMATS.png && isAnimatedPng(head));
  if (!animated || !format.animation) return { format, ...facts };
  // an animated picture is also read as a video: its frames' pixel format and timing
  const demuxer = { ...format, demuxer: format.animation };
  const moving = await streamFacts(path, demuxer, signal);
  if (format === FORMATS.png) moving.duration ??= apngDuration(await readFile(path));
  if (moving.video && moving.duration !== undefined) moving.video.duration ??= moving.duration;
  return { format, ...facts, animation: { demuxer: format.animation, ...moving } };
}

/**
 * A probed source as a video layer reads it: an animated GIF or APNG as its frames; anything
 * else as it is (planning refuses a still picture). An animated WebP is not read by ffmpeg as
 * video: planning turns it into an APNG first (render/animated-webp.ts).
 */
export function asVideo<T extends MediaInfo>(media: T): T {
  if (media.animatedWebp) throw new Error('an animated WebP is read as video through WebpVideos (animated-webp.ts)');
  if (!media.animation) return media;
  const { demuxer, ...facts } = media.animation;
  return { ...media, ...facts, format: { ...media.format, demuxer, kind: 'media' } };
}

/** The size from the header (probeMedia checks it against the limits before anything decodes the picture; decodePicture does, strictly). */
function imageFacts(format: MediaFormat, head: Uint8Array): StreamFacts {
  const size = imageDimensions(format, head);
  if (!size) throw new SourceRefusal(`is not a valid ${format.label} image (its header is missing or damaged)`);
  return { video: size, streams: 1 };
}

/**
 * Decodes a probed picture's first frame strictly (a damaged picture is refused, naming
 * ffmpeg's reason) through `filters`, into `out` as one uncompressed frame in NUT, the
 * container that carries its size and pixel format, so reading it back costs no decode.
 */
export async function decodePicture(
  path: string,
  format: MediaFormat,
  filters: string,
  out: string,
  signal?: AbortSignal,
): Promise<void> {
  // an animated WebP's first frame, taken out as a still WebP, on its canvas
  const first = format === FORMATS.webp ? await firstFrameOfAnimatedWebp(path, out) : undefined;
  const args = [
    '-xerror',
    '-err_detect',
    'explode',
    ...readInput(format.demuxer, first?.path ?? path),
    '-map',
    '0:v:0',
    '-frames:v',
    '1',
    '-vf',
    first ? `${first.filter},${filters}` : filters,
    '-c:v',
    'rawvideo',
    '-f',
    PICTURE_DEMUXER,
    `file:${out}`,
  ];
  // a picture's fit can wait while the audio mix runs (run-ffmpeg.ts yieldsCpu)
  await runFfmpeg(args, {
    signal,
    limits: { seconds: DEFAULT_RUN_SECONDS },
    names: unnamed(path),
    yieldsCpu: true,
  }).catch((err: Error) => {
    if (err instanceof FfmpegError && FILTER_FAILURE.test(err.stderr) && !DECODE_FAILURE.test(err.stderr))
      throw new PictureFitError(`could not be fitted into its box (${lastWords(err.stderr)})`);
    throw unreadable(err, `cannot be decoded as ${format.label}`);
  });
}

/** An animated WebP's first frame as a still WebP beside `out`, and the filter that puts it on the animation's canvas; undefined for a still WebP. */
async function firstFrameOfAnimatedWebp(
  path: string,
  out: string,
): Promise<{ path: string; filter: string } | undefined> {
  const file = await readFile(path);
  if (!isAnimatedWebp(file)) return undefined;
  const frame = firstWebpFrame(file);
  const canvas = imageDimensions(FORMATS.webp, file);
  if (!frame || !canvas) throw new SourceRefusal('is not a valid animated WebP (it has no frame)');
  const still = `${out}.first.webp`;
  await writeFile(still, frame.still);
  return {
    path: still,
    filter: `format=rgba,pad=${canvas.width}:${canvas.height}:${frame.x}:${frame.y}:color=black@0`,
  };
}

/** How decodePicture's output is read back. */
export const PICTURE_DEMUXER = 'nut';

async function streamFacts(path: string, format: MediaFormat, signal?: AbortSignal): Promise<StreamFacts> {
  if (format === FORMATS.mpegts) {
    const facts = await describedByFfmpeg(path, format, signal);
    const [video, audio] = await Promise.all([
      facts.video && firstPacketTime(path, format, 'v', signal),
      facts.audio && firstPacketTime(path, format, 'a', signal),
    ]);
    if (facts.video) facts.video.start = video;
    if (facts.audio) facts.audio.start = audio;
    return facts;
  }
  const out = await runFfprobe(['-show_streams', '-show_format', '-of', 'json', ...readInput(format.demuxer, path)], {
    signal,
    names: unnamed(path),
  }).catch((err: Error) => {
    throw unreadable(err, `cannot be read as ${format.label}`);
  });
  return parseProbeJson(out);
}

/**
 * ffmpeg's own description of the input. Given no output, ffmpeg describes its inputs
 * and then exits with an error, so the description is read from that error's stderr.
 */
async function describedByFfmpeg(path: string, format: MediaFormat, signal?: AbortSignal): Promise<StreamFacts> {
  const stderr = await run(ffmpegBinary().path, ['-hide_banner', ...readInput(format.demuxer, path)], {
    signal,
    names: unnamed(path),
  }).then(
    () => '',
    (err: Error) => {
      if (err instanceof FfmpegError) return err.stderr;
      throw err;
    },
  );
  const facts = parseInputDescription(stderr);
  if (!facts) throw unreadable(new FfmpegError('', stderr), `cannot be read as ${format.label}`);
  return facts;
}

/**
 * When a stream's first packet plays, in seconds: its timestamp, copied out unchanged
 * (-copyts) as a framecrc listing. ffmpeg's description of an MPEG-TS names the
 * container's start only, and ffprobe, which names each stream's, is not usable there.
 */
async function firstPacketTime(
  path: string,
  format: MediaFormat,
  type: 'v' | 'a',
  signal?: AbortSignal,
): Promise<number | undefined> {
  const args = [
    '-hide_banner',
    '-loglevel',
    'error',
    '-copyts',
    ...readInput(format.demuxer, path),
    '-map',
    `0:${type}:0`,
    '-c',
    'copy',
    `-frames:${type}`,
    '1',
    '-f',
    'framecrc',
    'pipe:1',
  ];
  const listing = await run(ffmpegBinary().path, args, { signal, names: unnamed(path) }).catch((err: Error) => {
    throw unreadable(err, `cannot be read as ${format.label}`);
  });
  return parseFirstPacketTime(listing);
}

interface ProbeJson {
  streams?: Array<{
    codec_type?: string;
    width?: number;
    height?: number;
    pix_fmt?: string;
    color_space?: string;
    color_range?: string;
    sample_aspect_ratio?: string;
    color_transfer?: string;
    color_primaries?: string;
    codec_name?: string;
    field_order?: string;
    tags?: Record<string, string>;
    channels?: number;
    sample_rate?: string;
    duration?: string;
    start_time?: string;
    disposition?: { attached_pic?: number };
  }>;
  format?: { duration?: string; start_time?: string };
}

/** ffprobe's JSON (-show_streams -show_format) as the facts the planner needs. */
export function parseProbeJson(out: string): StreamFacts {
  const json = JSON.parse(out) as ProbeJson;
  const streams = json.streams ?? [];
  // an MP3's or M4A's cover art is a one-picture "video" stream: not a video
  const v = streams.find((s) => s.codec_type === 'video' && s.disposition?.attached_pic !== 1);
  const a = streams.find((s) => s.codec_type === 'audio');
  const num = (s: string | undefined) =>
    s !== undefined && s !== '' && Number.isFinite(Number(s)) ? Number(s) : undefined;
  return {
    // size 0 when the decoder, bounded by -max_pixels, could not tell it
    video: v
      ? {
          width: v.width ?? 0,
          height: v.height ?? 0,
          ...sampleAspect(v.sample_aspect_ratio),
          duration: num(v.duration),
          start: num(v.start_time),
          colour: videoColour(v.pix_fmt, v.color_space, v.color_range),
          ...known({
            codec: v.codec_name,
            pixelFormat: v.pix_fmt,
            fieldOrder: v.field_order,
            transfer: v.color_transfer,
            primaries: v.color_primaries,
          }),
          // Matroska tags keep their case (ALPHA_MODE when muxed by other tools)
          ...(Object.entries(v.tags ?? {}).some(([k, val]) => k.toLowerCase() === 'alpha_mode' && val === '1')
            ? { alphaMode: true }
            : {}),
        }
      : undefined,
    audio: a
      ? {
          channels: a.channels ?? 2,
          sampleRate: num(a.sample_rate) ?? 48000,
          duration: num(a.duration),
          start: num(a.start_time),
        }
      : undefined,
    duration: num(json.format?.duration),
    start: num(json.format?.start_time),
    streams: streams.length,
  };
}

/** The fields ffprobe gave a value ("unknown" is none). */
function known<T extends Record<string, string | undefined>>(fields: T): Partial<T> {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined && v !== 'unknown')) as Partial<T>;
}

/**
 * A failed read as a refusal whose reason is ffmpeg's own last words, without our paths
 * or its "[demuxer @ 0x...]" prefixes. Cancellation and other errors pass through.
 */
export function unreadable(err: Error, what: string): Error {
  if (isDiskFull(err)) return err;
  if (err instanceof FfmpegMemoryError)
    return new SourceTooLarge(
      `needs more than the ${mebibytes(err.bytes)} of memory a reader may take (its index or its pictures are too large)`,
    );
  // a source that keeps a reader busy past its limit is the source's fault, not the render's
  if (err instanceof FfmpegTimeoutError) return new SourceRefusal(`${what}: not read within ${err.seconds} s`);
  if (!(err instanceof FfmpegError)) return err;
  const tooLarge = /Picture size (\d+)x(\d+) exceeds specified max pixel count/.exec(err.stderr);
  const overLimit = tooLarge && limitRefusal({ width: Number(tooLarge[1]), height: Number(tooLarge[2]) });
  if (overLimit) return new SourceRefusal(overLimit);
  const last = lastWords(err.stderr);
  return new SourceRefusal(last ? `${what} (${last})` : what);
}

/** ffmpeg's last two distinct lines, without its "[demuxer @ 0x...]" prefixes. */
function lastWords(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((line) =>
      line
        .replace(/\[[^\]]* @ 0x[0-9a-f]+\] /g, '')
        .replace(/^: /, '')
        .trim(),
    )
    .filter((line) => line && !line.startsWith('At least one output file'));
  return [...new Set(lines)].slice(-2).join(' | ');
}

/** ffmpeg's words about the source file with its path left out: the message already names the layer and the URL. */
function unnamed(path: string): ReadonlyMap<string, string> {
  return new Map([[path, '']]);
}

async function readHead(path: string): Promise<Uint8Array> {
  const file = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(HEAD_BYTES);
    const { bytesRead } = await file.read(buffer, 0, HEAD_BYTES, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await file.close();
  }
}
