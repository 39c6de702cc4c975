// NTSC rates and gapless audio (issue 17, items 9 and 10): 29.97 means exactly 30000/1001, so
// the file says 30000/1001, frame n is at n x 1001/30000 s and the sound lasts as long as the
// picture; and every audio sample position comes from the movie's one clock, so back-to-back
// tracks meet to the sample at any fps (rounded each on its own, 1 join in 4 had a hole).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  ffmpegFrameDuration,
  ffmpegRate,
  fpsOfRate,
  frameAt,
  frameRate,
  frameSeconds,
  NTSC_FPS,
  sampleAt,
  sampleSpan,
  toFrames,
} from '../src/movie/index.ts';
import { normalizeMovie } from '../src/movie/index.ts';
import { renderFrame } from '../src/render/index.ts';
import { videoTimescale, frameTimescale } from '../src/render/encoder.ts';
import { startService, submitJob, waitForJob } from './service-helpers.ts';
import { decodeAudio, decodeFrames, ffmpeg, onsetAfter, probe, render, tempDir, videoTimestamps } from './helpers.ts';

const dir = await tempDir();
// a constant level: unlike a tone restarted by each track, it is continuous across a join, so
// a missing sample is a dip to 0 that survives AAC (seen as 0.03 where the level is 0.25)
const LEVEL = 0.25;
await ffmpeg([
  '-f',
  'lavfi',
  '-i',
  `aevalsrc=${LEVEL}|${LEVEL}:s=48000:d=3`,
  '-c:a',
  'pcm_s16le',
  join(dir, 'level.wav'),
]);

describe('the frame rate, exactly (pure)', () => {
  test('each NTSC rate is N x 1000/1001, written for ffmpeg as a fraction; whole rates as they are', () => {
    const written = NTSC_FPS.map((fps) => [fps, ffmpegRate(fps), ffmpegFrameDuration(fps)]);
    assert.deepEqual(written, [
      [23.976, '24000/1001', '1001/24000'],
      [29.97, '30000/1001', '1001/30000'],
      [47.952, '48000/1001', '1001/48000'],
      [59.94, '60000/1001', '1001/60000'],
      [119.88, '120000/1001', '1001/120000'],
    ]);
    assert.deepEqual(
      [ffmpegRate(30), ffmpegFrameDuration(30), ffmpegRate(7), ffmpegFrameDuration(7)],
      ['30', '1/30', '7', '1/7'],
    );
    assert.deepEqual(frameRate(29.97), { num: 30000, den: 1001 });
    assert.throws(() => frameRate(29.5), /29\.5 is neither a whole number nor one of 23\.976, 29\.97/);
  });

  test('a rate read back from a file is written as the movie writes it', () => {
    assert.equal(fpsOfRate(30000, 1001), 29.97);
    assert.equal(fpsOfRate(24000 * 2, 1001 * 2), 23.976);
    assert.equal(fpsOfRate(15360, 512), 30);
    assert.equal(fpsOfRate(25, 2), 12.5);
  });

  test('frame n is at n x 1001/N s; durations become frames by the same rounding as whole rates', () => {
    assert.equal(frameSeconds(30, 29.97), 1.001);
    assert.equal(frameSeconds(24000, 23.976), 1001);
    assert.equal(frameSeconds(45, 30), 1.5);
    assert.deepEqual(
      [toFrames(1, 29.97), toFrames(10, 29.97), toFrames(1.25, 23.976), toFrames(0.75, 119.88), toFrames(2.5, 30)],
      [30, 300, 30, 90, 75],
    );
    // the frame shown at a time: 1.001 s is frame 30 at 29.97, 1 s is still frame 29
    assert.deepEqual([frameAt(1.001, 29.97), frameAt(1, 29.97), frameAt(0.5, 30)], [30, 29, 15]);
  });

  test("the output's timescales are exact multiples of one frame", () => {
    assert.deepEqual([frameTimescale(30), videoTimescale(30)], [30, 15360]);
    assert.deepEqual([frameTimescale(29.97), videoTimescale(29.97)], [30000, 30000]);
    assert.deepEqual([frameTimescale(119.88), videoTimescale(119.88)], [120000, 120000]);
  });
});

describe('the audio clock (pure)', () => {
  test('S(n) = round(n x 48000 / fps), in whole numbers', () => {
    assert.deepEqual(
      [1, 2, 3, 4, 7].map((n) => sampleAt(n, 7, 48000)),
      [6857, 13714, 20571, 27429, 48000],
    );
    assert.deepEqual(
      [1, 2, 3, 5, 30].map((n) => sampleAt(n, 29.97, 48000)),
      [1602, 3203, 4805, 8008, 48048],
    );
    // ten hours in, at 59.94, still exact: 2,160,000 frames are 36,036 s
    assert.equal(sampleAt(2_160_000, 59.94, 48000), 36_036 * 48_000);
    assert.equal(sampleAt(2_160_001, 59.94, 48000), 36_036 * 48_000 + 801);
  });

  test('adjacent spans meet exactly at any fps, where lengths rounded on their own leave holes', () => {
    const rates = fc.constantFrom(...NTSC_FPS, 7, 24, 25, 30, 72, 90, 120);
    fc.assert(
      fc.property(rates, fc.nat(100_000), fc.nat(1000), fc.nat(1000), (fps, a, f, g) => {
        const first = sampleSpan(a, f, fps, 48000);
        const second = sampleSpan(a + f, g, fps, 48000);
        assert.equal(first.start + first.length, second.start);
        assert.equal(first.start, Math.round((a * 48000 * frameRate(fps).den) / frameRate(fps).num));
      }),
    );
    // what the old rule gave at 7 fps: a 2-frame track at frame 2 ended on 27428, the next began on 27429
    assert.equal(sampleAt(2, 7, 48000) + sampleAt(2, 7, 48000), 27428);
    assert.equal(sampleSpan(2, 2, 7, 48000).start + sampleSpan(2, 2, 7, 48000).length, 27429);
  });
});

describe('a movie at each NTSC rate (issue 17, item 9)', () => {
  for (const fps of NTSC_FPS) {
    const n = Math.round(fps * 1.001); // 24, 30, 48, 60, 120
    test(`${fps} fps is ${n}000/1001: the frames, their times, and sound as long as the picture`, async () => {
      // the test's own arithmetic: a scene of d seconds is round(d x N x 1000/1001) frames
      const first = Math.round((1.25 * n * 1000) / 1001);
      const total = first + Math.round((0.75 * n * 1000) / 1001);
      const movie = {
        width: 64,
        height: 36,
        fps,
        scenes: [
          { id: 'red', duration: 1.25, bgColor: '#ff0000' },
          {
            id: 'blue',
            duration: 0.75,
            bgColor: '#0000ff',
            layers: [{ id: 'sound', type: 'audio', source: 'level.wav' }],
          },
        ],
      };
      const { path, mediaData } = await render(movie, dir);
      assert.deepEqual([mediaData.fps, mediaData.frames], [fps, total]);

      const { video, audio } = await probe(path);
      assert.deepEqual([video.r_frame_rate, video.avg_frame_rate], [`${n}000/1001`, `${n}000/1001`]);
      assert.equal(Number(video.nb_read_frames), total);

      // frame k is at k x 1001/(N x 1000) s: pts / den x num, compared in whole numbers
      const { timeBase, pts } = await videoTimestamps(path);
      assert.equal(pts.length, total);
      const late = pts.map((p, k) => p * timeBase[0] * n * 1000 - k * 1001 * timeBase[1]).filter((d) => d !== 0);
      assert.deepEqual(late, [], `frame times in ${timeBase.join('/')}`);

      // the picture changes on exactly frame `first`
      const frames = await decodeFrames(path, 64, 36);
      assert.equal(frames.count, total);
      const blue = Array.from({ length: total }, (_, k) => frames.pixel(k, 32, 18)[2] > 200);
      assert.equal(blue.indexOf(true), first);
      assert.equal(blue.lastIndexOf(false), first - 1);

      // the sound starts with the blue scene, at sample round(first x 48000 x 1001/(N x 1000)),
      // and lasts as long as the picture to one AAC frame
      const samples = await decodeAudio(path);
      const joinSample = Math.round((first * 48000 * 1001) / (n * 1000));
      const onset = onsetAfter(samples, 0, LEVEL / 2)!;
      assert.ok(
        Math.abs(onset * 48000 - joinSample) <= 2,
        `sound from sample ${onset * 48000}, expected ${joinSample}`,
      );
      const pictureSamples = (total * 48000 * 1001) / (n * 1000);
      assert.ok(Math.abs(samples.length / 2 - pictureSamples) <= 1024, `${samples.length / 2} samples decoded`);
      assert.ok(Math.abs(Number(audio!.duration) - Number(video.duration)) <= 1024 / 48000);
    });
  }
});

describe('gapless audio at any fps (issue 17, item 10)', () => {
  // 20 scenes of 1 to 5 frames, each with its own audio track: the joins fall on every
  // fraction of a sample the rate has
  const sceneFrames = Array.from({ length: 20 }, (_, i) => 1 + ((i * 3) % 5));
  for (const fps of [7, 72, 90, 29.97]) {
    test(`at ${fps} fps, 20 back-to-back tracks meet with no sample missing at any join`, async () => {
      const { num, den } = frameRate(fps);
      const movie = {
        width: 32,
        height: 18,
        fps,
        scenes: sceneFrames.map((frames, i) => ({
          id: `s${i}`,
          duration: (frames * den) / num,
          layers: [{ id: 'sound', type: 'audio', source: 'level.wav' }],
        })),
      };
      const { path } = await render(movie, dir);
      const samples = await decodeAudio(path);
      let frame = 0;
      const dips: string[] = [];
      for (const frames of sceneFrames.slice(0, -1)) {
        frame += frames;
        // the join's sample by the rule, computed here: round(frame x 48000 / fps)
        const at = Math.round((frame * 48000 * den) / num);
        for (let k = at - 8; k < at + 8; k++)
          if (Math.min(samples[2 * k], samples[2 * k + 1]) < LEVEL * 0.8)
            dips.push(`frame ${frame} (sample ${at}): ${samples[2 * k].toFixed(3)} at sample ${k}`);
      }
      assert.deepEqual(dips, []);
      // and nowhere else (AAC's first and last frames aside)
      let low = 0;
      for (let k = 1024; k < samples.length / 2 - 1024; k++) if (samples[2 * k] < LEVEL * 0.8) low++;
      assert.equal(low, 0);
    });
  }
});

test('a long movie at 119.88 fps: 13,187 frames, each exactly 1001/120000 s', async () => {
  const { path, mediaData } = await render(
    { width: 16, height: 16, fps: 119.88, scenes: [{ id: 'long', duration: 110, bgColor: '#ff0000' }] },
    dir,
  );
  assert.equal(mediaData.frames, 13_187);
  const { timeBase, pts } = await videoTimestamps(path);
  const late = pts.filter((p, k) => p * timeBase[0] * 120_000 !== k * 1001 * timeBase[1]);
  assert.deepEqual(late, []);
});

test('a 29.97 video layer at 29.97 fps shows source frame k on its k-th frame, and `frame` shows the same', async () => {
  // 30 red frames, then 30 green, at 30000/1001
  const source = join(dir, 'red-green.mp4');
  const colour = (c: string) => `color=c=${c}:s=64x36:r=30000/1001,trim=end_frame=30`;
  await ffmpeg([
    '-filter_complex',
    `${colour('red')}[a];${colour('green')}[b];[a][b]concat=n=2`,
    '-c:v',
    'libx264',
    '-pix_fmt',
    'yuv420p',
    source,
  ]);
  const movie = {
    width: 64,
    height: 36,
    fps: 29.97,
    scenes: [
      { id: 'first', duration: 0.5, bgColor: '#0000ff' }, // 15 frames
      {
        id: 'second',
        duration: 2, // 60 frames
        bgColor: '#0000ff',
        // from its 15th frame (15 x 1001/30000 s): movie frames 30.. show source frames 0..
        layers: [{ id: 'clip', type: 'video', source: 'red-green.mp4', startTime: 0.5005 }],
      },
    ],
  };
  const { path } = await render(movie, dir);
  const frames = await decodeFrames(path, 64, 36);
  assert.equal(frames.count, 75);
  const seen = Array.from({ length: 75 }, (_, k) => {
    const [r, g, b] = frames.pixel(k, 32, 18);
    return b > 200 ? 'b' : r > 200 ? 'r' : g > 100 ? 'g' : '?';
  }).join('');
  assert.equal(seen, `${'b'.repeat(30)}${'r'.repeat(30)}${'g'.repeat(15)}`);

  // the frame shown at 2.002 s (frame 60) is the first green one; a moment before, the last red
  for (const [at, expected] of [
    [2.002, 'g'],
    [2.0015, 'r'],
  ] as const) {
    const png = join(dir, `at-${at}.png`);
    await renderFrame(normalizeMovie(movie, { allowLocalFiles: true, baseDir: dir }), { at, output: png });
    const [r, g] = (await decodeFrames(png, 64, 36)).pixel(0, 32, 18);
    assert.equal(r > 200 ? 'r' : g > 100 ? 'g' : '?', expected, `at ${at} s`);
  }
});

test('the service renders a 29.97 fps job, and its mediaData reads 29.97 back from the file', async () => {
  const svc = await startService();
  try {
    const t = await svc.tenant('pro');
    const movie = {
      width: 320,
      height: 180,
      fps: 29.97,
      scenes: [
        { id: 'intro', duration: 1, bgColor: '#1a1a2e' }, // 30 frames
        { id: 'outro', duration: 0.5, bgColor: '#e94560' }, // 15 frames
      ],
    };
    const jobId = await submitJob(svc, t.key, { kind: 'movie', projectId: t.projectId, movie });
    const job = await waitForJob(svc.url, t.key, jobId);
    assert.equal(job.status, 'done', JSON.stringify(job.error));
    assert.deepEqual(
      job.scenes.map((s: { frames: number }) => s.frames),
      [30, 15],
    );
    const { bytes: _bytes, ...media } = job.mediaData;
    assert.deepEqual(media, { duration: (45 * 1001) / 30000, width: 320, height: 180, fps: 29.97, frames: 45 });
  } finally {
    await svc.close();
  }
});
