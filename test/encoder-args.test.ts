// The encoder's and the picture fitter's arguments, as exact strings: the settings every
// chunk shares, x264's lookahead sized by the canvas, and the one pass that fits a picture.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encoderArgs, lookaheadFrames } from '../src/render/encoder.ts';
import { FilterGraph } from '../src/render/filter-graph.ts';
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

test("a picture is made RGBA, fitted and converted to the output's YUV with alpha in one scale pass", () => {
  assert.equal(
    pictureFilter({ fit: 'cover', width: 1920, height: 1080 }, { x: 0, y: 0, width: 1920, height: 1080 }),
    'scale=in_color_matrix=bt601,format=rgba,scale=1920:1080:force_original_aspect_ratio=increase:out_color_matrix=bt709:out_range=tv,format=yuva420p,crop=1920:1080',
  );
  assert.equal(
    pictureFilter({ fit: 'contain', width: 200, height: 60 }, { x: 0, y: 0, width: 200, height: 60 }),
    'scale=in_color_matrix=bt601,format=rgba,scale=200:60:force_original_aspect_ratio=decrease:out_color_matrix=bt709:out_range=tv,format=yuva420p,format=yuva420p,pad=200:60:(ow-iw)/2:(oh-ih)/2:color=black@0',
  );
});

test('a picture larger than the canvas is cut to the part the canvas shows after its fit', () => {
  assert.equal(
    pictureFilter({ fit: 'fill', width: 7000, height: 7000 }, { x: 6, y: 0, width: 640, height: 360 }),
    'scale=in_color_matrix=bt601,format=rgba,scale=7000:7000:out_color_matrix=bt709:out_range=tv,format=yuva420p,crop=640:360:6:0:exact=1',
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
