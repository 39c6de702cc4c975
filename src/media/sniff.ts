// Which file formats Reelsmith reads, told from a file's first bytes. Each format names
// the ffmpeg demuxer that reads it, so ffmpeg never guesses one from the content: no
// playlist or manifest demuxer (HLS, DASH, concat, image2 patterns, ...) can be chosen.
// Everything else is refused, with what it looks like, for the error message.

export interface MediaFormat {
  /** As users know it, for messages. */
  label: string;
  /** The ffmpeg demuxer named with `-f` (present in the npm 2018 build and Debian's 5.1 alike). */
  demuxer: string;
  /** A still picture, or audio/video. */
  kind: 'image' | 'media';
  /** For a picture format that may be animated: the demuxer that reads it as a video (GIF, APNG). */
  animation?: string;
  matches: (head: Uint8Array) => boolean;
}

/** The allow-list: the one home of "format -> magic bytes -> demuxer -> image or media". */
export const FORMATS = {
  png: {
    label: 'PNG',
    demuxer: 'png_pipe',
    kind: 'image',
    animation: 'apng',
    matches: (b) => bytesAt(b, 0, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  },
  jpeg: { label: 'JPEG', demuxer: 'jpeg_pipe', kind: 'image', matches: (b) => bytesAt(b, 0, [0xff, 0xd8, 0xff]) },
  webp: {
    label: 'WebP',
    demuxer: 'webp_pipe',
    kind: 'image',
    matches: (b) => textAt(b, 0, 'RIFF') && textAt(b, 8, 'WEBP'),
  },
  gif: {
    label: 'GIF',
    demuxer: 'gif',
    kind: 'image',
    animation: 'gif',
    matches: (b) => textAt(b, 0, 'GIF87a') || textAt(b, 0, 'GIF89a'),
  },
  mp4: {
    label: 'MP4/MOV',
    demuxer: 'mov',
    kind: 'media',
    matches: (b) => ISO_FIRST_BOXES.some((box) => textAt(b, 4, box)),
  },
  matroska: {
    label: 'WebM/Matroska',
    demuxer: 'matroska',
    kind: 'media',
    matches: (b) => bytesAt(b, 0, [0x1a, 0x45, 0xdf, 0xa3]),
  },
  mpegts: { label: 'MPEG-TS', demuxer: 'mpegts', kind: 'media', matches: isTransportStream },
  wav: { label: 'WAV', demuxer: 'wav', kind: 'media', matches: (b) => textAt(b, 0, 'RIFF') && textAt(b, 8, 'WAVE') },
  flac: { label: 'FLAC', demuxer: 'flac', kind: 'media', matches: (b) => textAt(afterId3(b), 0, 'fLaC') },
  ogg: { label: 'Ogg', demuxer: 'ogg', kind: 'media', matches: (b) => textAt(b, 0, 'OggS') },
  aac: { label: 'AAC/ADTS', demuxer: 'aac', kind: 'media', matches: (b) => isAdtsHeader(afterId3(b)) },
  mp3: { label: 'MP3', demuxer: 'mp3', kind: 'media', matches: isMp3 },
} as const satisfies Record<string, MediaFormat>;

/** The allowed formats by label, for "not a file Reelsmith reads (PNG, JPEG, ...)". */
export const FORMAT_LABELS = Object.values(FORMATS)
  .map((f) => f.label)
  .join(', ');

/** How many leading bytes sniffing and image headers need (a JPEG's size may follow its EXIF). */
export const HEAD_BYTES = 1024 * 1024;

export type Sniffed = { format: MediaFormat } | { looksLike: string };

export function sniff(head: Uint8Array): Sniffed {
  const format = Object.values(FORMATS).find((f) => f.matches(head));
  return format ? { format } : { looksLike: lookalike(head) };
}

/** First boxes of an ISO BMFF (ftyp) or older QuickTime file. */
const ISO_FIRST_BOXES = ['ftyp', 'moov', 'mdat', 'wide', 'free', 'skip'];

/** 0x47 at the start of every 188-byte packet the head holds (at least two, at most eight). */
function isTransportStream(b: Uint8Array): boolean {
  const packets = Math.min(8, Math.floor(b.length / 188));
  if (packets < 2) return false;
  for (let i = 0; i < packets; i++) if (b[i * 188] !== 0x47) return false;
  return true;
}

/** An MPEG audio frame header: 11 sync bits, a layer, a valid bitrate and sample rate. */
function isMpegAudioFrame(b: Uint8Array): boolean {
  if (b.length < 4 || b[0] !== 0xff || (b[1] & 0xe0) !== 0xe0) return false;
  const version = (b[1] >> 3) & 3;
  const layer = (b[1] >> 1) & 3;
  const bitrate = b[2] >> 4;
  const rate = (b[2] >> 2) & 3;
  return version !== 1 && layer !== 0 && bitrate !== 15 && rate !== 3;
}

/** An ADTS (AAC) header: 12 sync bits and layer 0. */
function isAdtsHeader(b: Uint8Array): boolean {
  return b.length >= 7 && b[0] === 0xff && (b[1] & 0xf6) === 0xf0;
}

/** MP3: an ID3v2 tag followed by a frame (or by more than the head holds), or a bare frame. */
function isMp3(b: Uint8Array): boolean {
  const rest = afterId3(b);
  if (rest !== b && rest.length === 0) return true;
  return isMpegAudioFrame(rest);
}

/** The bytes after a leading ID3v2 tag (size: four 7-bit bytes, plus a footer when flagged). */
function afterId3(b: Uint8Array): Uint8Array {
  if (!textAt(b, 0, 'ID3') || b.length < 10) return b;
  const size = ((b[6] & 0x7f) << 21) | ((b[7] & 0x7f) << 14) | ((b[8] & 0x7f) << 7) | (b[9] & 0x7f);
  const footer = b[5] & 0x10 ? 10 : 0;
  return b.subarray(Math.min(b.length, 10 + size + footer));
}

/** What a refused file seems to be, worded to follow "is". */
function lookalike(b: Uint8Array): string {
  if (b.length === 0) return 'empty';
  const text = leadingText(b);
  if (text !== undefined) {
    const start = text.trimStart().toLowerCase();
    if (start.startsWith('#extm3u')) return 'an HLS playlist';
    if (/<mpd[\s>]/.test(start)) return 'a DASH manifest';
    if (start.startsWith('ffconcat version')) return 'an ffconcat list';
    if (start.startsWith('<!doctype html') || start.startsWith('<html')) return 'HTML';
    if (/<svg[\s>]/.test(start)) return 'an SVG image';
    if (start.startsWith('<?xml') || start.startsWith('<')) return 'XML';
    return 'text';
  }
  if (textAt(b, 0, '%PDF')) return 'a PDF document';
  if (textAt(b, 0, 'BM')) return 'a BMP image';
  if (textAt(b, 0, 'II*\0') || textAt(b, 0, 'MM\0*')) return 'a TIFF image';
  if (textAt(b, 0, 'RIFF') && textAt(b, 8, 'AVI ')) return 'an AVI file';
  return 'binary data of an unknown kind';
}

/** The first 4 KiB as text, when they are UTF-8 without control characters other than whitespace. */
function leadingText(b: Uint8Array): string | undefined {
  const sample = b.subarray(0, 4096);
  let text: string;
  try {
    // a multi-byte character cut at the sample's end is not a reason to call it binary
    text = new TextDecoder('utf-8', { fatal: true }).decode(sample.subarray(0, utf8Boundary(sample)));
  } catch {
    return undefined;
  }
  text = text.replace(/^\uFEFF/, '');
  return /[\u0000-\u0008\u000B\u000E-\u001F\u007F]/.test(text) ? undefined : text;
}

/** The length of `b` without a trailing incomplete UTF-8 sequence. */
function utf8Boundary(b: Uint8Array): number {
  for (let i = b.length - 1, back = 0; i >= 0 && back < 4; i--, back++) {
    const byte = b[i];
    if ((byte & 0xc0) === 0x80) continue; // continuation byte
    const needs = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return needs > back + 1 ? i : b.length;
  }
  return b.length;
}

function bytesAt(b: Uint8Array, at: number, expected: number[]): boolean {
  return b.length >= at + expected.length && expected.every((v, i) => b[at + i] === v);
}

function textAt(b: Uint8Array, at: number, expected: string): boolean {
  return bytesAt(
    b,
    at,
    [...expected].map((c) => c.charCodeAt(0)),
  );
}
