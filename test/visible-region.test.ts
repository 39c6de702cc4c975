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
import { pictureFilter } from '../src/render/fitted-picture.ts';
import { planMovie, type ScenePlan } from '../src/render/plan.ts';
import { compileFrame } from '../src/render/scene-graph.ts';
import { rasterizeText } from '../src/render/text-raster.ts';
import { visibleRegion, wholeBox } from '../src/render/visible-region.ts';
import { decodeFrames, ffmpeg, media, render, tempDir } from './helpers.ts';

const canvas = { width: 320, height: 180 };

test('the visible region of a box: whole inside, cut 8 px past each edge of the canvas from its even placement, none when off the canvas', () => {
  assert.deepEqual(
    visibleRegion({ x: 10, y: 20, width: 100, height: 50 }, canvas),
    wholeBox({ width: 100, height: 50 }),
  );
  // placed at (-6, -4) as the overlay rounds down to even: the canvas starts at box pixel (6, 4), the region 8 before
  assert.deepEqual(visibleRegion({ x: -5, y: -3, width: 16, height: 16 }, canvas), wholeBox({ width: 16, height: 16 }));
  assert.deepEqual(visibleRegion({ x: -25, y: -13, width: 64, height: 64 }, canvas), {
    x: 18,
    y: 6,
    width: 46,
    height: 58,
  });
  assert.deepEqual(visibleRegion({ x: 301, y: 171, width: 50, height: 50 }, canvas), {
    x: 0,
    y: 0,
    width: 28,
    height: 18,
  });
  // placed at -16, a 16 px box ends where the canvas starts
  assert.equal(visibleRegion({ x: -15, y: 0, width: 16, height: 16 }, canvas), undefined);
  assert.equal(visibleRegion({ x: 320, y: 0, width: 10, height: 10 }, canvas), undefined);
  assert.equal(visibleRegion({ x: 0, y: -40, width: 10, height: 40 }, canvas), undefined);
  assert.deepEqual(visibleRegion({ x: -8000, y: -8000, width: 16384, height: 16384 }, canvas), {
    x: 7992,
    y: 7992,
    width: 336,
    height: 196,
  });
});

test('randomised: the region is inside the box, starts on an even pixel, holds every canvas pixel the placed box covers and at most 8 more on each side', () => {
  const side = fc.integer({ min: 1, max: 400 });
  const at = fc.integer({ min: -500, max: 500 });
  fc.assert(
    fc.property(
      at,
      at,
      side,
      side,
      fc.integer({ min: 1, max: 200 }),
      fc.integer({ min: 1, max: 200 }),
      (x, y, w, h, cw, ch) => {
        const size = { width: cw * 2, height: ch * 2 };
        const region = visibleRegion({ x, y, width: w, height: h }, size);
        const placed = (p: number) => Math.floor(p / 2) * 2;
        // the box pixels [first, last) the canvas shows, on one axis
        const shown = (p: number, n: number, s: number) => [Math.max(0, -placed(p)), Math.min(n, s - placed(p))];
        const [x0, x1] = shown(x, w, size.width);
        const [y0, y1] = shown(y, h, size.height);
        if (!region) return x1 <= x0 || y1 <= y0;
        const holds = (start: number, length: number, first: number, last: number, n: number) =>
          start % 2 === 0 &&
          start <= first &&
          start >= Math.max(0, first - 8) &&
          start + length >= last &&
          start + length <= Math.min(n, last + 8);
        return holds(region.x, region.width, x0, x1, w) && holds(region.y, region.height, y0, y1, h);
      },
    ),
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
            // an even box: an odd one is converted to 4:2:0 at a chroma ratio that is not 2:1, so its cut
            // differs from the whole by a level of chroma (odd sizes are issue 17's)
            {
              id: 'caption',
              type: 'text',
              text: 'Past the edges',
              fontSize: 64,
              backgroundColor: '#10204080',
              position: { x: -41, y: 147 },
              size: { width: 500, height: 80 },
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
  assert.deepEqual(cut.inputs.get('big')?.region, { x: 294, y: 250, width: 336, height: 196 });
  assert.deepEqual(cut.inputs.get('caption')?.region, { x: 34, y: 0, width: 336, height: 42 });

  // the same scene with every box whole: pictures fitted to the whole box, nothing cropped
  const whole: ScenePlan = { ...cut, inputs: new Map() };
  for (const [id, input] of cut.inputs) {
    const box = wholeBox(input.layer);
    if (input.layer.type === 'text') {
      const path = join(workDir, `whole-${id}.png`);
      await rasterizeText(input.layer, undefined, path);
      whole.inputs.set(id, { ...input, path, region: box });
      continue;
    }
    if (input.layer.type !== 'image') {
      whole.inputs.set(id, { ...input, region: box });
      continue;
    }
    const path = join(workDir, `whole-${id}.nut`);
    await decodePicture(pattern, FORMATS.png, pictureFilter(input.layer, box), path);
    whole.inputs.set(id, { ...input, path, region: box });
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
  // the fitted picture is the canvas's 320x180 in YUVA 4:2:0 (2.5 bytes a pixel), not the box's 122 MB
  assert.ok(largest > 0 && largest < 1_000_000, `the largest work file was ${largest} bytes`);
});
