// Exact by construction, verified before success (issue 7, items 1, 2, 3 and 6): every
// frame of the movie is in the file, each layer on exactly its frames, every frame lasts
// 1/fps, audio and video are as long as each other and in step at every scene join; the
// file is read back before the render says "done", and what it reports comes from the file.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { pictureCounter } from '../src/render/h264-stream.ts';
import { outputProblems } from '../src/render/verify-output.ts';
import {
  cli,
  decodeAudio,
  ffmpeg,
  decodeFrames,
  media,
  onsetAfter,
  probe,
  render,
  tempDir,
  videoFrameDigests,
  videoPackets,
  type Frames,
} from './helpers.ts';

const dir = await tempDir();
const white = await media.png(join(dir, 'white.png'), 'white', 8, 8);

/** A solid white box shown on frames [from, from + frames) of its scene, in horizontal slot `slot`. */
const marker = (id: string, from: number, frames: number, fps: number, slot: number) => ({
  id,
  type: 'image',
  source: white,
  startTime: from / fps,
  duration: frames / fps,
  position: { x: 4 + slot * 12, y: 8 },
  size: { width: 8, height: 8 },
});
const lit = (frames: Frames, frame: number, slot: number) => frames.pixel(frame, 8 + slot * 12, 12)[0] > 160;

/** Asserts the marker in `slot` is on exactly the frames [from, to) of a `total`-frame movie, among the decoded ones around it. */
function assertOnExactly(frames: Frames, slot: number, [from, to]: [number, number], total: number, what: string) {
  if (from > 0) assert.equal(lit(frames, from - 1, slot), false, `${what}: frame ${from - 1} is before it`);
  assert.equal(lit(frames, from, slot), true, `${what}: frame ${from} is its first`);
  assert.equal(lit(frames, to - 1, slot), true, `${what}: frame ${to - 1} is its last`);
  if (to < total) assert.equal(lit(frames, to, slot), false, `${what}: frame ${to} is after it`);
}

/** Frames just around each window, for decoding only those. */
const around = (windows: Array<[number, number]>, total: number) =>
  [...new Set(windows.flatMap(([from, to]) => [from - 1, from, to - 1, to]))].filter((n) => n >= 0 && n < total);

describe('every frame, each layer on exactly its frames (issue 7, item 1)', () => {
  test('a 3 s scene with two one-frame text layers has 90 frames, each marker on exactly its frame', async () => {
    const text = (id: string, startTime: number, x: number) => ({
      id,
      type: 'text',
      text: id,
      color: '#ffffff',
      backgroundColor: '#ffffff',
      startTime,
      duration: 0.03333333333333333,
      position: { x, y: 100 },
      size: { width: 80, height: 60 },
    });
    const movie = {
      width: 640,
      height: 360,
      fps: 30,
      scenes: [
        { id: 's', duration: 3, layers: [text('one', 0.3333333333333333, 100), text('two', 1.6666666666666667, 400)] },
      ],
    };
    const { path, mediaData } = await render(movie, dir);
    assert.equal(mediaData.frames, 90);
    assert.equal(Number((await probe(path)).video.nb_read_frames), 90);
    const frames = await decodeFrames(path, 640, 360);
    assert.equal(frames.count, 90);
    const on = (x: number) => [...Array(90).keys()].filter((f) => frames.pixel(f, x, 130)[0] > 160);
    assert.deepEqual(on(140), [10]);
    assert.deepEqual(on(440), [50]);
  });

  test('four one-frame layers at frames 1, 3, 5, 7: 90 frames, each on its frame, none elsewhere', async () => {
    const layers = [1, 3, 5, 7].map((f, slot) => marker(`m${f}`, f, 1, 30, slot));
    const { path, mediaData } = await render(
      { width: 160, height: 90, fps: 30, scenes: [{ id: 's', duration: 3, layers }] },
      dir,
    );
    assert.equal(mediaData.frames, 90);
    const frames = await decodeFrames(path, 160, 90);
    assert.equal(frames.count, 90);
    for (const [slot, f] of [1, 3, 5, 7].entries()) {
      assert.deepEqual(
        [...Array(90).keys()].filter((n) => lit(frames, n, slot)),
        [f],
        `marker ${f}`,
      );
    }
  });
});

describe('the file is the movie, and says so (issue 7, item 2)', () => {
  const intro = (fps: number, count: number) => ({
    id: 'intro',
    duration: 0.7,
    layers: Array.from({ length: count }, (_, i) => marker(`m${i}`, Math.round(0.5 * fps) + i, 1, fps, i)),
  });

  test('"intro" with four one-frame layers then "main": 111 frames, 3.7 s of video and audio, and the CLI says so from the file', async () => {
    const movie = {
      width: 160,
      height: 90,
      fps: 30,
      scenes: [intro(30, 4), { id: 'main', duration: 3, layers: [marker('late', 80, 5, 30, 6)] }],
    };
    const moviePath = join(dir, 'intro-main.json');
    await writeFile(moviePath, JSON.stringify(movie));
    const output = join(dir, 'intro-main.mp4');
    const run = await cli(['render', moviePath, '-o', output, '-q'], { timeoutMs: 120_000 });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /160x90 30 fps, 111 frames, 3\.700 s, \d+ bytes/);
    const info = await probe(output);
    assert.equal(Number(info.video.nb_read_frames), 111);
    assert.equal(Number(info.video.duration), 3.7);
    assert.equal(Number(info.audio!.duration), 3.7);
    const frames = await decodeFrames(
      output,
      160,
      90,
      around(
        [
          [15, 16],
          [18, 19],
          [101, 106],
        ],
        111,
      ),
    );
    assertOnExactly(frames, 0, [15, 16], 111, 'first intro marker');
    assertOnExactly(frames, 3, [18, 19], 111, 'last intro marker');
    assertOnExactly(frames, 6, [21 + 80, 21 + 85], 111, 'the marker in "main"');
  });

  test('60 fps with 8 one-frame layers per scene: all 523 frames, each layer on its frame', async () => {
    const scene = (id: string, duration: number, first: number) => ({
      id,
      duration,
      layers: Array.from({ length: 8 }, (_, i) => marker(`${id}${i}`, first + i * 3, 1, 60, i)),
    });
    const movie = {
      width: 160,
      height: 90,
      fps: 60,
      scenes: [intro(60, 8), scene('main', 3, 10), scene('end', 5.0166667, 250)],
    };
    const { path, mediaData } = await render(movie, dir);
    assert.deepEqual(
      { frames: mediaData.frames, fps: mediaData.fps, duration: mediaData.duration },
      { frames: 523, fps: 60, duration: 523 / 60 },
    );
    const windows: Array<[number, number, number]> = [
      ...Array.from({ length: 8 }, (_, i): [number, number, number] => [i, 30 + i, 31 + i]),
      ...Array.from({ length: 8 }, (_, i): [number, number, number] => [i, 42 + 10 + i * 3, 42 + 11 + i * 3]),
      ...Array.from({ length: 8 }, (_, i): [number, number, number] => [i, 222 + 250 + i * 3, 222 + 251 + i * 3]),
    ];
    const frames = await decodeFrames(
      path,
      160,
      90,
      around(
        windows.map(([, a, b]) => [a, b]),
        523,
      ),
    );
    for (const [slot, from, to] of windows)
      assertOnExactly(frames, slot, [from, to], 523, `marker in slot ${slot} at frame ${from}`);
  });

  test('a file that differs from the plan is named, difference by difference, and from which scene frames are missing', () => {
    const expected = {
      width: 160,
      height: 90,
      fps: 30,
      frames: 111,
      scenes: [
        { id: 'intro', frames: 21 },
        { id: 'main', frames: 90 },
      ],
    };
    const track = (
      handler: string,
      timescale: number,
      samples: number,
      delta: number,
      edits: Array<{ duration: number; mediaTime: number }> = [],
    ) => ({
      handler,
      timescale,
      samples,
      durations: [{ count: samples, delta }],
      edits,
      width: handler === 'vide' ? 160 : 0,
      height: handler === 'vide' ? 90 : 0,
    });
    const good = {
      timescale: 1000,
      tracks: [track('vide', 30, 111, 1), track('soun', 48000, 175, 1024, [{ duration: 3700, mediaTime: 1024 }])],
    };
    assert.deepEqual(outputProblems(good, expected), []);
    assert.deepEqual(
      outputProblems({ timescale: 1000, tracks: [track('vide', 30, 18, 1), good.tracks[1]] }, expected),
      [
        'its video has 18 frames, expected 111: from frame 18 of scene "intro" (movie.scenes[0]) on, frames are missing',
        'its audio lasts 3.700 s and its video 0.600 s',
      ],
    );
    assert.deepEqual(
      outputProblems(
        {
          timescale: 1000,
          tracks: [
            track('vide', 15360, 111, 511),
            track('soun', 48000, 175, 1024, [{ duration: 3700, mediaTime: 1024 }]),
          ],
        },
        expected,
      ),
      ['its video frames do not each last 1/30 s (they last 511/15360 s)'],
    );
    assert.deepEqual(outputProblems({ timescale: 1000, tracks: [good.tracks[0]] }, expected), [
      'it has no audio track',
    ]);
    assert.deepEqual(outputProblems(undefined, expected), ['it has no MP4 index (moov box)']);
  });

  test("a video scene longer than the encoder's keyframe interval (250 frames) keeps every frame", async () => {
    const clip = await media.video(join(dir, 'long.mp4'), '#404040', 160, 90, 10, { silent: true });
    const movie = {
      width: 160,
      height: 90,
      fps: 30,
      scenes: [
        {
          id: 'clip',
          duration: 10,
          layers: [
            { id: 'v', type: 'video', source: clip },
            { ...marker('m', 260, 2, 30, 0), zIndex: 1 },
          ],
        },
      ],
    };
    const { path, mediaData } = await render(movie, dir);
    assert.equal(mediaData.frames, 300);
    const frames = await decodeFrames(path, 160, 90, around([[260, 262]], 300));
    assertOnExactly(frames, 0, [260, 262], 300, 'marker over the video');
  });

  test('pictures in a raw H.264 stream are counted the same however its bytes are split', () => {
    // SPS, PPS, IDR slice (first_mb 0), P slice (first_mb 0), a second slice of it (first_mb 1), P slice, 4-byte start code
    const stream = Buffer.from([
      0, 0, 0, 1, 0x67, 0x64, 0, 0, 1, 0x68, 0xee, 0, 0, 1, 0x65, 0x88, 0x84, 0, 0, 1, 0x41, 0x9a, 0x22, 0, 0, 1, 0x41,
      0x40, 0, 0, 0, 1, 0x41, 0x9a, 0x10,
    ]);
    for (let cut = 0; cut <= stream.length; cut++) {
      const counter = pictureCounter();
      counter.push(stream.subarray(0, cut));
      counter.push(stream.subarray(cut));
      assert.equal(counter.pictures, 3, `split at ${cut}`);
    }
  });

  test('a scene whose stored chunks lost frames fails the render, naming the scene, and leaves no file', async () => {
    const movie = {
      width: 160,
      height: 90,
      fps: 30,
      scenes: [
        { id: 'a', duration: 1, layers: [] },
        { id: 'b', duration: 2.5, layers: [marker('m', 10, 3, 30, 0)] },
      ],
    };
    const kept = new Map<string, string[]>();
    const store = {
      get: async (key: string) => kept.get(key),
      workspace: () => mkdtemp(join(dir, 'scene-')),
      commit: async (key: string, workspace: string, names: string[]) => {
        const paths = names.map((n) => join(workspace, n));
        kept.set(key, paths);
        return paths;
      },
      discard: (workspace: string) => rm(workspace, { recursive: true, force: true }),
    };
    const first = await render(movie, dir, { scenes: store });
    assert.equal(first.mediaData.frames, 105);
    // a chunk of scene "b" goes missing from the store (a disk cleaned by hand)
    const sceneB = [...kept.values()].find((chunks) => chunks.length > 1)!;
    await rm(sceneB[1]);
    const output = join(dir, 'damaged.mp4');
    await assert.rejects(
      render(movie, dir, { scenes: store, output }),
      /scene "b" \(movie\.scenes\[1\]\): its encoded chunks hold \d+ frames, expected 75/,
    );
    await assert.rejects(stat(output), { code: 'ENOENT' });
  });
});

describe('constant rate, audio and video in step (issue 7, item 3)', () => {
  test('60 scenes of 31 frames, each with a white flash and a beep at its start: same length, flash and beep together at every join', async () => {
    const beep = await media.tone(join(dir, 'beep.wav'), 0.1, 1000);
    const scenes = Array.from({ length: 60 }, (_, i) => ({
      id: `s${i}`,
      duration: 1.0333333,
      layers: [marker(`flash${i}`, 0, 3, 30, 0), { id: `beep${i}`, type: 'audio', source: beep, startTime: 0 }],
    }));
    const { path, mediaData } = await render({ width: 160, height: 90, fps: 30, scenes }, dir);
    assert.equal(mediaData.frames, 1860);
    assert.equal(mediaData.duration, 62);
    const info = await probe(path);
    assert.equal(Number(info.video.duration), 62);
    assert.ok(Math.abs(Number(info.audio!.duration) - 62) < 1024 / 48000, `audio ${info.audio!.duration} s`);
    const starts = scenes.map((_, i) => i * 31);
    const frames = await decodeFrames(
      path,
      160,
      90,
      starts.flatMap((s) => (s > 0 ? [s - 1, s] : [s])),
    );
    const audio = await decodeAudio(path);
    for (const start of starts) {
      if (start > 0) assert.equal(lit(frames, start - 1, 0), false, `no flash on frame ${start - 1}`);
      assert.equal(lit(frames, start, 0), true, `flash on frame ${start}`);
      const onset = onsetAfter(audio, start / 30 - 2 / 30);
      assert.ok(
        onset !== undefined && Math.abs(onset - start / 30) < 1 / 30,
        `beep at ${onset} s, flash at ${start / 30} s`,
      );
    }
  });

  test('24 fps: r_frame_rate 24/1, every frame lasts the same, video and audio 3 s', async () => {
    const { path, mediaData } = await render(
      { width: 160, height: 90, fps: 24, scenes: [{ id: 's', duration: 3, layers: [marker('m', 5, 2, 24, 0)] }] },
      dir,
    );
    assert.deepEqual(
      { frames: mediaData.frames, fps: mediaData.fps, duration: mediaData.duration },
      { frames: 72, fps: 24, duration: 3 },
    );
    const info = await probe(path);
    assert.equal(info.video.r_frame_rate, '24/1');
    assert.equal(Number(info.video.duration), 3);
    assert.ok(Math.abs(Number(info.audio!.duration) - 3) < 1024 / 48000, `audio ${info.audio!.duration} s`);
    const durations = (await videoPackets(path)).map((p) => p.duration);
    assert.equal(durations.length, 72);
    assert.deepEqual(new Set(durations), new Set([durations[0]]));
  });
});

describe('any number of cuts (issue 7, item 6)', () => {
  test('110 short captions in one scene with an audio layer: every frame, each caption on its own frames', async () => {
    const music = await media.tone(join(dir, 'music.wav'), 12);
    const layers: unknown[] = Array.from({ length: 110 }, (_, i) => ({ ...marker(`c${i}`, i * 3, 2, 30, i % 12) }));
    layers.push({ id: 'music', type: 'audio', source: music });
    const { path, mediaData } = await render(
      { width: 160, height: 90, fps: 30, scenes: [{ id: 'captions', duration: 11.5, layers }] },
      dir,
    );
    assert.equal(mediaData.frames, 345);
    const checked = [0, 1, 37, 64, 108, 109];
    const frames = await decodeFrames(
      path,
      160,
      90,
      around(
        checked.map((i) => [i * 3, i * 3 + 2]),
        345,
      ),
    );
    for (const i of checked) assertOnExactly(frames, i % 12, [i * 3, i * 3 + 2], 345, `caption ${i}`);
  });
});

describe('randomised movies', () => {
  test('random fps, scene lengths and one- to few-frame layers: every frame, each layer on its frames, A/V in step at every join', async () => {
    const fpsChoices = [24, 25, 30, 50, 60] as const;
    const layer = fc.record({ from: fc.nat(), frames: fc.integer({ min: 1, max: 4 }) });
    const movieArb = fc.record({
      fps: fc.constantFrom(...fpsChoices),
      scenes: fc.array(
        fc.record({
          frames: fc.integer({ min: 6, max: 40 }),
          layers: fc.array(layer, { minLength: 1, maxLength: 10 }),
        }),
        { minLength: 1, maxLength: 4 },
      ),
    });
    const beep = await media.tone(join(dir, 'tick.wav'), 0.05, 1000);
    await fc.assert(
      fc.asyncProperty(movieArb, async ({ fps, scenes }) => {
        const windows: Array<[number, number, number]> = [];
        let offset = 0;
        const movie = {
          width: 160,
          height: 90,
          fps,
          scenes: scenes.map((s, si) => {
            const layers: unknown[] = [
              marker(`flash${si}`, 0, 1, fps, 0),
              { id: `tick${si}`, type: 'audio', source: beep, startTime: 0 },
            ];
            for (const [li, l] of s.layers.entries()) {
              const slot = 1 + li;
              const from = l.from % s.frames;
              const to = Math.min(s.frames, from + l.frames);
              layers.push(marker(`l${si}-${li}`, from, to - from, fps, slot));
              windows.push([slot, offset + from, offset + to]);
            }
            const scene = { id: `s${si}`, duration: s.frames / fps, layers };
            windows.push([0, offset, offset + 1]);
            offset += s.frames;
            return scene;
          }),
        };
        const { path, mediaData } = await render(movie, dir);
        try {
          assert.equal(mediaData.frames, offset);
          const frames = await decodeFrames(
            path,
            160,
            90,
            around(
              windows.map(([, a, b]) => [a, b]),
              offset,
            ),
          );
          // a window's neighbour outside the movie cannot be checked, nor one another window in the slot covers
          for (const [slot, from, to] of windows) {
            const covered = (f: number) => windows.some(([s, a, b]) => s === slot && f >= a && f < b);
            assert.equal(lit(frames, from, slot), true, `slot ${slot} frame ${from}`);
            assert.equal(lit(frames, to - 1, slot), true, `slot ${slot} frame ${to - 1}`);
            if (from > 0 && !covered(from - 1))
              assert.equal(lit(frames, from - 1, slot), false, `slot ${slot} frame ${from - 1}`);
            if (to < offset && !covered(to)) assert.equal(lit(frames, to, slot), false, `slot ${slot} frame ${to}`);
          }
          const audio = await decodeAudio(path);
          for (const [, start] of windows.filter(([slot]) => slot === 0)) {
            const onset = onsetAfter(audio, start / fps - 2 / fps);
            assert.ok(
              onset !== undefined && Math.abs(onset - start / fps) < 1 / fps,
              `tick at ${onset} s, scene starts at ${start / fps} s`,
            );
          }
        } finally {
          await rm(path, { force: true });
        }
      }),
      { numRuns: 6 },
    );
  });
});

describe('a still span is one encoded picture and its exact repeats', () => {
  /** Parameter sets in the MP4's sample description (avcC): [SPS count, PPS count]. */
  const parameterSets = (file: Buffer): [number, number] => {
    const at = file.indexOf('avcC') + 4;
    const spsCount = file[at + 5] & 0x1f;
    let next = at + 6;
    for (let i = 0; i < spsCount; i++) next += 2 + file.readUInt16BE(next);
    return [spsCount, file[next]];
  };

  test("8 s of a picture with a caption from 3 s, then a one-frame scene: every frame an exact copy of its span's first, one keyframe per span", async () => {
    const picture = join(dir, 'testsrc.png');
    await ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=s=1280x720', '-frames:v', '1', picture]);
    const movie = {
      width: 1280,
      height: 720,
      fps: 25,
      scenes: [
        {
          id: 'photo',
          duration: 8,
          layers: [
            {
              id: 'picture',
              type: 'image',
              source: picture,
              position: { x: 0, y: 0 },
              size: { width: 1280, height: 720 },
            },
            { ...marker('caption', 75, 125, 25, 0), position: { x: 100, y: 600 }, size: { width: 400, height: 80 } },
          ],
        },
        { id: 'blink', duration: 0.04, bgColor: '#ff0000', layers: [] },
      ],
    };
    const { path, mediaData } = await render(movie, dir);
    assert.equal(mediaData.frames, 201);
    const digests = await videoFrameDigests(path);
    assert.equal(digests.length, 201);
    const spans: Array<[number, number]> = [
      [0, 75],
      [75, 200],
      [200, 201],
    ];
    for (const [from, to] of spans)
      assert.deepEqual(new Set(digests.slice(from, to)), new Set([digests[from]]), `frames ${from}-${to - 1}`);
    assert.equal(new Set(spans.map(([from]) => digests[from])).size, 3);
    const keyframes = (await videoPackets(path)).flatMap((p, i) => (p.keyframe ? [i] : []));
    assert.deepEqual(keyframes, [0, 75, 200]);
    assert.deepEqual(parameterSets(await readFile(path)), [1, 2]);
  });
});
