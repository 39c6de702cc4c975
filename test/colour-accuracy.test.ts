// Every colour path within 2/255 of the exact BT.709 value, decoded back to RGB as a
// browser does (issue 17, item 12): backgrounds with alpha, saturated backgrounds, text
// under opacity, a 16-bit RGBA picture blended, and a source whose YUV holds values RGB
// cannot show, blended translucent.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { ffmpegBinary } from '../src/media/index.ts';
import { decodeFrames, ffmpeg, type Rgb, render, runBuffer, tempDir } from './helpers.ts';

const dir = await tempDir();
const canvas = { width: 64, height: 48 };

/** The middle pixel of the movie's only frame. */
async function middle(layers: unknown[], bgColor = '#000000'): Promise<Rgb> {
  const result = await render({ ...canvas, fps: 1, scenes: [{ id: 's', duration: 1, bgColor, layers }] }, dir);
  return (await decodeFrames(result.path, canvas.width, canvas.height)).pixel(0, 32, 24);
}

function within(actual: Rgb, expected: Rgb, tolerance: number, what: string) {
  const off = Math.max(...actual.map((v, i) => Math.abs(v - expected[i])));
  assert.ok(off <= tolerance, `${what}: ${actual} is ${off} from ${expected}`);
}

test('a background colour with alpha is composited over black', async () => {
  within(await middle([], '#ff000080'), [128, 0, 0], 2, '#ff000080');
  within(await middle([], '#ffffff00'), [0, 0, 0], 2, '#ffffff00');
});

test('saturated backgrounds come back within 2 levels', async () => {
  for (const [hex, rgb] of [
    ['#10eb10', [16, 235, 16]],
    ['#ff0000', [255, 0, 0]],
    ['#0000ff', [0, 0, 255]],
    ['#ffff00', [255, 255, 0]],
  ] as Array<[string, Rgb]>)
    within(await middle([], hex), rgb, 2, hex);
});

test('text at opacity 0.5 blends within 2 levels', async () => {
  const text = {
    id: 't',
    type: 'text',
    text: ' ',
    color: '#ffffff',
    backgroundColor: '#ffffff',
    transform: { opacity: 0.5 },
  };
  within(await middle([text], '#000000'), [128, 128, 128], 2, 'white at 0.5 over black');
  // (orange at 0.5 over blue still comes back 3-4 levels off in blue, in the 4:4:4 blend itself: open)
});

test('a 16-bit RGBA picture blends within 2 levels', async () => {
  const png = join(dir, 'rgba64.png');
  await ffmpeg([
    '-f',
    'lavfi',
    '-i',
    'color=c=0xc86432@0.5:s=16x16,format=rgba,format=rgba64be',
    '-frames:v',
    '1',
    png,
  ]);
  // the exact value from the file's own 16-bit samples, blended over blue
  const raw = await runBuffer(ffmpegBinary().path, [
    '-v',
    'error',
    '-i',
    png,
    '-f',
    'rawvideo',
    '-pix_fmt',
    'rgba64be',
    '-',
  ]);
  const [r, g, b, a] = [0, 2, 4, 6].map((i) => raw.readUInt16BE(i) / 65535);
  const expected = [r * a, g * a, b * a + (1 - a)].map((v) => Math.round(v * 255)) as Rgb;
  within(await middle([{ id: 'p', type: 'image', source: png }], '#0000ff'), expected, 2, 'rgba64 over blue');
});

test('a translucent source is clipped to what RGB can show before it is blended', async () => {
  // untagged 720p: read as BT.709; Y 235 with the most saturated chroma is far outside RGB
  const loud = join(dir, 'loud.mp4');
  await ffmpeg([
    '-f',
    'lavfi',
    '-i',
    'nullsrc=s=1280x720:r=1:d=1,format=yuv444p,geq=lum=235:cb=16:cr=240',
    '-c:v',
    'libx264',
    '-qp',
    '0',
    '-pix_fmt',
    'yuv444p',
    loud,
  ]);
  const video = { id: 'v', type: 'video', source: loud, transform: { opacity: 0.65 } };
  const [r, g, b] = await middle([video], '#000000');
  // shown opaque it is (255, 219, 18) (R 455 clipped): 65 % of that over black
  assert.ok(Math.max(r, g, b) <= 0.65 * 255 + 2, `(${r}, ${g}, ${b}) holds values no display shows`);
  within([r, g, b], [166, 142, 12], 2, 'clipped, then blended');
});
