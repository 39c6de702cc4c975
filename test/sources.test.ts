// Sources to the frame: video and audio read from every container Reelsmith accepts, cut at
// trimStart to the frame, with the source's picture and sound kept in step (streams that
// start at different times keep their offset). Each source is made here with ffmpeg: frame
// k carries k in binary as eight black/white blocks, and its sound is silent but for a beep
// that starts with frame 45 (1.5 s into the picture).
import assert from 'node:assert/strict';
import { basename, join } from 'node:path';
import { describe, test } from 'node:test';
import { decodeAudio, decodeFrames, ffmpeg, media, render, tempDir } from './helpers.ts';
import { probeMedia } from '../src/media/index.ts';

const W = 320;
const H = 64;
const FPS = 30;
const BEEP_FRAME = 45;
const dir = await tempDir();

/** Eight 40 px blocks, bit b of the frame number in block b (white = 1). */
const MARKED_FRAMES = `nullsrc=s=${W}x${H}:r=${FPS}:d=4,geq=lum='if(mod(floor(N/pow(2,floor(X/40))),2),235,16)':cb=128:cr=128,format=yuv420p`;
/** A 1 kHz beep `at` seconds into a 4 s silence. */
const beep = (at: number) => `aevalsrc='if(between(t,${at},${at + 0.1}),0.5*sin(2*PI*1000*(t-${at})),0)':s=48000:d=4`;

/** A source with marked frames and a beep on frame 45, its sound starting `audioDelay` s after its picture. */
async function markedSource(name: string, codecs: string[], audioDelay = 0): Promise<string> {
  const path = join(dir, name);
  const delay = audioDelay > 0 ? ['-itsoffset', String(audioDelay)] : [];
  await ffmpeg([
    '-f',
    'lavfi',
    '-i',
    MARKED_FRAMES,
    ...delay,
    '-f',
    'lavfi',
    '-i',
    beep(BEEP_FRAME / FPS - audioDelay),
    '-g',
    '60',
    ...codecs,
    '-shortest',
    path,
  ]);
  return path;
}

const H264_AAC = ['-c:v', 'libx264', '-preset', 'ultrafast', '-c:a', 'aac'];

/** The frame number a decoded frame carries. */
function markerOf(frames: Awaited<ReturnType<typeof decodeFrames>>, frame: number): number {
  let n = 0;
  for (let bit = 0; bit < 8; bit++) if (frames.pixel(frame, bit * 40 + 20, H / 2)[0] > 128) n |= 1 << bit;
  return n;
}

/** Seconds into decoded audio where the first beep starts. */
function onset(samples: Float32Array, from = 0): number {
  for (let i = Math.round(from * 48000) * 2; i < samples.length; i += 2)
    if (Math.abs(samples[i]) > 0.1) return i / 2 / 48000;
  return Infinity;
}

/**
 * The source's clock as its container tells it (seconds from its start): when its first
 * frame plays (then one every 1/30 s), and when its beep starts, read by ffmpeg alone: the
 * sound decoded on the file's own timestamps, silence put in from timestamp 0 on.
 */
async function sourceClock(path: string): Promise<{ videoStart: number; beep: number }> {
  const info = await probeMedia(path);
  const origin = info.start ?? 0;
  const sound = join(dir, `${basename(path)}.clock.wav`);
  await ffmpeg([
    '-copyts',
    '-i',
    path,
    '-map',
    '0:a:0',
    '-af',
    'aresample=async=1:first_pts=0',
    '-ar',
    '48000',
    '-ac',
    '2',
    sound,
  ]);
  return { videoStart: (info.video?.start ?? origin) - origin, beep: onset(await decodeAudio(sound)) - origin };
}

const TRIMS = [0.5, 1.0333];
const SCENE = 2;

/**
 * Renders one scene per trimStart, the source's video (with its sound) filling it, and
 * checks every scene: the first frame and every later one is the source frame nearest to
 * trimStart + n/30 on the source's clock, and the beep is heard when the source's clock
 * says (±1 ms), so it stays in step with the picture.
 */
async function checkTrims(source: string, options: { madeInStep?: boolean } = {}) {
  const { videoStart, beep: beepAt } = await sourceClock(source);
  if (options.madeInStep !== false) {
    // the clock as made, read independently of the render: the beep starts with frame 45
    assert.ok(
      Math.abs(beepAt - (videoStart + BEEP_FRAME / FPS)) <= 0.001,
      `the source's beep at ${beepAt} s, frame ${BEEP_FRAME} at ${videoStart + BEEP_FRAME / FPS} s`,
    );
  }
  const scenes = TRIMS.map((trimStart, i) => ({
    id: `trim${i}`,
    duration: SCENE,
    layers: [{ id: 'clip', type: 'video', source, trimStart, position: { x: 0, y: 0 }, size: { width: W, height: H } }],
  }));
  const { path } = await render({ width: W, height: H, fps: FPS, scenes }, dir);
  const frames = await decodeFrames(path, W, H);
  assert.equal(frames.count, TRIMS.length * SCENE * FPS);
  const audio = await decodeAudio(path);
  TRIMS.forEach((trimStart, i) => {
    const sceneStart = i * SCENE;
    const expected = (n: number) => Math.round((trimStart + n / FPS - videoStart) * FPS);
    const shown = Array.from({ length: SCENE * FPS }, (_, n) => markerOf(frames, sceneStart * FPS + n));
    assert.equal(
      shown[0],
      expected(0),
      `trimStart ${trimStart}: the first frame shown is source frame ${expected(0)} (shows ${shown[0]})`,
    );
    assert.deepEqual(
      shown,
      shown.map((_, n) => expected(n)),
      `trimStart ${trimStart}: every frame`,
    );
    const heard = onset(audio, sceneStart);
    const due = sceneStart + beepAt - trimStart;
    assert.ok(
      Math.abs(heard - due) <= 0.001,
      `trimStart ${trimStart}: the beep at ${heard.toFixed(4)} s, due at ${due.toFixed(4)} s`,
    );
  });
}

describe('trimStart to the frame, picture and sound in step', { timeout: 300_000 }, () => {
  test('MP4', async () => checkTrims(await markedSource('marked.mp4', H264_AAC)));
  test('MOV', async () => checkTrims(await markedSource('marked.mov', H264_AAC)));
  test('MKV', async () => checkTrims(await markedSource('marked.mkv', H264_AAC)));
  // the WebM muxer shifts Opus (its pre-skip) against the picture, so the container's clock is the truth to keep
  test('WebM', async () =>
    checkTrims(await markedSource('marked.webm', ['-c:v', 'libvpx', '-b:v', '1M', '-c:a', 'libopus']), {
      madeInStep: false,
    }));
  test('MPEG-TS whose sound starts 0.2 s after its picture', async () =>
    checkTrims(await markedSource('marked.ts', H264_AAC, 0.2)));
  test('MP4 whose sound starts 0.48 s after its picture', async () =>
    checkTrims(await markedSource('late-sound.mp4', H264_AAC, 0.48)));
});

/** Renders a silent scene with one audio layer of `source` (from `startTime`, cut at trimStart); the beep's time in the movie and when it was due. */
async function beepOf(source: string, trimStart: number, startTime: number): Promise<{ heard: number; due: number }> {
  const { beep: beepAt } = await sourceClock(source);
  const movie = {
    width: W,
    height: H,
    fps: FPS,
    scenes: [{ id: 's', duration: 2, layers: [{ id: 'sound', type: 'audio', source, trimStart, startTime }] }],
  };
  const { path } = await render(movie, dir);
  return { heard: onset(await decodeAudio(path)), due: startTime + beepAt - trimStart };
}

describe('sound-only layers', { timeout: 300_000 }, () => {
  test('an MP3 with cover art plays as an audio layer, cut at trimStart to the sample', async () => {
    const path = join(dir, 'covered.mp3');
    const cover = await media.png(join(dir, 'cover.png'), 'red', 64, 64);
    await ffmpeg([
      '-f',
      'lavfi',
      '-i',
      beep(1.5),
      '-i',
      cover,
      '-map',
      '0:a',
      '-map',
      '1:v',
      '-c:a',
      'libmp3lame',
      '-c:v',
      'png',
      '-disposition:v',
      'attached_pic',
      '-id3v2_version',
      '3',
      path,
    ]);
    assert.equal((await probeMedia(path)).video, undefined, 'the cover is not a video');
    const { heard, due } = await beepOf(path, 0.5, 0.2);
    assert.ok(Math.abs(heard - due) <= 0.001, `the beep at ${heard.toFixed(4)} s, due at ${due.toFixed(4)} s`);
  });

  test('an MPEG-TS plays as an audio layer, cut at trimStart to the sample', async () => {
    const { heard, due } = await beepOf(await markedSource('sound.ts', H264_AAC, 0.2), 1.0333, 0.1);
    assert.ok(Math.abs(heard - due) <= 0.001, `the beep at ${heard.toFixed(4)} s, due at ${due.toFixed(4)} s`);
  });
});

test('a looping video wraps round to its first frame, cut at trimStart', { timeout: 120_000 }, async () => {
  const short = join(dir, 'second.mp4');
  await ffmpeg(['-f', 'lavfi', '-i', MARKED_FRAMES, '-t', '1', '-c:v', 'libx264', '-preset', 'ultrafast', short]);
  const layer = {
    id: 'loop',
    type: 'video',
    source: short,
    trimStart: 0.5,
    loop: true,
    position: { x: 0, y: 0 },
    size: { width: W, height: H },
  };
  const { path } = await render(
    { width: W, height: H, fps: FPS, scenes: [{ id: 's', duration: 2.5, layers: [layer] }] },
    dir,
  );
  const frames = await decodeFrames(path, W, H);
  const shown = Array.from({ length: frames.count }, (_, n) => markerOf(frames, n));
  assert.deepEqual(
    shown,
    shown.map((_, n) => (15 + n) % 30),
  );
});
