// The pure parts of bounded runs, with exact values: each ffmpeg's time limits, and how
// ffmpeg's messages name our files (by layer, input number or role, never by server path);
// and how many scene encoders run at once, with how many threads.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileNames, lastLines, layerNames, namePaths } from '../src/media/ffmpeg-message.ts';
import { progressReader } from '../src/media/run-ffmpeg.ts';
import {
  assemblyLimits,
  audioMixLimits,
  DEFAULT_TIME_LIMITS as D,
  frameLimits,
  sceneLimits,
} from '../src/render/time-limits.ts';
import { encodersAtOnce, sharedSceneSlots, threadsPerProcess } from '../src/render/workers.ts';

test('a scene gets 60 s plus 0.5 s a frame at 1080p or smaller, stalled after 60 s without progress', () => {
  assert.deepEqual(sceneLimits(D, 300, { width: 1920, height: 1080 }, 'veryfast'), { seconds: 210, stallSeconds: 60 });
  assert.deepEqual(sceneLimits(D, 300, { width: 320, height: 180 }, 'veryfast'), { seconds: 210, stallSeconds: 60 });
  assert.deepEqual(sceneLimits(D, 0, { width: 320, height: 180 }, 'ultrafast'), { seconds: 60, stallSeconds: 60 });
});

test("a scene's allowance grows with the canvas above 1080p and with slower x264 presets", () => {
  assert.equal(sceneLimits(D, 300, { width: 3840, height: 2160 }, 'veryfast').seconds, 660);
  assert.equal(sceneLimits(D, 100, { width: 1920, height: 1080 }, 'medium').seconds, 160);
  assert.equal(sceneLimits(D, 100, { width: 1920, height: 1080 }, 'veryslow').seconds, 460);
});

test('the audio mix gets 60 s plus 0.5 s per second of movie; assembly 60 s plus 0.01 s a frame, never a stall limit; a frame 60 s', () => {
  assert.deepEqual(audioMixLimits(D, 10), { seconds: 65, stallSeconds: 60 });
  assert.deepEqual(assemblyLimits(D, 300), { seconds: 63 });
  assert.deepEqual(frameLimits(D), { seconds: 60, stallSeconds: 60 });
});

test('overridden limits are used as given', () => {
  const limits = { ...D, stallSeconds: 5, sceneBaseSeconds: 8, scenePerFrameSeconds: 0 };
  assert.deepEqual(sceneLimits(limits, 16200, { width: 1280, height: 720 }, 'veryfast'), {
    seconds: 8,
    stallSeconds: 5,
  });
});

test('progress is a block whose frame count or output time moved; blocks that repeat themselves are a stall', () => {
  const frames: number[] = [];
  const read = progressReader((n) => frames.push(n));
  /** One block as ffmpeg writes it; true when its last line says the run moved on. */
  const block = (lines: string[]) => [...lines, 'progress=continue'].map(read).at(-1);
  assert.equal(block(['frame=0', 'fps=0.00', 'out_time=00:00:00.000000']), true, 'the first block');
  assert.equal(block(['frame=0', 'fps=0.00', 'out_time=00:00:00.000000']), false);
  assert.equal(block(['frame=0', 'fps=0.00', 'out_time=00:00:00.000000']), false);
  assert.equal(block(['frame=12', 'fps=24.0', 'out_time=00:00:00.000000']), true);
  assert.equal(
    block(['frame=12', 'fps=12.0', 'out_time=00:00:00.400000']),
    true,
    'output time alone (an audio-only run)',
  );
  assert.equal(block(['frame=12', 'fps=8.00', 'out_time=00:00:00.400000']), false, 'only the rate changed');
  assert.deepEqual(frames, [0, 0, 0, 12, 12, 12]);
});

test("a path in ffmpeg's message becomes the layer it belongs to, with or without its file: prefix", () => {
  const names = new Map([['/srv/data/sources/9f2c.png', 'layer "logo"']]);
  assert.equal(
    namePaths('file:/srv/data/sources/9f2c.png: Invalid data found when processing input', names),
    'layer "logo": Invalid data found when processing input',
  );
  assert.equal(
    namePaths('[image2 @ 0x5] Could not open file : /srv/data/sources/9f2c.png', names),
    '[image2 @ 0x5] Could not open file : layer "logo"',
  );
  assert.equal(namePaths('Error while decoding stream #0:0', names), 'Error while decoding stream #0:0');
});

test('a path that begins another is not half-replaced', () => {
  const names = new Map([
    ['/w/a', 'the folder'],
    ['/w/a.png', 'layer "a"'],
  ]);
  assert.equal(namePaths('file:/w/a.png and /w/a', names), 'layer "a" and the folder');
});

test("files without a name of the caller's are called by ffmpeg's input number, others by their role", () => {
  const args = [
    '-i',
    'file:/w/text-0-0.png',
    '-ss',
    '1.000000',
    '-i',
    'file:/w/clip.mp4',
    '-filter_complex',
    '[0:v]null[s0]',
    '-map',
    '[s0]',
    'file:/w/chunk%04d.mp4',
  ];
  assert.deepEqual(
    [...fileNames(args, new Map([['/w/clip.mp4', 'layer "clip"']]), 'the output')],
    [
      ['/w/clip.mp4', 'layer "clip"'],
      ['/w/text-0-0.png', 'input #0'],
      ['/w/chunk%04d.mp4', 'the output'],
    ],
  );
});

test('layers that share one file are all named', () => {
  assert.deepEqual(
    [
      ...layerNames([
        { layerId: 'a', path: '/s/1.png' },
        { layerId: 'b', path: '/s/2.mp4' },
        { layerId: 'c', path: '/s/1.png' },
      ]),
    ],
    [
      ['/s/1.png', 'layers "a", "c"'],
      ['/s/2.mp4', 'layer "b"'],
    ],
  );
});

test('the last three lines of stderr on one line', () => {
  assert.equal(lastLines('one\ntwo\nthree\nfour\n'), 'two | three | four');
  assert.equal(lastLines('  \n'), 'no output');
});

test('scene encoders at once: one per core and at least two; from 1080p at most one per core; threads split the cores', () => {
  assert.deepEqual([1, 2, 8].map(sharedSceneSlots), [2, 2, 8]);
  assert.equal(encodersAtOnce(4, 2, { width: 1920, height: 1080 }), 2);
  assert.equal(encodersAtOnce(4, 2, { width: 1080, height: 1920 }), 2);
  assert.equal(encodersAtOnce(4, 2, { width: 1280, height: 720 }), 4);
  assert.equal(encodersAtOnce(4, 1, { width: 3840, height: 2160 }), 1);
  assert.deepEqual(
    [
      [8, 3],
      [2, 4],
      [1, 2],
      [4, 0],
    ].map(([cores, workers]) => threadsPerProcess(cores, workers)),
    [2, 1, 1, 4],
  );
});
