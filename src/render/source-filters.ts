// A video source read as players show it: alpha kept (VP8/VP9 alpha needs the libvpx
// decoders, which read WebM's alpha side data; the native ones drop it), HDR tone-mapped to
// SDR BT.709, interlaced pictures deinterlaced. Pure: probed facts in, decoder options and
// filters out; the scene graph puts them around the fit (scene-graph.ts videoStream).
import type { CodingFacts, FfmpegFeature } from '../media/index.ts';
import { type Conversion, type SourceColour, SWS_MATRICES, sourceConversion, sourceMatrix } from './colour.ts';

/** What ffmpeg must have for a source: a decoder or a filter, by ffmpeg's name. */
export interface Feature extends FfmpegFeature {
  name: string;
  /** What it is for, in messages: "VP9 alpha". */
  purpose: string;
}

export interface SourceFilters {
  /** Input options before the source's `-i`: the decoder that keeps alpha. */
  inputArgs: string[];
  /** On every decoded frame, before the frame rate is conformed: deinterlacing wants the fields as shot. */
  decoded: string[];
  /** On each frame shown, right before the fit: tone mapping, YUV with alpha to RGBA. */
  beforeFit: string[];
  /** The fit's colour conversion, from what `beforeFit` leaves. */
  conversion: Conversion;
  /** Transparent pixels to keep through the fit and the overlay. */
  hasAlpha: boolean;
  /** What the user should know, worded to follow the layer's name (the job's warnings). */
  notes: string[];
  /** What this ffmpeg must have for these filters. */
  needs: Feature[];
}

export type SourceFacts = CodingFacts & { colour: SourceColour };

/** Every feature a source may need, for `reelsmith doctor` too. */
export const SOURCE_FEATURES = {
  vp8Alpha: { kind: 'decoder', name: 'libvpx', purpose: 'VP8 alpha' },
  vp9Alpha: { kind: 'decoder', name: 'libvpx-vp9', purpose: 'VP9 alpha' },
  deinterlace: { kind: 'filter', name: 'bwdif', purpose: 'deinterlacing' },
  zscale: { kind: 'filter', name: 'zscale', purpose: 'HDR tone mapping' },
  tonemap: { kind: 'filter', name: 'tonemap', purpose: 'HDR tone mapping' },
} as const satisfies Record<string, Feature>;

/** The decoder for a WebM codec with `alpha_mode=1`. */
const ALPHA_DECODERS: Record<string, Feature> = { vp8: SOURCE_FEATURES.vp8Alpha, vp9: SOURCE_FEATURES.vp9Alpha };

/** Pixel formats that carry alpha (pal8: a palette may hold transparent entries, as GIF's and PNG's do). */
const WITH_ALPHA = /^(?:yuva|rgba|argb|bgra|abgr|gbrap|ya8|ya16|pal8)/;

/** Transfers of HDR video, as ffprobe names them, and as users know them. */
const HDR_TRANSFERS: Record<string, string> = { smpte2084: 'PQ', 'arib-std-b67': 'HLG' };

/**
 * The HDR reference white, in cd/m², that becomes SDR white (ITU-R BT.2408): zscale's
 * `npl` scales linear light so that 1.0 is this.
 */
const REFERENCE_WHITE = 203;

/**
 * The tone curve: Möbius, linear up to 0.7 of SDR white (so midtones and skin keep their
 * SDR values: 50 % grey comes back as 128) and compressing everything brighter into the rest.
 * Measured on SDR colours written as PQ and HLG: hable gives grey 86 and red 156,
 * reinhard 123 and 197, mobius at 0.3 gives 128 and 213, at 0.7 128 and 238, clip 128
 * and 255 (but blows every highlight out).
 */
const TONE_CURVE = 'tonemap=mobius:param=0.7:desat=0';

/** `clip`: the layer is translucent, so values outside what RGB can show are clipped before it is blended. */
export function sourceFilters(facts: SourceFacts, clip = false): SourceFilters {
  const needs: Feature[] = [];
  const notes: string[] = [];
  const inputArgs: string[] = [];
  const decoded: string[] = [];
  const beforeFit: string[] = [];
  let colour: SourceColour = facts.colour;
  let hasAlpha = facts.pixelFormat !== undefined && WITH_ALPHA.test(facts.pixelFormat);

  const decoder = facts.alphaMode && facts.codec ? ALPHA_DECODERS[facts.codec] : undefined;
  if (decoder) {
    inputArgs.push('-c:v', decoder.name);
    needs.push(decoder);
    hasAlpha = true;
  }

  const order = facts.fieldOrder;
  if (order === 'tt' || order === 'bb' || order === 'tb' || order === 'bt') {
    // the field shown first: tt and bt are top first (bt is coded bottom first, shown top first)
    const parity = order === 'tt' || order === 'bt' ? 'tff' : 'bff';
    decoded.push(`bwdif=mode=send_frame:parity=${parity}:deint=all`);
    needs.push(SOURCE_FEATURES.deinterlace);
  }

  const hdr = facts.transfer === undefined ? undefined : HDR_TRANSFERS[facts.transfer];
  if (hdr) {
    const primaries = facts.primaries ?? 'bt2020';
    const matrix = colour.matrix === undefined || colour.matrix === 'gbr' ? 'bt2020nc' : colour.matrix;
    // to linear light in BT.709 primaries, the curve, then BT.709's transfer, every input tag
    // named (zscale refuses frames whose tags it must guess); 4:4:4 10-bit keeps the precision
    beforeFit.push(
      `zscale=tin=${facts.transfer}:min=${matrix}:pin=${primaries}:rin=${colour.range ?? 'tv'}:t=linear:p=bt709:npl=${REFERENCE_WHITE}`,
      'format=gbrpf32le',
      TONE_CURVE,
      'zscale=tin=linear:pin=bt709:t=bt709:p=bt709:m=bt709:r=tv',
      'format=yuv444p10le',
    );
    colour = { matrix: 'bt709', range: 'tv', height: colour.height };
    needs.push(SOURCE_FEATURES.zscale, SOURCE_FEATURES.tonemap);
    const gamut = primaries === 'bt2020' ? 'BT.2020' : primaries;
    notes.push(`HDR (${hdr}, ${gamut}) tone-mapped to SDR BT.709`);
    // tone mapping works on RGB without alpha: an HDR source's alpha is not kept
    hasAlpha = false;
  }

  if (!hasAlpha)
    return { inputArgs, decoded, beforeFit, conversion: sourceConversion(colour, clip), hasAlpha, notes, needs };
  const matrix = sourceMatrix(colour);
  if (matrix !== 'gbr') {
    // YUV with alpha to RGBA in its own matrix, then fitted as an RGBA picture is: the
    // `colorspace` filter, which converts a YUV source's matrix, has no alpha formats
    const range = colour.range ? `:in_range=${colour.range}` : '';
    beforeFit.push(`scale=in_color_matrix=${SWS_MATRICES[matrix] ?? 'bt709'}${range},format=rgba`);
  }
  const rgba = sourceConversion({ matrix: 'gbr', height: colour.height });
  return { inputArgs, decoded, beforeFit, conversion: withAlpha(rgba), hasAlpha, notes, needs };
}

/** A conversion whose YUV output keeps alpha (yuv420p becomes yuva420p, and so on). */
export function withAlpha(conversion: Conversion): Conversion {
  return { ...conversion, after: conversion.after.map((f) => f.replace(/^format=yuv(\d{3}p)$/, 'format=yuva$1')) };
}

/** Why a layer's source cannot be read by this ffmpeg, or undefined when it has all it needs. */
export function missingFeatures(needs: Feature[], has: (feature: FfmpegFeature) => boolean): string | undefined {
  const missing = needs.filter((f) => !has(f));
  if (missing.length === 0) return undefined;
  const names = missing.map((f) => `the ${f.name} ${f.kind} (${f.purpose})`).join(' and ');
  return `needs ${names}, which this ffmpeg lacks (reelsmith doctor lists what it has; FFMPEG_PATH chooses another ffmpeg)`;
}
