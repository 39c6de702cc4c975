// The pieces of an APNG file, for animations the engine writes itself (an animated WebP's
// frames, which ffmpeg cannot read as video, become an APNG it can: apng-writer's frames
// keep their offsets, blending, disposal and delays, and ffmpeg's APNG decoder composes
// them). Pure: chunks as bytes; the caller deflates the pixels.

import * as zlib from 'node:zlib';

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** A frame's rectangle on the canvas, its delay and how it is put there (fcTL). */
export interface ApngFrame {
  x: number;
  y: number;
  width: number;
  height: number;
  /** Its delay as a fraction of a second (apngDelay). */
  delay: [number, number];
  /** Blended over the canvas (APNG_BLEND_OP_OVER), else it replaces its rectangle (SOURCE). */
  blend: boolean;
  /** Its rectangle cleared to transparent black after it shows (APNG_DISPOSE_OP_BACKGROUND), else left (NONE). */
  dispose: boolean;
}

/** The signature, IHDR (8-bit RGBA) and acTL (`frames`, looping for ever) of a `width` x `height` APNG. */
export function apngHead(width: number, height: number, frames: number): Uint8Array {
  const ihdr = new Uint8Array(13);
  const view = new DataView(ihdr.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  ihdr.set([8, 6, 0, 0, 0], 8); // depth 8, RGBA, deflate, adaptive filtering, no interlace
  const actl = new Uint8Array(8);
  new DataView(actl.buffer).setUint32(0, frames);
  return concat([new Uint8Array(SIGNATURE), pngChunk('IHDR', ihdr), pngChunk('acTL', actl)]);
}

/**
 * The chunks of frame number `index` (from 0): its fcTL, then its deflated scanlines as IDAT
 * for the first frame (which is also the still image, so it must cover the canvas from 0,0)
 * or fdAT for the others. Sequence numbers run over fcTL and fdAT alike.
 */
export function apngFrame(index: number, frame: ApngFrame, deflated: Uint8Array): Uint8Array {
  const sequence = index === 0 ? 0 : 2 * index - 1;
  const fctl = new Uint8Array(26);
  const view = new DataView(fctl.buffer);
  view.setUint32(0, sequence);
  view.setUint32(4, frame.width);
  view.setUint32(8, frame.height);
  view.setUint32(12, frame.x);
  view.setUint32(16, frame.y);
  view.setUint16(20, frame.delay[0]);
  view.setUint16(22, frame.delay[1]);
  fctl[24] = frame.dispose ? 1 : 0;
  fctl[25] = frame.blend ? 1 : 0;
  if (index === 0) return concat([pngChunk('fcTL', fctl), pngChunk('IDAT', deflated)]);
  const fdat = new Uint8Array(4 + deflated.length);
  new DataView(fdat.buffer).setUint32(0, sequence + 1);
  fdat.set(deflated, 4);
  return concat([pngChunk('fcTL', fctl), pngChunk('fdAT', fdat)]);
}

/** Bytes a frame's chunks take at most beyond its deflated pixels (fcTL, the data chunk's header, fdAT's sequence number). */
export const APNG_FRAME_OVERHEAD = 12 + 26 + 12 + 4;

/**
 * `ms` as fcTL's delay fraction (16-bit numerator and denominator): exact to the
 * millisecond up to 65.5 s, then to the hundredth, then to the second.
 */
export function apngDelay(ms: number): [number, number] {
  if (ms <= 0xffff) return [ms, 1000];
  if (ms / 10 <= 0xffff) return [Math.round(ms / 10), 100];
  return [Math.min(0xffff, Math.round(ms / 1000)), 1];
}

/** `height` rows of `width` RGBA pixels, each row `stride` bytes apart in `pixels`, as PNG scanlines (filter type 0 before each row). */
export function scanlines(pixels: Uint8Array, stride: number, width: number, height: number): Uint8Array {
  const row = width * 4;
  const out = new Uint8Array(height * (row + 1));
  for (let y = 0; y < height; y++) out.set(pixels.subarray(y * stride, y * stride + row), y * (row + 1) + 1);
  return out;
}

function pngChunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

const CRC_TABLE = Uint32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

/** zlib's own CRC-32, from Node 20.15 on: a frame's chunk may be many megabytes, read on the event loop. */
const nativeCrc32 = (zlib as { crc32?: (data: Uint8Array) => number }).crc32;

/** PNG's CRC-32. */
export function crc32(bytes: Uint8Array): number {
  return nativeCrc32 ? nativeCrc32(bytes) >>> 0 : tableCrc32(bytes);
}

/** The same, by table, for older Node 20 releases. */
export function tableCrc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

// last: it is made with the CRC above
export const APNG_END: Uint8Array = pngChunk('IEND', new Uint8Array(0));
