// The geometry rule (issue 17): a layer's box covers the pixels from round(x) to
// round(x + width), the same for y; sources are fitted into it in real numbers and rounded
// once; anything outside the canvas is cut; a box that rounds to nothing draws nothing; no
// position or size is snapped to the chroma grid. Each case is one frame of a white layer on
// black, decoded, and its white pixels compared with a reference computed here.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { failureOf } from '../src/jobs/job-failure.ts';
import { decodePicture, FORMATS, PictureFitError, SourceRefusal } from '../src/media/index.ts';
import { normalizeMovie } from '../src/movie/index.ts';
import { LayerSourceError, renderFrame } from '../src/render/index.ts';
import { decodeFrames, ffmpeg, type Frames, media, render, tempDir } from './helpers.ts';

const dir = await tempDir();
const canvas = { width: 320, height: 240 };
// white on black: the layer's edges are in the luma, which 4:2:0 keeps at every pixel
const picture = await media.png(join(dir, 'white.png'), 'white', 64, 32);
const footage = await media.video(join(dir, 'white.mp4'), 'white', 64, 32, 1, { silent: true });

type Fit = 'fill' | 'contain' | 'cover';
interface Case {
  type: 'image' | 'video' | 'text';
  fit: Fit;
  x: number;
  y: number;
  width: number;
  height: number;
}

/** The white rectangle a case should draw, as [left, right) x [top, bottom) on the canvas, or undefined for none; `fitted` edges may be 1 px off. */
interface Expected {
  left: number;
  right: number;
  top: number;
  bottom: number;
  /** Which edges are the fitted picture's (not the box's or the canvas's). */
  fitted: { left: boolean; right: boolean; top: boolean; bottom: boolean };
}

/** The reference: the box's pixel edges, the fitted picture's real extent, both cut by the canvas. */
function expected(c: Case, source = { width: 64, height: 32 }): Expected | undefined {
  const axis = (position: number, size: number, sourceSize: number, scale: number, canvasSize: number) => {
    const [b0, b1] = [Math.round(position), Math.round(position + size)];
    // the fitted picture in real numbers, centred in the box (relative to the box's first pixel)
    const length = c.fit === 'fill' || c.type === 'text' ? b1 - b0 : sourceSize * scale;
    const start = b0 + (b1 - b0 - length) / 2;
    const [p0, p1] = [Math.round(start), Math.round(start + length)];
    const from = Math.max(b0, p0, 0);
    const to = Math.min(b1, p1, canvasSize);
    return {
      from,
      to,
      fittedFrom: from === p0 && p0 > b0 && p0 > 0,
      fittedTo: to === p1 && p1 < b1 && p1 < canvasSize,
    };
  };
  const bw = Math.round(c.x + c.width) - Math.round(c.x);
  const bh = Math.round(c.y + c.height) - Math.round(c.y);
  const ratios = [bw / source.width, bh / source.height];
  const scale = c.fit === 'contain' ? Math.min(...ratios) : Math.max(...ratios);
  const h = axis(c.x, c.width, source.width, scale, canvas.width);
  const v = axis(c.y, c.height, source.height, scale, canvas.height);
  if (h.to <= h.from || v.to <= v.from) return undefined;
  return {
    left: h.from,
    right: h.to,
    top: v.from,
    bottom: v.to,
    fitted: { left: h.fittedFrom, right: h.fittedTo, top: v.fittedFrom, bottom: v.fittedTo },
  };
}

function layerOf(c: Case, id: string) {
  const box = { position: { x: c.x, y: c.y }, size: { width: c.width, height: c.height } };
  if (c.type === 'text') return { id, type: 'text', text: ' ', color: '#ffffff', backgroundColor: '#ffffff', ...box };
  return { id, type: c.type, source: c.type === 'image' ? picture : footage, fit: c.fit, ...box };
}

/** A movie of one 1-frame scene per case. */
function movieOf(cases: Case[]) {
  return {
    ...canvas,
    fps: 10,
    scenes: cases.map((c, i) => ({ id: `s${i}`, duration: 0.1, bgColor: '#000000', layers: [layerOf(c, `l${i}`)] })),
  };
}

/** The white pixels of a frame: their bounding rectangle, and whether they fill it. */
function whiteOf(frames: Frames, frame: number) {
  let [left, right, top, bottom, count] = [Infinity, -Infinity, Infinity, -Infinity, 0];
  for (let y = 0; y < frames.height; y++)
    for (let x = 0; x < frames.width; x++) {
      const [r, g, b] = frames.pixel(frame, x, y);
      if (r + g + b < 3 * 128) continue;
      count++;
      [left, right, top, bottom] = [
        Math.min(left, x),
        Math.max(right, x + 1),
        Math.min(top, y),
        Math.max(bottom, y + 1),
      ];
    }
  return count === 0 ? undefined : { left, right, top, bottom, solid: count === (right - left) * (bottom - top) };
}

/** Why the white pixels are not the expected rectangle, or undefined when they are. */
function mismatch(white: ReturnType<typeof whiteOf>, want: Expected | undefined): string | undefined {
  if (!want || !white) return want === undefined && white === undefined ? undefined : `drew ${JSON.stringify(white)}`;
  if (!white.solid) return `not a solid rectangle: ${JSON.stringify(white)}`;
  for (const edge of ['left', 'right', 'top', 'bottom'] as const) {
    const off = Math.abs(white[edge] - want[edge]);
    if (off > (want.fitted[edge] ? 1 : 0)) return `${edge} edge at ${white[edge]}, expected ${want[edge]}`;
  }
  return undefined;
}

async function check(cases: Case[], what: string): Promise<Frames> {
  const result = await render(movieOf(cases), dir);
  const frames = await decodeFrames(result.path, canvas.width, canvas.height);
  assert.equal(frames.count, cases.length);
  const wrong = cases
    .map((c, i) => ({ c, why: mismatch(whiteOf(frames, i), expected(c)) }))
    .filter((w) => w.why !== undefined)
    .map((w) => `${JSON.stringify(w.c)}: ${w.why}`);
  assert.deepEqual(wrong, [], `${what}:\n${wrong.join('\n')}`);
  return frames;
}

const types = ['image', 'video', 'text'] as const;

test('every layer type lands where the Movie puts it: odd, negative and partly visible boxes', async () => {
  const placed = (x: number, y: number, width: number, height: number, fit: Fit = 'fill') =>
    types.map((type) => ({ type, fit, x, y, width, height }));
  const cases = [
    ...placed(101, 51, 64, 32),
    ...placed(-5, -3, 16, 16),
    // a 16 px box at -15 shows its last column
    ...placed(-15, 100, 16, 16),
    ...placed(311, 231, 20, 20),
    // fractional: from round(x) to round(x + width)
    ...placed(10.4, 20.6, 33.3, 17.5),
  ];
  await check(cases, 'placement');
  // the numbers the issue saw, spelled out
  const frames = await decodeFrames((await render(movieOf([cases[0]]), dir)).path, canvas.width, canvas.height);
  assert.deepEqual(whiteOf(frames, 0), { left: 101, right: 165, top: 51, bottom: 83, solid: true });
});

test('contain and cover are fitted in real numbers and rounded once, odd sides included', async () => {
  const fitted = (fit: Fit, x: number, y: number, width: number, height: number) =>
    (['image', 'video'] as const).map((type) => ({ type, fit, x, y, width, height }));
  const cases = [
    // 64x32 in 100x100: 100x50 from y = 25 (the box at 7 puts it at 32)
    ...fitted('contain', 10, 7, 100, 100),
    // boxes whose contained picture has an odd side (they failed to render)
    ...fitted('contain', 3, 5, 101, 75),
    ...fitted('contain', 3, 5, 99, 49),
    ...fitted('contain', 3, 5, 100, 49),
    // cover fills every pixel of an odd box
    ...fitted('cover', 11, 13, 75, 101),
    ...fitted('cover', -7, -9, 75, 101),
  ];
  const frames = await check(cases, 'fit');
  assert.deepEqual(whiteOf(frames, 0), { left: 10, right: 110, top: 32, bottom: 82, solid: true });
  assert.deepEqual(whiteOf(frames, 8), { left: 11, right: 86, top: 13, bottom: 114, solid: true });
});

test('a box that rounds to nothing draws nothing, of any layer type', async () => {
  const cases = types.flatMap((type) => [
    { type, fit: 'fill' as Fit, x: 10, y: 10, width: 0.3, height: 50 },
    { type, fit: 'fill' as Fit, x: 10, y: 10, width: 50, height: 0.49 },
    { type, fit: 'contain' as Fit, x: 10.6, y: 10, width: 0.3, height: 50 },
  ]);
  const frames = await check(cases, 'nothing');
  for (let i = 0; i < cases.length; i++) assert.equal(whiteOf(frames, i), undefined);
});

test('randomised: boxes at odd, negative and fractional positions, every fit, match the reference; `frame` shows what the video shows', async () => {
  const position = fc.oneof(fc.integer({ min: -80, max: 330 }), fc.double({ min: -80, max: 330, noNaN: true }));
  const size = fc.oneof(fc.integer({ min: 1, max: 200 }), fc.double({ min: 0.01, max: 200, noNaN: true }));
  const oneCase = fc.record({
    type: fc.constantFrom(...types),
    fit: fc.constantFrom<Fit>('fill', 'contain', 'cover'),
    x: position,
    y: position,
    width: size,
    height: size,
  });
  const cases = fc.sample(oneCase, { numRuns: 30, seed: 17 });
  const frames = await check(cases, 'random boxes');
  // the preview of a few of them, as `reelsmith frame` makes it: the same white pixels
  const movie = normalizeMovie(movieOf(cases), { allowLocalFiles: true, baseDir: dir });
  for (const i of [0, 7, 19, 29]) {
    const png = join(dir, `frame-${i}.png`);
    await renderFrame(movie, { at: (i + 0.5) / 10, output: png, sourceDir: join(dir, 'sources') });
    const preview = await decodeFrames(png, canvas.width, canvas.height);
    assert.deepEqual(whiteOf(preview, 0), whiteOf(frames, i), `frame ${i}: ${JSON.stringify(cases[i])}`);
  }
});

test('layers far larger than the canvas render, cut to what shows (boxes up to the schema limit, and a 7680x7680 canvas)', async () => {
  const huge = types.map((type) => ({ type, fit: 'fill' as Fit, x: -4000, y: -4000, width: 8020, height: 8020 }));
  const limit = types.map((type) => ({ type, fit: 'cover' as Fit, x: -16000, y: -100, width: 16384, height: 16384 }));
  await check([...huge, ...limit], 'huge boxes');
  const big = await render(
    {
      width: 7680,
      height: 7680,
      fps: 1,
      scenes: [{ id: 's', duration: 1, layers: [{ id: 't', type: 'text', text: 'Hi', backgroundColor: '#ffffff' }] }],
    },
    dir,
  );
  const frame = await decodeFrames(big.path, 7680, 7680);
  assert.deepEqual(frame.pixel(0, 7679, 7679), [255, 255, 255]);
});

test("a source's pixel aspect ratio is honoured: 240x180 at SAR 4:3 is 16:9 on screen", async () => {
  const wide = join(dir, 'sar.mp4');
  await ffmpeg([
    '-f',
    'lavfi',
    '-i',
    'color=c=white:s=240x180:r=10:d=1,setsar=4/3',
    '-c:v',
    'libx264',
    '-pix_fmt',
    'yuv420p',
    wide,
  ]);
  const result = await render(
    {
      ...canvas,
      fps: 10,
      scenes: [
        {
          id: 's',
          duration: 0.1,
          layers: [
            {
              id: 'v',
              type: 'video',
              source: wide,
              fit: 'contain',
              position: { x: 0, y: 0 },
              size: { width: 320, height: 240 },
            },
          ],
        },
      ],
    },
    dir,
  );
  const frames = await decodeFrames(result.path, canvas.width, canvas.height);
  // 320 wide on screen: 320x180, centred from y = 30 (read as 4:3 it was 320x240)
  assert.deepEqual(whiteOf(frames, 0), { left: 0, right: 320, top: 30, bottom: 210, solid: true });
});

test("a picture that was read but could not be fitted is the render's failure, never told as a damaged file", async () => {
  // colorspace refuses odd sizes: a fit that fails in the filters, not in the decoder
  const failing = 'scale=33:17,format=yuv444p,colorspace=all=bt709:iall=bt470bg:fast=1';
  const error = await decodePicture(picture, FORMATS.png, failing, join(dir, 'unfit.nut')).then(
    () => assert.fail('the fit should fail'),
    (err: Error) => err,
  );
  assert.ok(error instanceof PictureFitError, String(error));
  assert.match(error.message, /^could not be fitted into its box \(/);
  const failure = failureOf(new LayerSourceError(0, 1, 'logo', 'white.png', error.message, { cause: error }));
  assert.equal(failure.code, 'RENDER_FAILED');
  assert.doesNotMatch(failure.message, /cannot be decoded|damaged/);
  // a damaged file is still the file's
  const damaged = join(dir, 'damaged.png');
  const bytes = await readFile(picture);
  await writeFile(damaged, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
  await assert.rejects(
    decodePicture(damaged, FORMATS.png, 'format=rgba', join(dir, 'damaged.nut')),
    (err: Error) => err instanceof SourceRefusal && /cannot be decoded as PNG/.test(err.message),
  );
});
