// Work proportional to the canvas, not to the box (issue 16, item 7): a layer's picture is
// fitted, cropped and composited only for the part of its box the canvas shows, and that
// changes no pixel: the frame is the one the whole box would have made.
import assert from 'node:assert/strict';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { decodePicture, FORMATS, runFfmpeg, SourceStore } from '../src/media/index.ts';
import { normalizeMovie } from '../src/movie/index.ts';
import { DEFAULT_ENCODER } from '../src/render/encoder.ts';
import { placeSource } from '../src/render/fit.ts';
import { pictureFilter } from '../src/render/fitted-picture.ts';
import { planMovie, type ScenePlan } from '../src/render/plan.ts';
import { compileFrame } from '../src/render/scene-graph.ts';
import { rasterizeText } from '../src/render/text-raster.ts';
import { visibleRegion, wholeBox } from '../src/render/visible-region.ts';
import { decodeFrames, ffmpeg, media, render, tempDir } from './helpers.ts';

const canvas = { width: 320, height: 180 };

test('the visible region of a box: whole inside, cut at the edges of the canvas, none when off the canvas', () => {
  assert.deepEqual(
    visibleRegion({ x: 10, y: 20, width: 100, height: 50 }, canvas),
    wholeBox({ width: 100, height: 50 }),
  );
  assert.deepEqual(visibleRegion({ x: -5, y: -3, width: 16, height: 16 }, canvas), {
    x: 5,
    y: 3,
    width: 11,
    height: 13,
  });
  assert.deepEqual(visibleRegion({ x: 301, y: 171, width: 50, height: 50 }, canvas), {
    x: 0,
    y: 0,
    width: 19,
    height: 9,
  });
  // a 16 px box at -15 shows its last column
  assert.deepEqual(visibleRegion({ x: -15, y: 0, width: 16, height: 16 }, canvas), {
    x: 15,
    y: 0,
    width: 1,
    height: 16,
  });
  assert.equal(visibleRegion({ x: -16, y: 0, width: 16, height: 16 }, canvas), undefined);
  assert.equal(visibleRegion({ x: 320, y: 0, width: 10, height: 10 }, canvas), undefined);
  assert.equal(visibleRegion({ x: 0, y: -40, width: 10, height: 40 }, canvas), undefined);
  assert.equal(visibleRegion({ x: 0, y: 0, width: 0, height: 40 }, canvas), undefined);
  assert.deepEqual(visibleRegion({ x: -8000, y: -8000, width: 16384, height: 16384 }, canvas), {
    x: 8000,
    y: 8000,
    width: 320,
    height: 180,
  });
});

test('randomised: the region is exactly the box pixels that land on the canvas', () => {
  const side = fc.integer({ min: 0, max: 400 });
  const at = fc.integer({ min: -500, max: 500 });
  fc.assert(
    fc.property(at, at, side, side, side, side, (x, y, w, h, cw, ch) => {
      const region = visibleRegion({ x, y, width: w, height: h }, { width: cw, height: ch });
      // count, pixel by pixel, the columns and rows of the box inside the canvas
      const inside = (p: number, n: number, size: number) =>
        Array.from({ length: n }, (_, i) => i).filter((i) => p + i >= 0 && p + i < size);
      const [xs, ys] = [inside(x, w, cw), inside(y, h, ch)];
      if (xs.length === 0 || ys.length === 0) return region === undefined;
      return (
        region !== undefined &&
        region.x === xs[0] &&
        region.width === xs.length &&
        region.y === ys[0] &&
        region.height === ys.length
      );
    }),
  );
});

const dir = await tempDir();
// a picture and a video with detail everywhere, so a pixel out of place shows
const pattern = join(dir, 'pattern.png');
await ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=s=400x300,format=rgb24', '-frames:v', '1', pattern]);
const footage = await media.video(join(dir, 'footage.mp4'), 'pattern', 320, 240, 1, { silent: true });

const layer = (
  id: string,
  type: 'image' | 'video',
  source: string,
  x: number,
  y: number,
  width: number,
  height: number,
  fit = 'cover',
) => ({
  id,
  type,
  source,
  fit,
  position: { x, y },
  size: { width, height },
});

/** One frame of the plan as RGB pixels. */
async function frameOf(plan: ScenePlan, name: string): Promise<Buffer> {
  const png = join(dir, `${name}.png`);
  await runFfmpeg(compileFrame(plan, 5, { ...canvas, fps: 30 }, png), { limits: { seconds: 60 } });
  const frames = await decodeFrames(png, canvas.width, canvas.height);
  const pixels: number[] = [];
  for (let y = 0; y < canvas.height; y++) for (let x = 0; x < canvas.width; x++) pixels.push(...frames.pixel(0, x, y));
  return Buffer.from(pixels);
}

test('boxes past every edge of the canvas compose exactly the pixels their whole boxes would', async () => {
  const movie = normalizeMovie(
    {
      ...canvas,
      fps: 30,
      scenes: [
        {
          id: 's',
          duration: 1,
          layers: [
            layer('video', 'video', footage, -123, -77, 480, 360),
            layer('big', 'image', pattern, -301, -257, 900, 700),
            layer('corner', 'image', pattern, 251, 131, 202, 102, 'contain'),
            layer('left', 'image', pattern, -15, 40, 30, 31, 'fill'),
            layer('gone', 'image', pattern, 400, 0, 50, 50),
            {
              id: 'caption',
              type: 'text',
              text: 'Past the edges',
              fontSize: 64,
              backgroundColor: '#10204080',
              position: { x: -41, y: 147 },
              size: { width: 501, height: 81 },
            },
          ],
        },
      ],
    },
    { allowLocalFiles: true },
  );
  const workDir = await tempDir();
  const store = new SourceStore(join(workDir, 'sources'));
  const [cut] = (await planMovie(movie, { store, workDir, encoder: DEFAULT_ENCODER })).scenes;
  assert.deepEqual(
    [...cut.inputs.keys()].sort(),
    ['big', 'caption', 'corner', 'left', 'video'],
    'a box the canvas never shows is not composed',
  );
  // cover: 933x700 scaled, 17 columns cut off each side, then the canvas shows from box pixel (301, 257)
  assert.deepEqual(cut.inputs.get('big')?.placement.cut, { x: 318, y: 257, width: 320, height: 180 });
  assert.deepEqual(cut.inputs.get('caption')?.placement.cut, { x: 41, y: 0, width: 320, height: 33 });

  // the same scene with every box whole: pictures fitted to the whole box, nothing cut
  const whole: ScenePlan = { ...cut, inputs: new Map() };
  // (whole, the engine's own files hold more than a canvas)
  for (const [id, cutInput] of cut.inputs) {
    const input = { ...cutInput, pixels: undefined };
    const { layer } = input;
    const box = { width: layer.width, height: layer.height };
    if (layer.type === 'text') {
      const path = join(workDir, `whole-${id}.png`);
      await rasterizeText(layer, undefined, path);
      const placement = { scaled: box, cut: wholeBox(box), at: { x: layer.x, y: layer.y } };
      whole.inputs.set(id, { ...input, path, placement });
      continue;
    }
    // the whole fitted picture: placed on a canvas the box's size, then moved to the box
    const source = layer.type === 'image' ? { width: 400, height: 300 } : { width: 320, height: 240 };
    const fitted = placeSource(layer.fit, { ...box, x: 0, y: 0 }, source, box)!;
    const placement = { ...fitted, at: { x: layer.x + fitted.at.x, y: layer.y + fitted.at.y } };
    if (layer.type === 'video') {
      whole.inputs.set(id, { ...input, placement });
      continue;
    }
    const path = join(workDir, `whole-${id}.nut`);
    await decodePicture(pattern, FORMATS.png, pictureFilter(fitted), path);
    whole.inputs.set(id, { ...input, path, placement });
  }
  assert.ok((await frameOf(cut, 'cut')).equals(await frameOf(whole, 'whole')), 'the frames differ');
});

test('a 7000x7000 image box on a 320x180 canvas keeps its work files to the canvas', async () => {
  const out = await tempDir();
  const workRoot = await tempDir();
  let largest = 0;
  const watching = setInterval(async () => {
    for (const entry of await readdir(workRoot, { recursive: true }).catch(() => [])) {
      const size = await stat(join(workRoot, entry)).then(
        (s) => (s.isFile() ? s.size : 0),
        () => 0,
      );
      largest = Math.max(largest, size);
    }
  }, 20);
  try {
    const result = await render(
      {
        ...canvas,
        fps: 30,
        scenes: [{ id: 's', duration: 0.5, layers: [layer('huge', 'image', pattern, -3000, -3000, 7000, 7000)] }],
      },
      out,
      { workRoot },
    );
    assert.equal(result.mediaData.width, 320);
  } finally {
    clearInterval(watching);
  }
  // the fitted picture is the canvas's 320x180 in YUVA 4:4:4 (4 bytes a pixel), not the box's 196 MB
  assert.ok(largest > 0 && largest < 1_000_000, `the largest work file was ${largest} bytes`);
});
