// Colour: the output is BT.709, limited range, tagged so, and every picture in it (scene
// colours, text, images, video sources of either matrix) decodes under those tags, as a
// browser decodes it, to the colour the movie asked for; the frame preview shows the same.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { parseInputDescription } from '../src/media/input-description.ts';
import { parseProbeJson } from '../src/media/probe.ts';
import { normalizeMovie, parseColour } from '../src/movie/index.ts';
import { colourTagArgs, sourceConversion } from '../src/render/colour.ts';
import { renderFrame } from '../src/render/index.ts';
import { fitFilters, placeSource } from '../src/render/fit.ts';
import { decodeFrames, ffmpeg, media, near, probe, render, tempDir, type Frames, type Rgb } from './helpers.ts';

const W = 320;
const H = 180;
const FPS = 30;
const dir = await tempDir();
/**
 * ffmpeg before 4.3 (the npm 2018 build) writes an MP4 colr box only when told to
 * (-movflags +write_colr), which the assembly step does not say yet.
 */

const box = (x: number, y: number, width: number, height: number) => ({ position: { x, y }, size: { width, height } });
const rgb = (hex: string): Rgb => {
  const { r, g, b } = parseColour(hex)!;
  return [r, g, b];
};

/** Scene colours, each shown for 3 frames, in this order. */
const PALETTE = ['#00d4ff', '#00ff00', '#ff0000', '#1a1a2e', '#ffffff', '#808080'];
const paletteFrame = (i: number) => i * 3 + 1;
/** The scene of layers (text, images, videos) and the one whose video meets a bgColor of its own colour. */
const LAYERS_FRAME = PALETTE.length * 3 + 1;
const SEAM_FRAME = LAYERS_FRAME + 3;

describe('a movie rendered: tags and colours as a browser decodes them', () => {
  let output: string;
  let frames: Frames;
  let movie: unknown;

  before(async () => {
    const png = await media.png(join(dir, 'green.png'), '0x00ff00', 64, 64);
    const jpeg = join(dir, 'cyan.jpg');
    // RGB to JPEG's own YUV (BT.601, full range), as any camera or editor writes it
    await ffmpeg([
      '-f',
      'lavfi',
      '-i',
      'color=c=0x00d4ff:s=64x32,format=rgb24',
      '-frames:v',
      '1',
      '-q:v',
      '2',
      '-pix_fmt',
      'yuvj420p',
      jpeg,
    ]);
    const hd709 = await media.flatVideo(join(dir, 'hd709.mp4'), '#00d4ff', 1920, 1080, 'bt709', true);
    const sd601 = await media.flatVideo(join(dir, 'sd-untagged.mp4'), '#ff0000', 640, 480, 'bt601', false);
    const hdUntagged = await media.flatVideo(join(dir, 'hd-untagged.mp4'), '#00ff00', 1280, 720, 'bt709', false);
    const short = { duration: 0.1, layers: [] };
    movie = {
      width: W,
      height: H,
      fps: FPS,
      scenes: [
        ...PALETTE.map((bgColor, i) => ({ id: `palette${i}`, bgColor, ...short })),
        {
          id: 'layers',
          duration: 0.1,
          bgColor: '#1a1a2e',
          layers: [
            {
              id: 'title',
              type: 'text',
              text: 'I',
              fontSize: 150,
              fontWeight: 'bold',
              color: '#00d4ff',
              backgroundColor: '#ff0000',
              ...box(0, 0, 160, 180),
            },
            { id: 'png', type: 'image', source: png, ...box(160, 0, 80, 90) },
            { id: 'jpeg', type: 'image', source: jpeg, fit: 'contain', ...box(240, 0, 80, 90) },
            { id: 'hd709', type: 'video', source: hd709, ...box(160, 90, 60, 90) },
            { id: 'sd601', type: 'video', source: sd601, ...box(220, 90, 50, 90) },
            { id: 'hd-untagged', type: 'video', source: hdUntagged, ...box(270, 90, 50, 90) },
          ],
        },
        {
          id: 'seam',
          duration: 0.1,
          bgColor: '#00d4ff',
          layers: [{ id: 'hd709', type: 'video', source: hd709, ...box(0, 0, 160, 180) }],
        },
      ],
    };
    // a high-quality encode, so the ±2 measures the colour conversion, not the encoder's loss at sharp edges
    output = (await render(movie, dir, { encoder: { preset: 'veryfast', crf: 12 } })).path;
    frames = await decodeFrames(output, W, H, [...PALETTE.map((_, i) => paletteFrame(i)), LAYERS_FRAME, SEAM_FRAME]);
  });

  test('the video track is tagged BT.709 (matrix, primaries, transfer), limited range', async () => {
    const { video } = await probe(output);
    assert.deepEqual(
      {
        space: video.color_space,
        primaries: video.color_primaries,
        transfer: video.color_transfer,
        range: video.color_range,
      },
      { space: 'bt709', primaries: 'bt709', transfer: 'bt709', range: 'tv' },
    );
  });

  test('the MP4 carries a colr box saying the same (nclx 1/1/1, limited)', async () => {
    const bytes = await readFile(output);
    const at = bytes.indexOf('colrnclx');
    assert.ok(at > 0, 'a colr box of type nclx');
    assert.deepEqual(
      [...bytes.subarray(at + 8, at + 14)],
      [0, 1, 0, 1, 0, 1],
      'primaries, transfer, matrix: 1 (BT.709)',
    );
    assert.equal(bytes[at + 14] ?? 0, 0, 'limited range');
  });

  test('scene colours come back within 2 of what the movie asked for', () => {
    PALETTE.forEach((colour, i) => {
      const pixel = frames.pixel(paletteFrame(i), W / 2, H / 2);
      assert.ok(near(pixel, rgb(colour), 2), `bgColor ${colour}: ${pixel}`);
    });
  });

  test("a text layer's colour and its background, a PNG's and a JPEG's pixels come back within 2", () => {
    const at = (x: number, y: number) => frames.pixel(LAYERS_FRAME, x, y);
    assert.ok(near(at(4, 4), rgb('#ff0000'), 2), `text background: ${at(4, 4)}`);
    let inGlyph = 0;
    for (let y = 0; y < 180; y++) for (let x = 0; x < 160; x++) if (near(at(x, y), rgb('#00d4ff'), 2)) inGlyph++;
    assert.ok(inGlyph > 500, `text colour #00d4ff inside the glyph (${inGlyph} pixels)`);
    assert.ok(near(at(200, 45), rgb('#00ff00'), 2), `PNG: ${at(200, 45)}`);
    assert.ok(near(at(280, 45), rgb('#00d4ff'), 2), `JPEG: ${at(280, 45)}`);
    assert.ok(near(at(280, 10), rgb('#1a1a2e'), 2), `contain's padding shows the scene: ${at(280, 10)}`);
  });

  test('video sources are read with their own matrix: tagged BT.709, untagged 480 lines (601), untagged 720 lines (709)', () => {
    const at = (x: number) => frames.pixel(LAYERS_FRAME, x, 135);
    assert.ok(near(at(190), rgb('#00d4ff'), 2), `1080p tagged BT.709: ${at(190)}`);
    assert.ok(near(at(245), rgb('#ff0000'), 2), `480 lines untagged: ${at(245)}`);
    assert.ok(near(at(295), rgb('#00ff00'), 2), `720 lines untagged: ${at(295)}`);
  });

  test('a BT.709 video next to a bgColor of the same colour shows no seam', () => {
    for (let y = 10; y < H; y += 40) {
      const video = frames.pixel(SEAM_FRAME, 150, y);
      const background = frames.pixel(SEAM_FRAME, 170, y);
      assert.ok(near(video, background, 2), `row ${y}: video ${video}, background ${background}`);
      assert.ok(near(video, rgb('#00d4ff'), 2), `row ${y}: ${video}`);
    }
  });

  test('`frame` shows what the video shows (within 2), converted back as a browser does', async () => {
    const png = join(dir, 'layers.png');
    await renderFrame(normalizeMovie(movie, { allowLocalFiles: true }), { at: LAYERS_FRAME / FPS, output: png });
    const still = await decodeFrames(png, W, H);
    for (const [x, y] of [
      [4, 4],
      [200, 45],
      [280, 45],
      [280, 10],
      [190, 135],
      [245, 135],
      [295, 135],
    ]) {
      assert.ok(
        near(still.pixel(0, x, y), frames.pixel(LAYERS_FRAME, x, y), 2),
        `(${x}, ${y}): frame ${still.pixel(0, x, y)}, video ${frames.pixel(LAYERS_FRAME, x, y)}`,
      );
    }
  });
});

describe('colour conversions, as filter strings', () => {
  test('outputs are tagged BT.709, limited range', () => {
    assert.deepEqual(colourTagArgs(), [
      '-colorspace',
      'bt709',
      '-color_primaries',
      'bt709',
      '-color_trc',
      'bt709',
      '-color_range',
      'tv',
    ]);
  });

  test("a video source's matrix: tagged, or by its height when untagged; its range; RGB-coded; clipped through RGB", () => {
    const throughRgb = (from: string, range = '') => ({
      before: [`scale=in_color_matrix=${from}${range},format=gbrp`],
      scale: 'out_color_matrix=bt709:out_range=tv',
      after: ['format=yuv444p'],
    });
    assert.deepEqual(sourceConversion({ matrix: 'bt709', range: 'tv', height: 480 }), {
      scale: 'in_range=tv:out_range=tv',
      after: ['format=yuv444p'],
    });
    assert.deepEqual(sourceConversion({ height: 719 }), throughRgb('smpte170m'));
    assert.deepEqual(sourceConversion({ height: 720 }), { scale: 'out_range=tv', after: ['format=yuv444p'] });
    assert.deepEqual(
      sourceConversion({ matrix: 'bt470bg', range: 'pc', height: 1080 }),
      throughRgb('bt601', ':in_range=pc'),
    );
    assert.deepEqual(sourceConversion({ matrix: 'bt2020nc', height: 2160 }), throughRgb('bt2020'));
    assert.deepEqual(
      sourceConversion({ matrix: 'reserved', height: 576 }),
      throughRgb('smpte170m'),
      'a matrix ffmpeg cannot name counts as untagged',
    );
    assert.deepEqual(sourceConversion({ matrix: 'gbr', height: 480 }), {
      scale: 'out_color_matrix=bt709:out_range=tv',
      after: ['format=yuv444p'],
    });
    // a translucent layer: values outside RGB are clipped before the blend
    assert.deepEqual(sourceConversion({ height: 720 }, true), throughRgb('bt709'));
  });

  test('fitting converts in the same scale pass', () => {
    const colour = { scale: 'out_range=tv', after: ['format=yuv444p'] };
    const placement = (fit: 'fill' | 'cover' | 'contain') =>
      placeSource(fit, { x: 0, y: 0, width: 100, height: 50 }, { width: 64, height: 48 }, { width: 320, height: 180 })!;
    assert.deepEqual(fitFilters(placement('fill'), colour), ['scale=100:50:out_range=tv', 'format=yuv444p']);
    assert.deepEqual(fitFilters(placement('cover'), colour), [
      'scale=100:75:out_range=tv',
      'format=yuv444p',
      'crop=100:50:0:12:exact=1',
    ]);
    assert.deepEqual(fitFilters(placement('contain'), colour), ['scale=66:50:out_range=tv', 'format=yuv444p']);
    assert.deepEqual(placement('contain').at, { x: 17, y: 0 });
  });

  test("the probe reads a video's matrix and range (ffprobe JSON and ffmpeg's description)", () => {
    const stream = (s: object) =>
      JSON.stringify({ streams: [{ codec_type: 'video', width: 64, height: 64, ...s }], format: {} });
    const colourOf = (s: object) => parseProbeJson(stream(s)).video?.colour;
    assert.deepEqual(colourOf({ pix_fmt: 'yuv420p', color_space: 'bt709', color_range: 'tv' }), {
      matrix: 'bt709',
      range: 'tv',
    });
    assert.deepEqual(colourOf({ pix_fmt: 'yuv420p', color_space: 'unknown', color_range: 'unknown' }), {});
    assert.deepEqual(colourOf({ pix_fmt: 'yuvj420p' }), { range: 'pc' });
    assert.deepEqual(colourOf({ pix_fmt: 'gbrp', color_space: 'gbr' }), { matrix: 'gbr' });
    assert.deepEqual(colourOf({ pix_fmt: 'rgb24' }), { matrix: 'gbr' });
    const described = (video: string) =>
      parseInputDescription(`Input #0, mpegts, from 'x':\n    Stream #0:0[0x100]: Video: ${video}`)?.video?.colour;
    assert.deepEqual(
      described(
        'h264 (High) ([27][0][0][0] / 0x001B), yuv420p(pc, smpte170m/bt709/bt709, progressive), 1920x1080, 25 fps',
      ),
      { matrix: 'smpte170m', range: 'pc' },
    );
    assert.deepEqual(described('h264 (High) ([27][0][0][0] / 0x001B), yuv420p(top first), 720x576, 25 fps'), {});
    assert.deepEqual(described('mpeg2video (Main) ([2][0][0][0] / 0x0002), yuv420p(tv, bt470bg), 720x576'), {
      matrix: 'bt470bg',
      range: 'tv',
    });
  });
});
