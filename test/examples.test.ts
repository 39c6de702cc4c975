// The seed's two example requests, as shipped in examples/, render through the CLI the
// way the README tells a new user to, and match their expected layout and sound.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { test } from 'node:test';
import { decodeAudio, decodeFrames, levelDb, listFiles, near, probe, tempDir } from './helpers.ts';

const exec = promisify(execFile);
const root = join(import.meta.dirname, '..');
const dir = await tempDir();

async function cli(...args: string[]) {
  return exec(process.execPath, [join(root, 'bin/reelsmith.js'), ...args], { cwd: root });
}

test('the minimal example: 5 s of centred bold white text on #1a1a2e', async () => {
  const out = join(dir, 'hello.mp4');
  const { stdout } = await cli('render', 'examples/hello.json', '-o', out);
  assert.match(stdout, /1920x1080 30 fps, 150 frames, 5\.000 s/);
  const info = await probe(out);
  assert.equal(info.video.codec_name, 'h264');
  assert.equal(info.video.profile, 'High');
  assert.equal(info.video.pix_fmt, 'yuv420p');
  assert.equal(Number(info.video.nb_read_frames), 150);
  assert.equal(info.audio?.codec_name, 'aac');
  assert.equal(info.audio?.sample_rate, '48000');
  assert.equal(info.audio?.channels, 2);
  const f = await decodeFrames(out, 1920, 1080, [0, 149]);
  for (const n of [0, 149]) {
    assert.ok(near(f.pixel(n, 100, 100), [0x1a, 0x1a, 0x2e], 6), 'background colour');
    let lit = 0;
    let outside = 0;
    for (let y = 380; y < 700; y += 2) {
      for (let x = 300; x < 1620; x += 2) {
        if (f.pixel(n, x, y)[0] < 200) continue;
        if (x >= 360 && x < 1560 && y >= 460 && y < 620) lit++;
        else outside++;
      }
    }
    assert.ok(lit > 1000, `frame ${n}: text drawn in its box (${lit})`);
    assert.equal(outside, 0, `frame ${n}: no text outside its box`);
  }
});

test('the full example: video at 0.65, logo, title, CTA scene, music at 0.35 for 6 s', async () => {
  const out = join(dir, 'promo.mp4');
  await cli('render', 'examples/summer-promo.json', '-o', out, '--quiet');
  const info = await probe(out);
  assert.equal(Number(info.video.nb_read_frames), 300);
  assert.equal(Number(info.video.duration), 10);
  assert.ok(Math.abs(Number(info.audio!.duration) - 10) <= 1 / 30);
  // frame 10 (0.33 s): no logo yet; 30: logo; 45: title; 200: CTA scene
  const f = await decodeFrames(out, 1920, 1080, [10, 30, 45, 200]);
  const logoInk = (n: number) => {
    let white = 0;
    for (let y = 60; y < 120; y += 2)
      for (let x = 80; x < 280; x += 2) if (f.pixel(n, x, y).every((c) => c > 235)) white++;
    return white;
  };
  assert.equal(logoInk(10), 0, 'logo absent before 0.5 s');
  assert.ok(logoInk(30) > 50, 'logo present at 1 s');
  // the testsrc2 footage at 0.65 over black never reaches full white; the title's text does
  let title = 0;
  for (let y = 400; y < 600; y += 2)
    for (let x = 200; x < 1720; x += 2) if (f.pixel(45, x, y).every((c) => c > 235)) title++;
  assert.ok(title > 500, `title drawn at 1.5 s (${title})`);
  assert.ok(near(f.pixel(200, 100, 100), [0x0f, 0x17, 0x2a], 6), 'CTA scene background');
  let cta = 0;
  for (let y = 460; y < 620; y += 2)
    for (let x = 360; x < 1560; x += 2) if (near(f.pixel(200, x, y), [0x00, 0xd4, 0xff], 40)) cta++;
  assert.ok(cta > 200, `cyan CTA text drawn (${cta})`);

  const audio = await decodeAudio(out);
  assert.ok(levelDb(audio, 0.2, 5.8) > -40, 'music plays in the opening scene');
  assert.ok(levelDb(audio, 6.1, 9.9) < -60, 'the CTA scene is silent (the video is muted)');
  assert.deepEqual(
    (await listFiles(dir)).filter((n) => n.includes('partial')),
    [],
  );
});

test('frame --at 7.5 is the frame the video shows at 7.5 s', async () => {
  const video = join(dir, 'promo-for-frame.mp4');
  await cli('render', 'examples/summer-promo.json', '-o', video, '--quiet');
  const png = join(dir, 'at-7.5.png');
  const { stdout } = await cli('frame', 'examples/summer-promo.json', '--at', '7.5', '-o', png);
  assert.match(stdout, /frame 225 \(scene "scene_cta"\)/);
  const still = await decodeFrames(png, 1920, 1080);
  const moving = await decodeFrames(video, 1920, 1080, [225]);
  let diff = 0;
  let samples = 0;
  for (let y = 0; y < 1080; y += 8) {
    for (let x = 0; x < 1920; x += 8) {
      const a = still.pixel(0, x, y);
      const b = moving.pixel(225, x, y);
      diff += Math.abs(a[0] - b[0]) + Math.abs(a[1] - b[1]) + Math.abs(a[2] - b[2]);
      samples += 3;
    }
  }
  assert.ok(
    diff / samples < 3,
    `mean difference ${(diff / samples).toFixed(2)} per channel (only H.264 compression apart)`,
  );
});

test('doctor names the ffmpeg and ffprobe in use and the bundled font', async () => {
  const { stdout } = await cli('doctor');
  assert.match(stdout, /^ffmpeg\s+\S+ \(from (env|PATH|npm)\): ffmpeg version/m);
  assert.match(stdout, /^ffprobe\s+\S+ \(from (env|PATH|npm)\): ffprobe version/m);
  assert.match(stdout, /libx264\s+yes/);
  assert.match(stdout, /Inter/);
});
