// The encoder's and the picture fitter's arguments, as exact strings: the settings every
// chunk shares, x264's lookahead sized by the canvas, and the one pass that fits a picture.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encoderArgs, lookaheadFrames } from '../src/render/encoder.ts';
import { FilterGraph } from '../src/render/filter-graph.ts';
import { placeSource } from '../src/render/fit.ts';
import { pictureFilter } from '../src/render/fitted-picture.ts';

const COMMON =
  '-c:v libx264 -preset veryfast -crf 20 -profile:v high -pix_fmt yuv420p -colorspace bt709 -color_primaries bt709 -color_trc bt709 -color_range tv';

test("below 1080p x264 keeps its preset's lookahead; from 1080p up it looks half as far ahead", () => {
  assert.equal(
    encoderArgs({ preset: 'veryfast', crf: 20 }, { width: 1280, height: 720, fps: 30 }, 2).join(' '),
    `${COMMON} -threads 2 -r 30 -bf 0`,
  );
  assert.equal(
    encoderArgs({ preset: 'veryfast', crf: 20 }, { width: 1920, height: 1080, fps: 25 }, 1).join(' '),
    `${COMMON} -threads 1 -r 25 -bf 0 -rc-lookahead 5`,
  );
  assert.equal(lookaheadFrames('medium', { width: 1080, height: 1920 }), 20);
  assert.equal(lookaheadFrames('ultrafast', { width: 3840, height: 2160 }), 0);
  assert.equal(lookaheadFrames('medium', { width: 1920, height: 1079 }), undefined);
});

test("a picture is made RGBA, fitted and converted to the output's YUV 4:4:4 in one scale pass, its alpha plane fitted beside it", () => {
  const canvas = { width: 1920, height: 1080 };
  const place = (fit: 'cover' | 'contain', width: number, height: number) =>
    placeSource(fit, { x: 0, y: 0, width, height }, { width: 400, height: 300 }, canvas)!;
  assert.equal(
    pictureFilter(place('cover', 1920, 1080)),
    'scale=in_color_matrix=bt601,format=rgba,split[pc][pa];[pa]alphaextract,scale=1920:1440:in_range=pc:out_range=pc,crop=1920:1080:0:180:exact=1[palpha];[pc]scale=1920:1440:out_color_matrix=bt709:out_range=tv,format=yuva444p,crop=1920:1080:0:180:exact=1[pyuv];[pyuv][palpha]alphamerge',
  );
  assert.equal(
    pictureFilter(place('contain', 200, 60)),
    'scale=in_color_matrix=bt601,format=rgba,split[pc][pa];[pa]alphaextract,scale=80:60:in_range=pc:out_range=pc[palpha];[pc]scale=80:60:out_color_matrix=bt709:out_range=tv,format=yuva444p[pyuv];[pyuv][palpha]alphamerge',
  );
});

test('an opaque picture (JPEG) is fitted without the alpha route', () => {
  const placement = placeSource(
    'contain',
    { x: 0, y: 0, width: 200, height: 60 },
    { width: 400, height: 300 },
    {
      width: 1920,
      height: 1080,
    },
  )!;
  assert.equal(
    pictureFilter(placement, true),
    'scale=in_color_matrix=bt601,format=rgba,scale=80:60:out_color_matrix=bt709:out_range=tv,format=yuva444p',
  );
});

test('a picture far larger than the canvas is made from the part of the source the canvas shows', () => {
  const placement = placeSource(
    'fill',
    { x: -3000, y: -3000, width: 7000, height: 7000 },
    { width: 400, height: 300 },
    { width: 640, height: 360 },
  )!;
  // 17.5 box pixels a source pixel across: source columns 171..208, and 4 more each side, make the 640 shown
  assert.deepEqual(placement, {
    source: { x: 167, y: 124, width: 45, height: 24 },
    scaled: { width: 787, height: 560 },
    cut: { x: 77, y: 107, width: 640, height: 360 },
    at: { x: 0, y: 0 },
  });
  assert.equal(
    pictureFilter(placement),
    'scale=in_color_matrix=bt601,format=rgba,crop=45:24:167:124:exact=1,split[pc][pa];[pa]alphaextract,scale=787:560:in_range=pc:out_range=pc,crop=640:360:77:107:exact=1[palpha];[pc]scale=787:560:out_color_matrix=bt709:out_range=tv,format=yuva444p,crop=640:360:77:107:exact=1[pyuv];[pyuv][palpha]alphamerge',
  );
});

test("a scene graph gives every input's decoder the threads it is given, and none when not", () => {
  const scene = new FilterGraph(1);
  scene.input({ path: '/a.mp4', demuxer: 'mov' }, ['-ss', '2']);
  assert.deepEqual(scene.inputArgs.slice(0, 4), ['-ss', '2', '-threads', '1']);
  const frame = new FilterGraph();
  frame.input({ path: '/a.mp4', demuxer: 'mov' });
  assert.equal(frame.inputArgs.includes('-threads'), false);
});
