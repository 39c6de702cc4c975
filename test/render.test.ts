// The engine's output, decoded and looked at: frame counts, colours, timing, layering,
// opacity, fitting, text placement, audio levels.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  decodeAudio,
  decodeFrames,
  levelDb,
  maxStep,
  media,
  near,
  probe,
  render,
  tempDir,
  type Rgb,
} from './helpers.ts';

const W = 320;
const H = 180;
const dir = await tempDir();

const scene = (id: string, duration: number, bgColor: string, layers: unknown[] = []) => ({
  id,
  duration,
  bgColor,
  layers,
});
const box = (x: number, y: number, width: number, height: number) => ({ position: { x, y }, size: { width, height } });

describe('timing', () => {
  test('frame count, duration and background colour are exact per scene and in total', async () => {
    const movie = {
      width: W,
      height: H,
      fps: 30,
      scenes: [scene('a', 1.5, '#ff0000'), scene('b', 0.7, '#00ff00'), scene('c', 2, '#0000ff')],
    };
    const { path, mediaData } = await render(movie, dir);
    const info = await probe(path);
    assert.equal(Number(info.video.nb_read_frames), 45 + 21 + 60);
    assert.equal(mediaData.frames, 126);
    assert.equal(Number(info.video.duration), 4.2);
    assert.equal(info.video.r_frame_rate, '30/1');
    assert.ok(Math.abs(Number(info.audio!.duration) - 4.2) <= 1 / 30, `audio ${info.audio!.duration} s`);
    const frames = await decodeFrames(path, W, H);
    assert.equal(frames.count, 126);
    const expect: Array<[number, Rgb]> = [
      [0, [255, 0, 0]],
      [44, [255, 0, 0]],
      [45, [0, 255, 0]],
      [65, [0, 255, 0]],
      [66, [0, 0, 255]],
      [125, [0, 0, 255]],
    ];
    for (const [frame, colour] of expect) {
      assert.ok(
        near(frames.pixel(frame, W / 2, H / 2), colour, 8),
        `frame ${frame}: ${frames.pixel(frame, W / 2, H / 2)} should be ${colour}`,
      );
    }
  });

  test('a layer is visible exactly on its frames, absent one frame before and after', async () => {
    const png = await media.png(join(dir, 'white.png'), 'white', 16, 16);
    // 0.4 s at 25 fps = frame 10; ends at 1.2 s = frame 30 (exclusive)
    const movie = {
      width: W,
      height: H,
      fps: 25,
      scenes: [
        scene('s', 2, '#000000', [
          { id: 'sq', type: 'image', source: png, startTime: 0.4, duration: 0.8, ...box(100, 50, 40, 40) },
        ]),
      ],
    };
    const { path } = await render(movie, dir);
    const frames = await decodeFrames(path, W, H);
    assert.equal(frames.count, 50);
    const lit = (f: number) => frames.pixel(f, 120, 70)[0] > 200;
    assert.equal(lit(9), false, 'frame 9 is before the layer');
    assert.equal(lit(10), true, 'frame 10 is the first');
    assert.equal(lit(29), true, 'frame 29 is the last');
    assert.equal(lit(30), false, 'frame 30 is after the layer');
  });

  test('a layer on a video background appears on its exact frames too', async () => {
    const bg = await media.video(join(dir, 'grey.mp4'), '#404040', W, H, 2, { silent: true });
    const png = await media.png(join(dir, 'white2.png'), 'white', 16, 16);
    const movie = {
      width: W,
      height: H,
      fps: 30,
      scenes: [
        scene('s', 2, '#000000', [
          { id: 'bg', type: 'video', source: bg, ...box(0, 0, W, H) },
          { id: 'sq', type: 'image', source: png, startTime: 0.5, duration: 0.5, zIndex: 1, ...box(100, 50, 40, 40) },
        ]),
      ],
    };
    const { path } = await render(movie, dir);
    // frames [15, 30)
    const frames = await decodeFrames(path, W, H, [14, 15, 29, 30]);
    assert.ok(near(frames.pixel(14, 120, 70), [64, 64, 64], 10), 'video shows before the layer');
    assert.ok(frames.pixel(15, 120, 70)[0] > 200, 'layer on its first frame');
    assert.ok(frames.pixel(29, 120, 70)[0] > 200, 'layer on its last frame');
    assert.ok(near(frames.pixel(30, 120, 70), [64, 64, 64], 10), 'video shows after the layer');
  });
});

describe('compositing', () => {
  test('higher zIndex is on top; ties keep array order', async () => {
    const red = await media.png(join(dir, 'red.png'), 'red', 8, 8);
    const green = await media.png(join(dir, 'green.png'), 'lime', 8, 8);
    const blue = await media.png(join(dir, 'blue.png'), 'blue', 8, 8);
    const movie = {
      width: W,
      height: H,
      scenes: [
        scene('s', 0.5, '#000000', [
          { id: 'top', type: 'image', source: red, zIndex: 5, ...box(0, 0, 100, 100) },
          { id: 'bottom', type: 'image', source: green, zIndex: 1, ...box(50, 50, 100, 100) },
          { id: 'tie-first', type: 'image', source: blue, zIndex: 7, ...box(200, 0, 60, 60) },
          { id: 'tie-second', type: 'image', source: green, zIndex: 7, ...box(230, 30, 60, 60) },
        ]),
      ],
    };
    const { path } = await render(movie, dir);
    const frames = await decodeFrames(path, W, H, [0]);
    assert.ok(near(frames.pixel(0, 75, 75), [255, 0, 0], 8), 'red (zIndex 5) covers green (zIndex 1)');
    assert.ok(near(frames.pixel(0, 120, 120), [0, 255, 0], 8), 'green outside the overlap');
    assert.ok(near(frames.pixel(0, 245, 45), [0, 255, 0], 8), 'the later of two equal zIndex layers is on top');
  });

  test('opacity 0.65 blends with what is below', async () => {
    const white = await media.png(join(dir, 'w.png'), 'white', 8, 8);
    const movie = {
      width: W,
      height: H,
      scenes: [
        scene('s', 0.5, '#000000', [
          { id: 'w', type: 'image', source: white, transform: { opacity: 0.65 }, ...box(0, 0, 100, 100) },
        ]),
      ],
    };
    const { path } = await render(movie, dir);
    const [r] = (await decodeFrames(path, W, H, [0])).pixel(0, 50, 50);
    assert.ok(Math.abs(r - 0.65 * 255) <= 8, `expected about ${0.65 * 255}, got ${r}`);
  });

  test('images are fitted into their box: fill, contain, cover', async () => {
    // 160x80: the left quarter red, the rest blue
    const img = join(dir, 'quarter.png');
    const { ffmpeg } = await import('./helpers.ts');
    await ffmpeg([
      '-f',
      'lavfi',
      '-i',
      'color=c=blue:s=160x80',
      '-vf',
      'drawbox=x=0:y=0:w=40:h=80:c=red:t=fill',
      '-frames:v',
      '1',
      img,
    ]);
    const layer = (id: string, fit: string, x: number) => ({
      id,
      type: 'image',
      source: img,
      fit,
      ...box(x, 40, 80, 80),
    });
    const movie = {
      width: W,
      height: H,
      scenes: [
        scene('s', 0.5, '#00ff00', [
          layer('fill', 'fill', 0),
          layer('contain', 'contain', 100),
          layer('cover', 'cover', 200),
        ]),
      ],
    };
    const { path } = await render(movie, dir);
    const f = await decodeFrames(path, W, H, [0]);
    const px = (x: number, y: number) => f.pixel(0, x, y);
    // fill squeezes 160x80 into 80x80: red on x 0..20, blue after, top to bottom
    assert.ok(
      near(px(8, 45), [255, 0, 0], 12) && near(px(8, 115), [255, 0, 0], 12) && near(px(60, 80), [0, 0, 255], 12),
      'fill',
    );
    // contain scales to 80x40 centred: background above and below, red then blue in the band
    assert.ok(
      near(px(140, 45), [0, 255, 0], 12) && near(px(140, 115), [0, 255, 0], 12),
      'contain leaves the background showing',
    );
    assert.ok(near(px(105, 80), [255, 0, 0], 12) && near(px(160, 80), [0, 0, 255], 12), 'contain keeps the picture');
    // cover scales to 160x80 and crops the middle 80: all blue
    assert.ok(near(px(203, 45), [0, 0, 255], 12) && near(px(277, 115), [0, 0, 255], 12), 'cover crops to the middle');
  });

  test('a video is fitted into its box and only inside it', async () => {
    const clip = await media.video(join(dir, 'yellow.mp4'), 'yellow', 64, 64, 1, { silent: true });
    const movie = {
      width: W,
      height: H,
      scenes: [scene('s', 1, '#000000', [{ id: 'v', type: 'video', source: clip, ...box(40, 20, 120, 90) }])],
    };
    const { path } = await render(movie, dir);
    const f = await decodeFrames(path, W, H, [0, 29]);
    for (const n of [0, 29]) {
      assert.ok(
        near(f.pixel(n, 45, 25), [255, 255, 0], 12) && near(f.pixel(n, 155, 105), [255, 255, 0], 12),
        `frame ${n}: box filled`,
      );
      assert.ok(
        near(f.pixel(n, 35, 25), [0, 0, 0], 12) &&
          near(f.pixel(n, 165, 105), [0, 0, 0], 12) &&
          near(f.pixel(n, 100, 115), [0, 0, 0], 12),
        `frame ${n}: nothing outside`,
      );
    }
  });
});

describe('text', () => {
  const textMovie = (textAlign: string) => ({
    width: W,
    height: H,
    scenes: [
      scene('s', 0.5, '#000000', [
        {
          id: 't',
          type: 'text',
          text: 'Hi',
          textAlign,
          fontSize: 40,
          fontWeight: 'bold',
          color: '#ffffff',
          ...box(40, 40, 240, 100),
        },
      ]),
    ],
  });

  async function litColumns(textAlign: string) {
    const { path } = await render(textMovie(textAlign), dir);
    const f = await decodeFrames(path, W, H, [0]);
    const lit: Array<[number, number]> = [];
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) if (f.pixel(0, x, y)[0] > 128) lit.push([x, y]);
    return lit;
  }

  for (const [align, check] of [
    ['left', (cx: number) => cx < 100],
    ['center', (cx: number) => Math.abs(cx - 160) < 12],
    ['right', (cx: number) => cx > 220],
  ] as const) {
    test(`text pixels stay in the box and sit ${align}`, async () => {
      const lit = await litColumns(align);
      assert.ok(lit.length > 100, 'text was drawn');
      assert.ok(
        lit.every(([x, y]) => x >= 40 && x < 280 && y >= 40 && y < 140),
        'no text pixel outside the box',
      );
      const cx = lit.reduce((s, [x]) => s + x, 0) / lit.length;
      const cy = lit.reduce((s, [, y]) => s + y, 0) / lit.length;
      assert.ok(check(cx), `horizontal centre ${cx}`);
      assert.ok(Math.abs(cy - 90) < 12, `vertically centred: ${cy}`);
    });
  }
});

describe('audio', () => {
  test('audio plays on its seconds, silence elsewhere, volume lowers it', async () => {
    const tone = await media.tone(join(dir, 'tone.wav'), 3);
    const movie = {
      width: W,
      height: H,
      scenes: [
        scene('a', 2, '#000000', [{ id: 'loud', type: 'audio', source: tone, startTime: 0.5, duration: 1 }]),
        scene('b', 2, '#000000', [
          { id: 'quiet', type: 'audio', source: tone, startTime: 0.5, duration: 1, volume: 0.35 },
        ]),
      ],
    };
    const { path } = await render(movie, dir);
    const audio = await decodeAudio(path);
    assert.ok(levelDb(audio, 0, 0.45) < -60, 'silent before the first layer');
    const loud = levelDb(audio, 0.6, 1.4);
    assert.ok(loud > -25, `first layer audible: ${loud} dB`);
    assert.ok(levelDb(audio, 1.55, 2.45) < -60, 'silent between');
    const quiet = levelDb(audio, 2.6, 3.4);
    // 20 log10(0.35) = -9.1 dB
    assert.ok(Math.abs(loud - quiet - 9.1) < 1, `volume 0.35 is 9.1 dB lower: ${loud} vs ${quiet}`);
    assert.ok(levelDb(audio, 3.55, 4) < -60, 'silent after');
  });

  test('a muted video contributes nothing; an unmuted one is heard', async () => {
    const clip = await media.video(join(dir, 'noisy.mp4'), 'gray', 64, 64, 1);
    const movie = {
      width: W,
      height: H,
      scenes: [
        scene('muted', 1, '#000000', [{ id: 'v', type: 'video', source: clip, mute: true, ...box(0, 0, 64, 64) }]),
        scene('heard', 1, '#000000', [{ id: 'v', type: 'video', source: clip, ...box(0, 0, 64, 64) }]),
      ],
    };
    const { path } = await render(movie, dir);
    const audio = await decodeAudio(path);
    assert.ok(levelDb(audio, 0.05, 0.95) < -60, 'muted scene is silent');
    assert.ok(levelDb(audio, 1.1, 1.9) > -30, 'unmuted scene is heard');
  });

  test('no gap or click where scenes join', async () => {
    // 440 Hz completes whole cycles in 1 s, so a tone restarted in the next scene continues smoothly
    const tone = await media.tone(join(dir, 'join.wav'), 1);
    const layer = { id: 'tone', type: 'audio', source: tone };
    const movie = {
      width: W,
      height: H,
      scenes: [scene('a', 1, '#000000', [layer]), scene('b', 1, '#000000', [layer]), scene('c', 1, '#000000', [layer])],
    };
    const { path } = await render(movie, dir);
    const audio = await decodeAudio(path);
    const steady = maxStep(audio, 0.2, 0.8);
    for (const join of [1, 2]) {
      const around = levelDb(audio, join - 0.02, join + 0.02);
      assert.ok(Math.abs(around - levelDb(audio, 0.2, 0.8)) < 1, `level holds across the join at ${join} s`);
      assert.ok(maxStep(audio, join - 0.01, join + 0.01) < steady * 1.5, `no click at ${join} s`);
    }
  });
});

describe('fonts and frames', () => {
  const fontFile = join(import.meta.dirname, '../node_modules/@fontsource/inter/files/inter-latin-900-normal.woff2');

  test('a text layer with fontUrl draws with that font; a file that is no font fails naming the layer', async () => {
    const layer = {
      id: 'custom',
      type: 'text',
      text: 'Hi',
      fontUrl: fontFile,
      fontFamily: 'Heavy',
      fontSize: 60,
      ...box(40, 40, 240, 100),
    };
    const { path } = await render({ width: W, height: H, scenes: [scene('s', 0.5, '#000000', [layer])] }, dir);
    const f = await decodeFrames(path, W, H, [0]);
    let lit = 0;
    for (let y = 40; y < 140; y++) for (let x = 40; x < 280; x++) if (f.pixel(0, x, y)[0] > 128) lit++;
    assert.ok(lit > 300, `text drawn with the custom font (${lit} pixels)`);

    const notFont = await media.png(join(dir, 'not-a-font.png'), 'red', 8, 8);
    await assert.rejects(
      render({ width: W, height: H, scenes: [scene('s', 0.5, '#000000', [{ ...layer, fontUrl: notFont }])] }, dir),
      (err: Error) => {
        assert.match(err.message, /layer "custom" \(movie\.scenes\[0\]\.layers\[0\]\).*not-a-font\.png: is not a font/);
        return true;
      },
    );
  });

  test('frame shows what the video shows after a short clip ends: its last frame held', async () => {
    const clip = await media.video(join(dir, 'short-red.mp4'), 'red', 64, 64, 0.5, { silent: true });
    const movie = {
      width: W,
      height: H,
      scenes: [scene('s', 2, '#0000ff', [{ id: 'clip', type: 'video', source: clip, ...box(0, 0, W, H) }])],
    };
    const { path } = await render(movie, dir);
    const video = await decodeFrames(path, W, H, [45]);
    assert.ok(
      near(video.pixel(45, 160, 90), [255, 0, 0], 12),
      `video at 1.5 s holds the clip's last frame: ${video.pixel(45, 160, 90)}`,
    );
    const { renderFrame } = await import('../src/render/index.ts');
    const { normalizeMovie } = await import('../src/movie/index.ts');
    const png = join(dir, 'held.png');
    await renderFrame(normalizeMovie(movie, { allowLocalFiles: true }), { at: 1.5, output: png });
    const still = await decodeFrames(png, W, H);
    assert.ok(
      near(still.pixel(0, 160, 90), video.pixel(45, 160, 90), 12),
      `frame --at 1.5 matches the video: ${still.pixel(0, 160, 90)}`,
    );
  });
});

test('forty audio layers mix into one track (summed in groups)', async () => {
  const tone = await media.tone(join(dir, 'short-tone.wav'), 0.2);
  const layers = Array.from({ length: 40 }, (_, i) => ({
    id: `a${i}`,
    type: 'audio',
    source: tone,
    startTime: i * 0.05,
    duration: 0.2,
    volume: 0.1,
  }));
  const { path } = await render({ width: W, height: H, scenes: [scene('s', 2.5, '#000000', layers)] }, dir);
  const audio = await decodeAudio(path);
  assert.ok(levelDb(audio, 0.1, 2) > -40, 'the tracks are heard');
  assert.ok(levelDb(audio, 2.3, 2.5) < -60, 'silent after the last one ends');
});
