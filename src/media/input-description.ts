// What ffmpeg itself prints about an input ("Input #0, ...", "Duration: ...", one
// "Stream #0:n...: Video: ..." line per stream), read into the facts a probe gives. The
// npm-shipped static ffprobe crashes on MPEG-TS (its static glibc loads the host's
// iconv modules to decode the service names and segfaults), so MPEG-TS is described by
// ffmpeg instead; this text has kept its shape across ffmpeg versions.

export interface StreamFacts {
  /** `start`: the stream's first timestamp in seconds, when known (compare it with the container's). */
  video?: {
    width: number;
    height: number;
    /** How much wider than tall a pixel is shown (the sample aspect ratio), when not square. */
    sampleAspect?: number;
    duration?: number;
    start?: number;
    colour?: VideoColour;
  } & CodingFacts;
  audio?: { channels: number; sampleRate: number; duration?: number; start?: number };
  /** Seconds, when the container knows. */
  duration?: number;
  /** The container's first timestamp (its earliest stream's), in seconds: ffmpeg reads every stream from there. */
  start?: number;
  /** Every stream of the container, whatever its type. */
  streams: number;
}

/** What decides how a video stream is decoded and read (source-filters.ts), as far as the file says (ffmpeg's names). */
export interface CodingFacts {
  codec?: string;
  pixelFormat?: string;
  /** WebM's `alpha_mode=1` tag: VP8/VP9 alpha that only the libvpx decoders return. */
  alphaMode?: boolean;
  /** "tt", "bb", "tb", "bt" (interlaced) or "progressive"; absent when unknown. */
  fieldOrder?: string;
  /** Transfer ("smpte2084", "arib-std-b67", ...) and primaries ("bt2020", ...); absent when untagged. */
  transfer?: string;
  primaries?: string;
}

/** How a video stream's pixels are coded, as far as the file says (ffmpeg's names). */
export interface VideoColour {
  /** The YUV matrix ("bt709", "smpte170m", "bt470bg", ...), or "gbr" for RGB-coded pixels; absent when untagged. */
  matrix?: string;
  /** Limited ("tv") or full ("pc") range; absent when untagged. */
  range?: 'tv' | 'pc';
}

/** A video stream's colour from its pixel format and tags (ffmpeg's names; "unknown" is untagged). */
export function videoColour(
  pixelFormat: string | undefined,
  space: string | undefined,
  range: string | undefined,
): VideoColour {
  const colour: VideoColour = {};
  if (pixelFormat !== undefined && /^(?:gbr|rgb|bgr|argb|abgr|0rgb|0bgr|pal8)/.test(pixelFormat)) colour.matrix = 'gbr';
  else if (space !== undefined && space !== 'unknown') colour.matrix = space;
  // a yuvj format is full range by definition, tagged or not
  if (range === 'tv' || range === 'pc') colour.range = range;
  else if (pixelFormat?.startsWith('yuvj')) colour.range = 'pc';
  return colour;
}

/** The facts about input #0, or undefined when the text does not describe one. */
export function parseInputDescription(text: string): StreamFacts | undefined {
  const start = text.search(/^Input #0, /m);
  if (start < 0) return undefined;
  const input = text.slice(start).split(/^(?:Input #1|Output #0|At least one output)/m)[0];
  const streams = [...input.matchAll(/^\s*Stream #0:\d+\S*: (\w+): (.*)$/gm)].map(([, type, details]) => ({
    type,
    details,
  }));
  const duration = /Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)/.exec(input);
  const origin = /Duration: .*, start: (-?\d+(?:\.\d+)?)/.exec(input);
  const facts: StreamFacts = {
    duration: duration ? Number(duration[1]) * 3600 + Number(duration[2]) * 60 + Number(duration[3]) : undefined,
    start: origin ? Number(origin[1]) : undefined,
    streams: streams.length,
  };
  const video = streams.find((s) => s.type === 'Video' && !s.details.includes('(attached pic)'));
  // no size when the decoder, bounded by -max_pixels, could not tell it
  const size = video && /, (\d+)x(\d+)(?=[\s,]|$)/.exec(video.details);
  if (video)
    facts.video = {
      width: Number(size?.[1] ?? 0),
      height: Number(size?.[2] ?? 0),
      colour: describedColour(video.details),
      ...sampleAspect(/\[SAR (\d+):(\d+) /.exec(video.details)?.slice(1).join(':')),
      ...describedCoding(video.details),
    };
  const audio = streams.find((s) => s.type === 'Audio');
  const sound = audio && /, (\d+) Hz, ([^,]+)/.exec(audio.details);
  if (sound) facts.audio = { channels: channelsOf(sound[2]), sampleRate: Number(sound[1]) };
  return facts;
}

/**
 * The colour of a "Video:" line: its pixel format is followed by "(range, matrix[/primaries/transfer],
 * field order)", each part only when known: "yuv420p(tv, bt709)", "yuv420p(pc, smpte170m/bt709/bt709, progressive)".
 */
function describedColour(details: string): VideoColour {
  const m = /, (\w+)(?:\(([^)]*)\))?/.exec(details);
  const parts = m?.[2]?.split(', ') ?? [];
  const range = parts.find((p) => p === 'tv' || p === 'pc');
  const space = parts
    .find((p) => p !== range && !/^(?:progressive|top first|bottom first|top coded first|bottom coded first)/.test(p))
    ?.split('/')[0];
  return videoColour(m?.[1], space, range);
}

/** A "Video:" line's codec, pixel format, field order and transfer: "h264 (High) (...), yuv420p(tv, bt2020nc/bt2020/smpte2084, top first)". */
function describedCoding(details: string): CodingFacts {
  const coding: CodingFacts = {};
  const codec = /^(\w+)/.exec(details);
  if (codec) coding.codec = codec[1];
  // the parentheses may hold one pair of their own: "(bottom coded first (swapped))"
  const m = /, (\w+)(?:\(((?:[^()]|\([^()]*\))*)\))?/.exec(details);
  if (m && m[1] !== 'none') coding.pixelFormat = m[1];
  const parts = m?.[2]?.split(', ') ?? [];
  const [, primaries, transfer] = parts.find((p) => p.split('/').length === 3)?.split('/') ?? [];
  if (primaries && primaries !== 'unknown') coding.primaries = primaries;
  if (transfer && transfer !== 'unknown') coding.transfer = transfer;
  const order = parts.map((p) => FIELD_ORDERS[p]).find((o) => o !== undefined);
  if (order) coding.fieldOrder = order;
  return coding;
}

/** ffmpeg's words for a field order, as ffprobe names it. */
const FIELD_ORDERS: Record<string, string> = {
  progressive: 'progressive',
  'top first': 'tt',
  'bottom first': 'bb',
  'top coded first (swapped)': 'tb',
  'bottom coded first (swapped)': 'bt',
};

/** Channels of a layout as ffmpeg names it: "mono", "stereo", "5.1(side)", "3 channels", ... */
function channelsOf(layout: string): number {
  const counted = /^(\d+) channels/.exec(layout) ?? /^(\d+)\.(\d+)/.exec(layout);
  if (counted) return counted.slice(1).reduce((sum, n) => sum + Number(n), 0);
  return layout === 'mono' ? 1 : layout === 'quad' ? 4 : 2;
}

/**
 * The first packet's timestamp in seconds from a framecrc listing of one stream read with
 * -copyts (`#tb 0: 1/90000`, then `0, dts, pts, duration, size, crc`): the description
 * names no stream's start, so this is how an MPEG-TS stream's start is read.
 */
export function parseFirstPacketTime(listing: string): number | undefined {
  const base = /^#tb 0: (\d+)\/(\d+)$/m.exec(listing);
  const packet = /^0,\s*-?\d+,\s*(-?\d+),/m.exec(listing);
  return base && packet ? (Number(packet[1]) * Number(base[1])) / Number(base[2]) : undefined;
}

/** A sample aspect ratio ("4:3") as a number, when it is known and not square ("0:1" is unknown). */
export function sampleAspect(ratio: string | undefined): { sampleAspect?: number } {
  const [num, den] = (ratio ?? '').split(':').map(Number);
  return num > 0 && den > 0 && num !== den ? { sampleAspect: num / den } : {};
}
