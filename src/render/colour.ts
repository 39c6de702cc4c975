// The colour every output is in: BT.709 matrix, primaries and transfer, limited range,
// tagged so. It is what a browser assumes for untagged HD anyway, so tagging it only
// makes certain that every player reads the pixels the way they were written. These are
// the filters that bring each kind of picture into it and the one that takes it back to
// RGB for a preview, so the preview is what a browser shows.
import type { VideoColour } from '../media/index.ts';

/** The output's colour in ffmpeg's names: matrix, primaries and transfer, and range. */
const OUTPUT = { standard: 'bt709', range: 'tv' } as const;

/**
 * Encoder options that tag the H.264 stream (its VUI); the MP4 muxer copies them into its
 * colr box (ffmpeg 4.3 and later by itself, older builds with -movflags +write_colr, which assembly passes).
 */
export function colourTagArgs(): string[] {
  return [
    '-colorspace',
    OUTPUT.standard,
    '-color_primaries',
    OUTPUT.standard,
    '-color_trc',
    OUTPUT.standard,
    '-color_range',
    OUTPUT.range,
  ];
}

/**
 * Options for a `scale` filter that writes RGB input as YUV in the output's matrix and range.
 * Only for RGB input: between two YUV formats swscale applies a matrix when it resizes and
 * not when it only copies, so a YUV source's matrix is converted by `colorspace` instead.
 */
export const TO_OUTPUT = `out_color_matrix=${OUTPUT.standard}:out_range=${OUTPUT.range}`;

/** RGB(A) pictures (a colour, a text raster) into the output's YUV: one `scale` pass. */
export function fromRgb(format: 'yuv420p' | 'yuva420p'): string {
  return `scale=${TO_OUTPUT},format=${format}`;
}

/**
 * Decoded images to RGBA first: JPEG (JFIF) and lossy WebP are YUV with the BT.601 matrix,
 * full range for JPEG (its yuvj pixel format says so); PNG is RGB already.
 */
export const IMAGE_TO_RGBA = 'scale=in_color_matrix=bt601,format=rgba';

/** The output's YUV back to RGB, as a browser decodes the tagged file. */
export const TO_RGB = `scale=in_color_matrix=${OUTPUT.standard}:in_range=${OUTPUT.range},format=rgb24`;

/** A picture's way into the output's colour: options for the `scale` pass that fits it, then the filters after that pass. */
export interface Conversion {
  scale: string;
  after: string[];
}

/** A video source's colour as the file says, and its height (by which an untagged one is read). */
export interface SourceColour extends VideoColour {
  height: number;
}

/** The matrix a video source is read with (ffprobe's name, or "gbr"): its own, or for an untagged or unknown one, BT.601 below 720 lines and BT.709 from 720 up. */
export function sourceMatrix(colour: SourceColour): string {
  const known = colour.matrix === OUTPUT.standard || colour.matrix === 'gbr' || CONVERTIBLE.has(colour.matrix ?? '');
  return known ? colour.matrix! : colour.height < 720 ? 'smpte170m' : OUTPUT.standard;
}

/** The matrices the `colorspace` filter converts from, by the names ffprobe gives them. */
const CONVERTIBLE = new Set(['bt470bg', 'smpte170m', 'fcc', 'smpte240m', 'ycgco', 'bt2020nc']);

/**
 * How a video source's pixels become the output's: options for the `scale` pass that fits
 * it to its box (its range; an RGB-coded source's conversion), then the filters after that
 * pass (a matrix conversion when the source's differs). An untagged source is read as
 * players read it: BT.601 below 720 lines, BT.709 from 720 up.
 */
export function sourceConversion(colour: SourceColour): Conversion {
  const matrix = sourceMatrix(colour);
  if (matrix === 'gbr') return { scale: TO_OUTPUT, after: ['format=yuv420p'] };
  const scale = `${colour.range ? `in_range=${colour.range}:` : ''}out_range=${OUTPUT.range}`;
  // same primaries and transfer in and out, so only the matrix changes (`fast`: no trip through linear light)
  const matrixChange = `colorspace=all=${OUTPUT.standard}:iall=${OUTPUT.standard}:ispace=${matrix}:irange=${OUTPUT.range}:range=${OUTPUT.range}:fast=1`;
  return { scale, after: ['format=yuv420p', ...(matrix === OUTPUT.standard ? [] : [matrixChange])] };
}
