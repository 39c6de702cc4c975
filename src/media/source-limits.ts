// How big a source may be, in what decoding it costs: pixels per picture (memory per
// decoded frame), seconds (work for whoever reads it through) and streams.

export const SOURCE_LIMITS = {
  /** Pixels in one picture: 50 megapixels (e.g. 8660x5773), about 200 MB as RGBA. */
  pixels: 50_000_000,
  /** Length of a video or audio source: 4 hours. */
  seconds: 4 * 3600,
  /** Streams in one container (video, audio, subtitles, data). */
  streams: 16,
  /** Frames of an animated WebP, which is decoded frame by frame at planning (a file each). */
  webpFrames: 10_000,
} as const;

export interface SourceSize {
  /** 0 for a picture whose size could not be read (a decoder bounded by the limit reports none). */
  width?: number;
  height?: number;
  /** Seconds, when known. */
  duration?: number;
  streams?: number;
}

/** Why a source is over a limit, worded to follow the source's URL, or undefined when it is within them. */
export function limitRefusal(size: SourceSize): string | undefined {
  const { width, height, duration, streams } = size;
  if (width === 0 || height === 0) {
    return `has a picture whose size cannot be read, or is over the limit of ${SOURCE_LIMITS.pixels / 1e6} megapixels`;
  }
  if (width !== undefined && height !== undefined && width * height > SOURCE_LIMITS.pixels) {
    return `is ${width}x${height} pixels, over the limit of ${SOURCE_LIMITS.pixels / 1e6} megapixels`;
  }
  if (duration !== undefined && duration > SOURCE_LIMITS.seconds) {
    return `lasts ${clock(duration)}, over the limit of ${clock(SOURCE_LIMITS.seconds)}`;
  }
  if (streams !== undefined && streams > SOURCE_LIMITS.streams) {
    return `has ${streams} streams, over the limit of ${SOURCE_LIMITS.streams}`;
  }
  return undefined;
}

/** Seconds as h:mm:ss. */
function clock(seconds: number): string {
  const s = Math.floor(seconds);
  return `${Math.floor(s / 3600)}:${String(Math.floor(s / 60) % 60).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}
