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
export function fromRgb(format: 'yuv420p' | 'yuva420p' | 'yuv444p' | 'yuva444p'): string {
  // accurate_rnd: straight to 4:2:0 swscale's fast path rounds some chroma a level off (#10eb10's U 53 and 54 for 53.85)
  return `scale=${TO_OUTPUT}:flags=accurate_rnd,format=${format}`;
}

/**
 * An RGBA picture into the output's YUV with its alpha exact: the colour through `colour`
 * (a `scale` pass to yuva444p), the alpha plane taken out before it, through `alphaGeometry`
 * (the same resize and cuts), and merged back. swscale from ffmpeg 5 reads an 8-bit RGBA
 * alpha as a·64.25 and writes every alpha from 128 up one too high (128 became 129: orange at
 * 0.5 over blue was 2.5 levels off in blue); the 2018 build is exact there but not through
 * 16 bits, so no swscale route is right on both. `tag` makes the labels unique in a graph.
 */
export function rgbaToYuva(colour: string[], alphaGeometry: string[], tag: string): string {
  const [c, a, yuv, alpha] = ['c', 'a', 'yuv', 'alpha'].map((l) => `${tag}${l}`);
  return [
    `split[${c}][${a}]`,
    `[${a}]${['alphaextract', ...alphaGeometry].join(',')}[${alpha}]`,
    `[${c}]${colour.join(',')}[${yuv}]`,
    `[${yuv}][${alpha}]alphamerge`,
  ].join(';');
}

/**
 * Decoded images to RGBA first: JPEG (JFIF) and lossy WebP are YUV with the BT.601 matrix,
 * full range for JPEG (its yuvj pixel format says so); PNG is RGB already.
 */
export const IMAGE_TO_RGBA = 'scale=in_color_matrix=bt601,format=rgba';

/** The output's YUV back to RGB, as a browser decodes the tagged file. */
export const TO_RGB = `scale=in_color_matrix=${OUTPUT.standard}:in_range=${OUTPUT.range},format=rgb24`;

/** A picture's way into the output's colour: filters before the `scale` pass that fits it, that pass's options, then the filters after it. */
export interface Conversion {
  before?: string[];
  scale: string;
  after: string[];
}

/** A video source's colour as the file says, and its height (by which an untagged one is read). */
export interface SourceColour extends VideoColour {
  height: number;
}

/** The matrix a video source is read with (ffprobe's name, or "gbr"): its own, or for an untagged or unknown one, BT.601 below 720 lines and BT.709 from 720 up. */
export function sourceMatrix(colour: SourceColour): string {
  const known = colour.matrix === 'gbr' || colour.matrix! in SWS_MATRICES;
  return known ? colour.matrix! : colour.height < 720 ? 'smpte170m' : OUTPUT.standard;
}

/** The `scale` filter's names for the matrices ffprobe names and players know (swscale knows no "bt470bg" or "bt2020nc"). */
export const SWS_MATRICES: Record<string, string> = {
  bt709: 'bt709',
  smpte170m: 'smpte170m',
  bt470bg: 'bt601',
  fcc: 'fcc',
  smpte240m: 'smpte240m',
  bt2020nc: 'bt2020',
};

/**
 * How a video source's pixels become the output's. A source in the output's matrix is
 * scaled in its own range to the output's YUV. Any other (an untagged one is read as players
 * read it: BT.601 below 720 lines, BT.709 from 720 up), and one that `clip` asks for (a
 * translucent layer: blended, the values outside what RGB can show would show), goes through
 * RGB at its own size: the `colorspace` filter, which converts YUV matrices, refuses odd sizes.
 */
export function sourceConversion(colour: SourceColour, clip = false): Conversion {
  const matrix = sourceMatrix(colour);
  if (matrix === 'gbr') return { scale: TO_OUTPUT, after: ['format=yuv444p'] };
  const range = colour.range ? `:in_range=${colour.range}` : '';
  if (matrix === OUTPUT.standard && !clip)
    return { scale: `${range.slice(1)}${range ? ':' : ''}out_range=${OUTPUT.range}`, after: ['format=yuv444p'] };
  return {
    before: [`scale=in_color_matrix=${SWS_MATRICES[matrix]}${range},format=gbrp`],
    scale: TO_OUTPUT,
    after: ['format=yuv444p'],
  };
}
