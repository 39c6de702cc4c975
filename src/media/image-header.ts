// A still image's size as its header states it, read before anything decodes the picture,
// so a small file that would decode into gigabytes (a decompression bomb) is refused first.
import { FORMATS, type MediaFormat } from './sniff.ts';

export interface Dimensions {
  width: number;
  height: number;
}

/** Width and height from the header of a PNG, JPEG, WebP or GIF; undefined when the header is not there or not valid. */
export function imageDimensions(format: MediaFormat, head: Uint8Array): Dimensions | undefined {
  const size = readers.get(format)?.(head);
  return size && size.width > 0 && size.height > 0 ? size : undefined;
}

const readers = new Map<MediaFormat, (b: Uint8Array) => Dimensions | undefined>([
  [FORMATS.png, pngSize],
  [FORMATS.jpeg, jpegSize],
  [FORMATS.webp, webpSize],
  [FORMATS.gif, gifSize],
]);

/** The IHDR chunk, which must come first: length 13, then width and height (big-endian). */
function pngSize(b: Uint8Array): Dimensions | undefined {
  if (b.length < 24 || u32be(b, 8) !== 13 || ascii(b, 12, 4) !== 'IHDR') return undefined;
  return { width: u32be(b, 16), height: u32be(b, 20) };
}

/** The first start-of-frame segment, found by walking the marker segments from the top. */
function jpegSize(b: Uint8Array): Dimensions | undefined {
  let at = 2;
  while (at + 4 <= b.length) {
    if (b[at] !== 0xff) return undefined;
    const marker = b[at + 1];
    if (marker === 0xff) {
      at += 1; // fill byte
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      at += 2; // markers without a length
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) return undefined; // end of image, or scan data before any frame
    const length = u16be(b, at + 2);
    if (isStartOfFrame(marker))
      return at + 9 <= b.length ? { width: u16be(b, at + 7), height: u16be(b, at + 5) } : undefined;
    at += 2 + length;
  }
  return undefined;
}

/** SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC). */
function isStartOfFrame(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}

/** The first chunk after "RIFF....WEBP": lossy (VP8), lossless (VP8L) or extended (VP8X). */
function webpSize(b: Uint8Array): Dimensions | undefined {
  switch (b.length >= 16 && ascii(b, 12, 4)) {
    case 'VP8 ':
      // a key frame: 3-byte frame tag, start code 9d 01 2a, then 14-bit width and height
      if (b.length < 30 || b[23] !== 0x9d || b[24] !== 0x01 || b[25] !== 0x2a) return undefined;
      return { width: u16le(b, 26) & 0x3fff, height: u16le(b, 28) & 0x3fff };
    case 'VP8L': {
      // signature 0x2f, then width-1 and height-1 in 14 bits each, least significant first
      if (b.length < 25 || b[20] !== 0x2f) return undefined;
      const bits = b[21] | (b[22] << 8) | (b[23] << 16) | (b[24] << 24);
      return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
    }
    case 'VP8X':
      // canvas width-1 and height-1, 24 bits each, after 4 bytes of flags
      if (b.length < 30) return undefined;
      return { width: u24le(b, 24) + 1, height: u24le(b, 27) + 1 };
    default:
      return undefined;
  }
}

/** The logical screen: every frame of a GIF is drawn on it. */
function gifSize(b: Uint8Array): Dimensions | undefined {
  return b.length < 10 ? undefined : { width: u16le(b, 6), height: u16le(b, 8) };
}

function u32be(b: Uint8Array, at: number): number {
  return ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;
}

function u16be(b: Uint8Array, at: number): number {
  return (b[at] << 8) | b[at + 1];
}

function u16le(b: Uint8Array, at: number): number {
  return b[at] | (b[at + 1] << 8);
}

function u24le(b: Uint8Array, at: number): number {
  return b[at] | (b[at + 1] << 8) | (b[at + 2] << 16);
}

function ascii(b: Uint8Array, at: number, length: number): string {
  return String.fromCharCode(...b.subarray(at, at + length));
}
