// The pure parts of playing an animated WebP as video: its frames read from the RIFF
// container (animation.ts), the APNG they are written into (apng-writer.ts, decoded back
// by ffmpeg here), and the work budget it is counted at (animated-webp.ts).
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { deflateSync } from 'node:zlib';
import { shownMilliseconds, webpFrames } from '../src/media/animation.ts';
import { APNG_END, apngDelay, apngFrame, apngHead, crc32, scanlines, tableCrc32 } from '../src/media/apng-writer.ts';
import { FORMATS } from '../src/media/index.ts';
import { apngBytes, WebpVideos } from '../src/render/animated-webp.ts';
import { WorkBudget } from '../src/render/work-budget.ts';
import { animatedWebp, decodeFrames, tempDir, videoTimestamps } from './helpers.ts';

/** A still WebP's RIFF holding the given chunks (their payloads are not decoded here). */
function still(chunks: Array<[string, number[]]>): Buffer {
  const parts = chunks.map(([type, data]) => {
    const head = Buffer.alloc(8);
    head.write(type, 0, 'latin1');
    head.writeUInt32LE(data.length, 4);
    return Buffer.concat([head, Buffer.from(data), Buffer.alloc(data.length % 2)]);
  });
  const body = Buffer.concat([Buffer.from('WEBP'), ...parts]);
  const riff = Buffer.alloc(8);
  riff.write('RIFF', 0, 'latin1');
  riff.writeUInt32LE(body.length, 4);
  return Buffer.concat([riff, body]);
}

const lossless = still([['VP8L', [1, 2, 3]]]);
const lossyWithAlpha = still([
  ['VP8X', [0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0]],
  ['ALPH', [9, 9]],
  ['VP8 ', [4, 5, 6, 7]],
]);

const types = (file: Uint8Array) => {
  const b = Buffer.from(file);
  const found: string[] = [];
  for (let at = 12; at + 8 <= b.length; at += 8 + b.readUInt32LE(at + 4) + (b.readUInt32LE(at + 4) % 2))
    found.push(b.toString('latin1', at, at + 4));
  return found;
};

describe('animated WebP frames', () => {
  test('each ANMF frame: its rectangle, duration, blending, disposal, and a still WebP of its bitstream', () => {
    const file = animatedWebp({ width: 100, height: 60 }, [
      { still: lossless, x: 0, y: 0, width: 100, height: 60, duration: 250, blend: false },
      { still: lossyWithAlpha, x: 10, y: 20, width: 31, height: 7, duration: 5, dispose: true },
    ]);
    const read = webpFrames(file);
    assert.ok(!('problem' in read));
    assert.equal(read.width, 100);
    assert.equal(read.height, 60);
    const [a, b] = read.frames;
    assert.deepEqual(
      { x: a.x, y: a.y, width: a.width, height: a.height, duration: a.duration, blend: a.blend, dispose: a.dispose },
      { x: 0, y: 0, width: 100, height: 60, duration: 250, blend: false, dispose: false },
    );
    assert.deepEqual(
      { x: b.x, y: b.y, width: b.width, height: b.height, duration: b.duration, blend: b.blend, dispose: b.dispose },
      { x: 10, y: 20, width: 31, height: 7, duration: 5, blend: true, dispose: true },
    );
    assert.deepEqual(types(a.still), ['VP8L']);
    // lossy with alpha: a VP8X saying so, of the frame's size, before its ALPH
    assert.deepEqual(types(b.still), ['VP8X', 'ALPH', 'VP8 ']);
    const vp8x = Buffer.from(b.still).subarray(20, 30);
    assert.equal(vp8x[0] & 0x10, 0x10);
    assert.equal(vp8x.readUIntLE(4, 3) + 1, 31);
    assert.equal(vp8x.readUIntLE(7, 3) + 1, 7);
  });

  test('a frame past the canvas, a frame without an image, or no frame is a problem', () => {
    const past = animatedWebp({ width: 40, height: 40 }, [
      { still: lossless, x: 20, y: 0, width: 21, height: 10, duration: 100 },
    ]);
    assert.deepEqual(webpFrames(past), { problem: 'has a frame (1) that passes the edge of its 40x40 canvas' });
    const empty = animatedWebp({ width: 40, height: 40 }, [
      { still: lossless, x: 0, y: 0, width: 4, height: 4, duration: 100 },
      { still: still([['EXIF', [1]]]), x: 0, y: 0, width: 4, height: 4, duration: 100 },
    ]);
    assert.deepEqual(webpFrames(empty), { problem: 'has a frame (2) without an image' });
    assert.deepEqual(webpFrames(animatedWebp({ width: 4, height: 4 }, [])), { problem: 'has no frame' });
    assert.deepEqual(webpFrames(lossless), { problem: 'has no VP8X header' });
  });

  test('a frame of 10 ms or less shows for 100 ms, as in browsers', () => {
    assert.deepEqual([0, 1, 10, 11, 40, 5000].map(shownMilliseconds), [100, 100, 100, 11, 40, 5000]);
  });

  test('the budget counts the first frame at the canvas and the others at their rectangles, raw, with their stills', () => {
    const frames = webpFrames(
      animatedWebp({ width: 100, height: 60 }, [
        { still: lossless, x: 10, y: 10, width: 10, height: 10, duration: 100 },
        { still: lossless, x: 0, y: 0, width: 20, height: 30, duration: 100 },
      ]),
    );
    assert.ok(!('problem' in frames));
    const raw = 60 * (100 * 4 + 1) + 30 * (20 * 4 + 1);
    const bytes = apngBytes(frames, frames.frames);
    assert.ok(bytes >= raw + 2 * lossless.length && bytes < raw * 1.01 + 8192, `${bytes}`);
  });
});

describe('animated WebP as video, bounded', () => {
  test('its APNG is counted against the work budget before anything is decoded, naming the layer', async () => {
    const dir = await tempDir();
    const path = join(dir, 'big.webp');
    const frames = Array.from({ length: 3 }, () => ({
      still: lossless,
      x: 0,
      y: 0,
      width: 100,
      height: 100,
      duration: 100,
    }));
    await writeFile(path, animatedWebp({ width: 100, height: 100 }, frames));
    const media = { format: FORMATS.webp, streams: 1, animatedWebp: true, source: 'big.webp', path, digest: 'd' };
    const videos = new WebpVideos(dir, 1, new WorkBudget(100_000));
    await assert.rejects(videos.asVideo(media, 'layer "sticker" (movie.scenes[0].layers[0])'), {
      name: 'WorkBudgetError',
      message: /^layer "sticker" \(movie\.scenes\[0\]\.layers\[0\]\): the job's work files would pass/,
    });
  });
});

describe('APNG writer', () => {
  test('delays: milliseconds exactly up to 65.5 s, then hundredths, then seconds', () => {
    assert.deepEqual(apngDelay(1), [1, 1000]);
    assert.deepEqual(apngDelay(65535), [65535, 1000]);
    assert.deepEqual(apngDelay(70_004), [7000, 100]);
    assert.deepEqual(apngDelay(1_000_400), [1000, 1]);
    assert.deepEqual(apngDelay(1e9), [65535, 1]);
  });

  test('CRC-32 as PNG has it, natively and by table', () => {
    const iend = new TextEncoder().encode('IEND');
    assert.equal(crc32(iend), 0xae426082);
    assert.equal(tableCrc32(iend), 0xae426082);
    const bytes = Uint8Array.from({ length: 5000 }, (_, i) => (i * 7919) & 0xff);
    assert.equal(tableCrc32(bytes), crc32(bytes));
  });

  test('scanlines: each row of the rectangle after a filter byte 0, read `stride` bytes apart', () => {
    const pixels = Uint8Array.from({ length: 3 * 2 * 4 }, (_, i) => i + 1); // 3 wide, 2 rows
    assert.deepEqual([...scanlines(pixels, 12, 2, 2)], [0, 1, 2, 3, 4, 5, 6, 7, 8, 0, 13, 14, 15, 16, 17, 18, 19, 20]);
  });

  test('frames decode in ffmpeg with their offsets, blending, disposal and delays', async () => {
    // 4x2 canvas: frame 0 all red (250 ms); frame 1 a 2x1 half-transparent green over the
    // top right, blended, then cleared (100 ms); frame 2 a 1x1 blue at (0,1), replacing (650 ms)
    const rgba = (w: number, h: number, px: number[]) =>
      deflateSync(
        scanlines(
          Uint8Array.from({ length: w * h * 4 }, (_, i) => px[i % 4]),
          w * 4,
          w,
          h,
        ),
      );
    const file = Buffer.concat([
      apngHead(4, 2, 3),
      apngFrame(
        0,
        { x: 0, y: 0, width: 4, height: 2, delay: [250, 1000], blend: false, dispose: false },
        rgba(4, 2, [255, 0, 0, 255]),
      ),
      apngFrame(
        1,
        { x: 2, y: 0, width: 2, height: 1, delay: [100, 1000], blend: true, dispose: true },
        rgba(2, 1, [0, 255, 0, 128]),
      ),
      apngFrame(
        2,
        { x: 0, y: 1, width: 1, height: 1, delay: [650, 1000], blend: false, dispose: false },
        rgba(1, 1, [0, 0, 255, 255]),
      ),
      APNG_END,
    ]);
    const dir = await tempDir();
    const path = join(dir, 'three.png');
    await writeFile(path, file);
    const { timeBase, pts } = await videoTimestamps(path);
    assert.deepEqual(
      pts.map((t) => (t * timeBase[0]) / timeBase[1]),
      [0, 0.25, 0.35],
    );
    const frames = await decodeFrames(path, 4, 2, [0, 1, 2]);
    assert.equal(frames.count, 3);
    // frame 1: the green blended half over red at the top right; frame 2: that rectangle
    // cleared (transparent black, as RGB), blue replacing (0,1), red elsewhere
    assert.deepEqual(frames.pixel(0, 3, 0), [255, 0, 0]);
    const blended = frames.pixel(1, 3, 0);
    assert.ok(Math.abs(blended[0] - 127) <= 2 && Math.abs(blended[1] - 128) <= 2, `${blended}`);
    assert.deepEqual(frames.pixel(1, 0, 0), [255, 0, 0]);
    assert.deepEqual(frames.pixel(2, 3, 0), [0, 0, 0]);
    assert.deepEqual(frames.pixel(2, 0, 1), [0, 0, 255]);
    assert.deepEqual(frames.pixel(2, 1, 1), [255, 0, 0]);
  });
});
