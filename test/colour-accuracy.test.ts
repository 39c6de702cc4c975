// Every colour path within 2/255 of the exact BT.709 value, decoded back to RGB as a
// browser does (issue 17, item 12): backgrounds with alpha, saturated backgrounds, text,
// RGBA pictures and videos under opacity over any colour (a moving one too), a 16-bit RGBA
// picture blended, and a source whose YUV holds values RGB cannot show, blended translucent.
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

/**
 * The middle pixel of each frame of a BT.709 limited-range 4:2:0 file, converted to RGB in
 * real numbers and rounded once, as a browser's shader does (swscale's own 4:2:0 to RGB
 * shortcut is up to a level low).
 */
async function middles(path: string): Promise<Rgb[]> {
  const raw = await runBuffer(ffmpegBinary().path, [
    '-v',
    'error',
    '-i',
    path,
    '-f',
    'rawvideo',
    '-pix_fmt',
    'yuv420p',
    '-',
  ]);
  const { width: w, height: h } = canvas;
  const size = (w * h * 3) / 2;
  return Array.from({ length: raw.length / size }, (_, n) => {
    const at = n * size;
    const y = (raw[at + 24 * w + 32] - 16) / 219;
    const pb = (raw[at + w * h + 12 * (w / 2) + 16] - 128) / 224;
    const pr = (raw[at + (w * h * 5) / 4 + 12 * (w / 2) + 16] - 128) / 224;
    const [r, b] = [y + 1.5748 * pr, y + 1.8556 * pb];
    const g = (y - 0.2126 * r - 0.0722 * b) / 0.7152;
    return [r, g, b].map((v) => Math.min(255, Math.max(0, Math.round(v * 255)))) as Rgb;
  });
}

/** The middle pixel of the movie's only frame, decoded as a browser does. */
async function shown(layers: unknown[], bgColor: string): Promise<Rgb> {
  const result = await render({ ...canvas, fps: 1, scenes: [{ id: 's', duration: 1, bgColor, layers }] }, dir);
  return (await middles(result.path))[0];
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
  // was (128, 63, 124) with ffmpeg 5.1: its swscale wrote the raster's alpha 128 as 129 (colour.ts rgbaToYuva)
  within(
    await shown([{ ...text, color: '#ff8000', backgroundColor: '#ff8000' }], '#0000ff'),
    [127.5, 64, 127.5],
    2,
    'orange at 0.5 over blue',
  );
});

/** Deterministic pairs of colours and opacities. */
function pairs(n: number, seed: number): Array<{ over: Rgb; under: Rgb; opacity: number }> {
  let state = seed;
  const next = () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
  const colour = () => [0, 0, 0].map(() => Math.floor(next() * 256)) as Rgb;
  return Array.from({ length: n }, () => ({
    over: colour(),
    under: colour(),
    opacity: 0.1 + Math.round(next() * 80) / 100,
  }));
}

const hex = (rgb: Rgb) => `#${rgb.map((v) => v.toString(16).padStart(2, '0')).join('')}`;
const blend = (over: Rgb, under: Rgb, opacity: number) =>
  over.map((v, i) => opacity * v + (1 - opacity) * under[i]) as Rgb;

test('text under opacity blends within 2 levels over any colour', async () => {
  for (const { over, under, opacity } of pairs(6, 17)) {
    const text = {
      id: 't',
      type: 'text',
      text: ' ',
      color: hex(over),
      backgroundColor: hex(over),
      transform: { opacity },
    };
    within(
      await shown([text], hex(under)),
      blend(over, under, opacity),
      2,
      `${hex(over)} at ${opacity} over ${hex(under)}`,
    );
  }
});

test('an RGBA picture, under opacity too, blends within 2 levels over any colour', async () => {
  for (const [i, { over, under, opacity }] of pairs(6, 31).entries()) {
    const png = join(dir, `rgba-${i}.png`);
    await ffmpeg([
      '-f',
      'lavfi',
      '-i',
      `color=c=0x${hex(over).slice(1)}@${opacity}:s=16x16,format=rgba`,
      '-frames:v',
      '1',
      png,
    ]);
    // the file's own alpha (the color source truncates), then the layer's opacity on it
    const alpha =
      (await runBuffer(ffmpegBinary().path, ['-v', 'error', '-i', png, '-f', 'rawvideo', '-pix_fmt', 'rgba', '-']))[3] /
      255;
    const layerOpacity = i % 2 ? 0.6 : 1;
    const picture = { id: 'p', type: 'image', source: png, transform: { opacity: layerOpacity } };
    within(
      await shown([picture], hex(under)),
      blend(over, under, alpha * layerOpacity),
      2,
      `${hex(over)} at ${alpha} x ${layerOpacity} over ${hex(under)}`,
    );
  }
});

/** A lossless BT.709 video of `frames` frames at 10 fps, frame n of one colour, `colour(n)`, in RGB expressions of N. */
async function solidVideo(path: string, frames: number, [r, g, b]: [string, string, string]): Promise<void> {
  await ffmpeg([
    '-f',
    'lavfi',
    '-i',
    `nullsrc=s=64x48:r=10,trim=end_frame=${frames},format=gbrp,geq=r='${r}':g='${g}':b='${b}',scale=out_color_matrix=bt709:out_range=tv:flags=accurate_rnd,format=yuv444p`,
    '-c:v',
    'libx264',
    '-qp',
    '0',
    '-colorspace',
    'bt709',
    '-color_range',
    'tv',
    path,
  ]);
}

test('a video under opacity blends within 2 levels over any colour', async () => {
  for (const [i, { over, under, opacity }] of pairs(4, 41).entries()) {
    const path = join(dir, `solid-${i}.mp4`);
    await solidVideo(path, 10, over.map(String) as [string, string, string]);
    const video = { id: 'v', type: 'video', source: path, transform: { opacity } };
    within(
      await shown([video], hex(under)),
      blend(over, under, opacity),
      2,
      `video ${hex(over)} at ${opacity} over ${hex(under)}`,
    );
  }
});

test('a moving video at opacity 0.5 blends within 2 levels in every frame', async () => {
  const path = join(dir, 'moving.mp4');
  await solidVideo(path, 10, ['25*N', '200-15*N', '100+10*N']);
  const video = { id: 'v', type: 'video', source: path, transform: { opacity: 0.5 } };
  const result = await render(
    { ...canvas, fps: 10, scenes: [{ id: 's', duration: 1, bgColor: '#204060', layers: [video] }] },
    dir,
  );
  const frames = await middles(result.path);
  assert.equal(frames.length, 10);
  for (let n = 0; n < 10; n++)
    within(frames[n], blend([25 * n, 200 - 15 * n, 100 + 10 * n], [32, 64, 96], 0.5), 2, `frame ${n}`);
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
