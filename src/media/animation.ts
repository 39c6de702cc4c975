// Animated pictures, read from their own chunks: whether a PNG is an APNG and how long it
// plays (ffprobe tells no APNG's duration), and an animated WebP's frames, each as a still
// WebP (ffmpeg's webp decoder reads no animated WebP: "image data not found"). Pure.

/** Whether a PNG's head holds an acTL chunk before its first IDAT: an APNG. */
export function isAnimatedPng(head: Uint8Array): boolean {
  for (const chunk of pngChunks(head)) {
    if (chunk.type === 'acTL') return true;
    if (chunk.type === 'IDAT') return false;
  }
  return false;
}

/** An APNG's length in seconds: its frames' delays summed (fcTL delay_num / delay_den, a den of 0 meaning 100). */
export function apngDuration(file: Uint8Array): number | undefined {
  let seconds = 0;
  let frames = 0;
  for (const { type, data } of pngChunks(file)) {
    if (type !== 'fcTL' || data.length < 26) continue;
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const den = view.getUint16(22);
    seconds += view.getUint16(20) / (den === 0 ? 100 : den);
    frames++;
  }
  return frames > 0 ? seconds : undefined;
}

function* pngChunks(b: Uint8Array): Generator<{ type: string; data: Uint8Array }> {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  for (let at = 8; at + 8 <= b.length; ) {
    const length = view.getUint32(at);
    const type = String.fromCharCode(...b.subarray(at + 4, at + 8));
    if (at + 12 + length > b.length) return;
    yield { type, data: b.subarray(at + 8, at + 8 + length) };
    at += 12 + length;
  }
}

/** A RIFF chunk of a WebP: its FourCC, its payload, and the whole chunk (header and padding). */
interface RiffChunk {
  type: string;
  data: Uint8Array;
  whole: Uint8Array;
}

function* riffChunks(b: Uint8Array, from: number, to: number): Generator<RiffChunk> {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  for (let at = from; at + 8 <= to; ) {
    const size = view.getUint32(at + 4, true);
    const end = at + 8 + size + (size % 2);
    if (at + 8 + size > to) return;
    yield {
      type: String.fromCharCode(...b.subarray(at, at + 4)),
      data: b.subarray(at + 8, at + 8 + size),
      whole: b.subarray(at, Math.min(end, to)),
    };
    at = end;
  }
}

/** Whether a WebP is animated: a VP8X chunk with its animation flag. */
export function isAnimatedWebp(head: Uint8Array): boolean {
  const first = riffChunks(head, 12, head.length).next().value;
  return first?.type === 'VP8X' && (first.data[0] & 0x02) !== 0;
}

const u24 = (b: Uint8Array, at: number) => b[at] | (b[at + 1] << 8) | (b[at + 2] << 16);

/** One frame of an animated WebP (an ANMF chunk): where it sits on the canvas, how long it shows and how it is put there. */
export interface WebpFrame {
  /** The frame's bitstream (with its ALPH chunk) as a still WebP file ffmpeg's webp decoder reads. */
  still: Uint8Array;
  x: number;
  y: number;
  width: number;
  height: number;
  /** Milliseconds, as written. */
  duration: number;
  /** Alpha-blended over the canvas (else it replaces its rectangle). */
  blend: boolean;
  /** Its rectangle is cleared to transparent before the next frame. */
  dispose: boolean;
}

/** An ANMF chunk's payload as a frame; undefined when it holds no image. */
function anmfFrame(d: Uint8Array): WebpFrame | undefined {
  if (d.length < 16) return undefined;
  const [x, y, width, height] = [2 * u24(d, 0), 2 * u24(d, 3), u24(d, 6) + 1, u24(d, 9) + 1];
  const parts = [...riffChunks(d, 16, d.length)];
  const alpha = parts.find((p) => p.type === 'ALPH');
  const image = parts.find((p) => p.type === 'VP8 ' || p.type === 'VP8L');
  if (!image) return undefined;
  // lossy with alpha needs a VP8X header saying so; lossless carries its alpha itself
  const header = alpha && image.type === 'VP8 ' ? [vp8x(width, height), alpha.whole] : [];
  const flags = d[15];
  return {
    still: riff([...header, image.whole]),
    x,
    y,
    width,
    height,
    duration: u24(d, 12),
    blend: (flags & 0x02) === 0,
    dispose: (flags & 0x01) !== 0,
  };
}

/** An animated WebP's first frame as a still WebP file, and where it sits on the animation's canvas; undefined when it has no frame. */
export function firstWebpFrame(file: Uint8Array): WebpFrame | undefined {
  for (const chunk of riffChunks(file, 12, file.length)) if (chunk.type === 'ANMF') return anmfFrame(chunk.data);
  return undefined;
}

/**
 * Every frame of an animated WebP and its canvas (VP8X), or why they cannot be read: a
 * frame without an image, or one that passes the canvas's edge (the container's rule).
 */
export function webpFrames(
  file: Uint8Array,
): { width: number; height: number; frames: WebpFrame[] } | { problem: string } {
  const chunks = [...riffChunks(file, 12, file.length)];
  const header = chunks[0]?.type === 'VP8X' && chunks[0].data.length >= 10 ? chunks[0].data : undefined;
  if (!header) return { problem: 'has no VP8X header' };
  const [width, height] = [u24(header, 4) + 1, u24(header, 7) + 1];
  const frames: WebpFrame[] = [];
  for (const chunk of chunks) {
    if (chunk.type !== 'ANMF') continue;
    const frame = anmfFrame(chunk.data);
    const n = frames.length + 1;
    if (!frame) return { problem: `has a frame (${n}) without an image` };
    if (frame.x + frame.width > width || frame.y + frame.height > height)
      return { problem: `has a frame (${n}) that passes the edge of its ${width}x${height} canvas` };
    frames.push(frame);
  }
  return frames.length > 0 ? { width, height, frames } : { problem: 'has no frame' };
}

/**
 * How long a frame of `ms` shows in browsers: a frame of 10 ms or less shows for 100 ms
 * (Chromium's and Firefox's rule for every animated picture, against ads that flash).
 */
export function shownMilliseconds(ms: number): number {
  return ms <= 10 ? 100 : ms;
}

/** A VP8X chunk with the alpha flag and a canvas of `width` x `height`. */
function vp8x(width: number, height: number): Uint8Array {
  const chunk = new Uint8Array(18);
  chunk.set([0x56, 0x50, 0x38, 0x58, 10, 0, 0, 0, 0x10]);
  const put24 = (at: number, v: number) => chunk.set([v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff], at);
  put24(12, width - 1);
  put24(15, height - 1);
  return chunk;
}

function riff(chunks: Uint8Array[]): Uint8Array {
  const size = 4 + chunks.reduce((sum, c) => sum + c.length, 0);
  const out = new Uint8Array(8 + size);
  out.set([0x52, 0x49, 0x46, 0x46, size & 0xff, (size >> 8) & 0xff, (size >> 16) & 0xff, size >>> 24]);
  out.set([0x57, 0x45, 0x42, 0x50], 8);
  let at = 12;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
