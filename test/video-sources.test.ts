// Sources shown as players show them (issue 17, items 6, 7, 8 and 13): video alpha (VP8/VP9
// WebM through libvpx, ProRes 4444, QTRLE and PNG in MOV, GIF and APNG), PQ and HLG tone-mapped
// to SDR with a warning, interlaced sources deinterlaced, animated pictures as video layers
// (their own timing, looping) and as image layers (their first frame). Every source is made
// here with ffmpeg, rendered by the engine, decoded and compared by numbers.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { animatedWebp, decodeFrames, ffmpeg, near, render, tempDir, type Rgb } from './helpers.ts';

const dir = await tempDir();
const at = (name: string) => join(dir, name);

const BLUE: Rgb = [0, 0, 255];
const RED: Rgb = [255, 0, 0];
const GREEN: Rgb = [0, 255, 0];

/** 64x48 RGBA: the left half opaque red, the right half green at alpha 0 (a dropped alpha shows green). */
const HALF_TRANSPARENT =
  "color=c=black:s=64x48:r=10:d=1,format=rgba,geq=r='255*lt(X,32)':g='255*gte(X,32)':b=0:a='255*lt(X,32)'";

/** Alpha sources: each as the tool that writes it writes it. */
const ALPHA_SOURCES: Array<[string, string[]]> = [
  ['vp9.webm', ['-c:v', 'libvpx-vp9', '-pix_fmt', 'yuva420p', '-auto-alt-ref', '0', '-b:v', '1M']],
  ['vp8.webm', ['-c:v', 'libvpx', '-pix_fmt', 'yuva420p', '-auto-alt-ref', '0', '-b:v', '1M']],
  ['prores4444.mov', ['-c:v', 'prores_ks', '-profile:v', '4444', '-pix_fmt', 'yuva444p10le']],
  ['qtrle.mov', ['-c:v', 'qtrle', '-pix_fmt', 'argb']],
  ['png.mov', ['-c:v', 'png', '-pix_fmt', 'rgba']],
];

const scene = (layers: unknown[], duration = 1, bgColor = '#0000ff') => ({ id: 's', duration, bgColor, layers });
const video = (id: string, source: string, x: number, y: number, width: number, height: number, extra = {}) => ({
  id,
  type: 'video',
  source,
  position: { x, y },
  size: { width, height },
  mute: true,
  ...extra,
});

describe('video alpha', () => {
  test('transparent areas of VP9/VP8 WebM, ProRes 4444, QTRLE and PNG in MOV show what is below', async () => {
    for (const [name, args] of ALPHA_SOURCES) await ffmpeg(['-f', 'lavfi', '-i', HALF_TRANSPARENT, ...args, at(name)]);
    // each source in its own 64x48 box, in a row; with a contain box too (alpha through the pad)
    const layers = ALPHA_SOURCES.map(([name], i) => video(name, name, i * 64, 0, 64, 48));
    layers.push(video('contain', 'vp9.webm', 0, 48, 64, 96, { fit: 'contain' }));
    const { path } = await render({ width: 320, height: 144, fps: 10, scenes: [scene(layers)] }, dir);
    const frames = await decodeFrames(path, 320, 144, [5]);
    for (const [i, [name]] of ALPHA_SOURCES.entries()) {
      const opaque = frames.pixel(5, i * 64 + 12, 24);
      const clear = frames.pixel(5, i * 64 + 52, 24);
      assert.ok(near(opaque, RED), `${name}: opaque half ${opaque}`);
      assert.ok(near(clear, BLUE), `${name}: transparent half ${clear} (the background, not green)`);
    }
    // contain: 64x48 into 64x96 sits at y 24..72 of the box; its transparent half, and the pad, show blue
    assert.ok(near(frames.pixel(5, 12, 48 + 48), RED));
    assert.ok(near(frames.pixel(5, 52, 48 + 48), BLUE));
    assert.ok(near(frames.pixel(5, 12, 48 + 8), BLUE));
  });
});

/** 64x32: left half red, right half 50 % grey (128), as SDR RGB. */
const RED_AND_GREY = 'color=c=red:s=64x32:r=10:d=1,format=rgb24,drawbox=x=32:w=32:h=32:c=0x808080:t=fill';

/**
 * A 10-bit HEVC BT.2020 clip made from SDR colours with `transfer` (SDR white at the
 * HDR reference white of 203 cd/m², ITU-R BT.2408), tagged so.
 */
async function hdrClip(name: string, transfer: 'smpte2084' | 'arib-std-b67'): Promise<string> {
  const toHdr = `format=gbrp,zscale=tin=bt709:pin=bt709:min=gbr:rin=pc:t=${transfer}:p=bt2020:m=bt2020nc:r=tv:npl=203,format=yuv420p10le`;
  const tags = ['-color_trc', transfer, '-color_primaries', 'bt2020', '-colorspace', 'bt2020nc', '-color_range', 'tv'];
  await ffmpeg([
    '-f',
    'lavfi',
    '-i',
    RED_AND_GREY,
    '-vf',
    toHdr,
    '-c:v',
    'libx265',
    '-x265-params',
    'log-level=error',
    ...tags,
    at(name),
  ]);
  return name;
}

describe('HDR sources', () => {
  // Grey is below the tone curve's knee, so it comes back as it was, within the 10-bit and
  // 4:2:0 round trip (measured 124..130). SDR white is above it: the curve keeps headroom for
  // highlights up to the PQ peak, so pure red comes back at 237..239 (255 with no headroom at all).
  // Read by matrix only, they came out (117,69,46) and 90.
  test('PQ and HLG BT.2020 are tone-mapped to BT.709 SDR: red and 50 % grey close to the originals, with a warning', async () => {
    const pq = await hdrClip('pq.mkv', 'smpte2084');
    const hlg = await hdrClip('hlg.mkv', 'arib-std-b67');
    const movie = {
      width: 64,
      height: 64,
      fps: 10,
      scenes: [scene([video('bg', pq, 0, 0, 64, 32), video('clip', hlg, 0, 32, 64, 32)])],
    };
    const { path, warnings } = await render(movie, dir);
    assert.deepEqual(warnings, [
      'layer "bg" (movie.scenes[0].layers[0]): HDR (PQ, BT.2020) tone-mapped to SDR BT.709',
      'layer "clip" (movie.scenes[0].layers[1]): HDR (HLG, BT.2020) tone-mapped to SDR BT.709',
    ]);
    const frames = await decodeFrames(path, 64, 64, [5]);
    for (const y of [16, 48]) {
      const red = frames.pixel(5, 12, y);
      const grey = frames.pixel(5, 52, y);
      assert.ok(near(red, [238, 0, 0], 14), `red ${red} at y ${y}`);
      assert.ok(near(grey, [128, 128, 128], 6), `grey ${grey} at y ${y}`);
    }
  });
});

/** Pixels whose row alternates with both neighbours (|2 row(y) - row(y-1) - row(y+1)| over 300 of at most 510): combing. */
function combed(frames: Awaited<ReturnType<typeof decodeFrames>>, frame: number): number {
  let count = 0;
  const g = (x: number, y: number) => frames.pixel(frame, x, y)[1];
  for (let y = 1; y < frames.height - 1; y++)
    for (let x = 0; x < frames.width; x++) if (Math.abs(2 * g(x, y) - g(x, y - 1) - g(x, y + 1)) > 300) count++;
  return count;
}

describe('interlaced sources', () => {
  test('a clip flagged interlaced (top field first), in MP4 and in MPEG-TS, is deinterlaced: rows no longer alternate', async () => {
    // 50 pictures a second of a white box moving 2 px a picture, woven into 25 frames: where
    // it moves, the rows of one field show it 2 px from where the other's do
    await ffmpeg([
      '-f',
      'lavfi',
      '-i',
      "color=c=black:s=64x48:r=50:d=1[b];color=c=white:s=24x32:r=50:d=1[w];[b][w]overlay=x='8+2*n':y=8",
      '-vf',
      'tinterlace=mode=interleave_top,format=yuv420p',
      '-c:v',
      'libx264',
      '-flags',
      '+ilme+ildct',
      '-x264-params',
      'log-level=error',
      '-field_order',
      'tt',
      at('interlaced.mp4'),
    ]);
    await ffmpeg(['-i', at('interlaced.mp4'), '-c', 'copy', '-f', 'mpegts', at('interlaced.ts')]);
    const source = combed(await decodeFrames(at('interlaced.mp4'), 64, 48, [5]), 5);
    assert.ok(source > 100, `the source is combed (${source} pixels)`);
    for (const name of ['interlaced.mp4', 'interlaced.ts']) {
      const movie = { width: 64, height: 48, fps: 25, scenes: [scene([video('tv', name, 0, 0, 64, 48)])] };
      const { path } = await render(movie, dir);
      const frames = await decodeFrames(path, 64, 48, [5]);
      const left = combed(frames, 5);
      assert.ok(left < source / 10, `${name}: ${left} combed pixels after deinterlacing, ${source} before`);
    }
  });
});

describe('animated pictures', () => {
  // 64x48, red for 0.5 s then green for 0.5 s, the right half transparent
  const TWO_COLOURS =
    "color=c=black:s=64x48:r=10:d=1,format=rgba,geq=r='255*lt(T,0.5)':g='255*gte(T,0.5)':b=0:a='255*lt(X,32)'";

  test('an animated GIF or APNG as a video layer plays with its own timing, loops, and keeps its transparency', async () => {
    await ffmpeg(['-f', 'lavfi', '-i', TWO_COLOURS, '-plays', '0', '-f', 'apng', at('anim.png')]);
    await ffmpeg([
      '-f',
      'lavfi',
      '-i',
      TWO_COLOURS,
      '-filter_complex',
      'split[a][b];[a]palettegen=reserve_transparent=1[p];[b][p]paletteuse',
      at('anim.gif'),
    ]);
    const layers = [
      video('gif', 'anim.gif', 0, 0, 64, 48, { loop: true }),
      video('apng', 'anim.png', 64, 0, 64, 48, { loop: true }),
    ];
    const { path } = await render({ width: 128, height: 48, fps: 10, scenes: [scene(layers, 2)] }, dir);
    // frames 2, 7, 12, 17: red, green, red (looped), green
    const frames = await decodeFrames(path, 128, 48, [2, 7, 12, 17]);
    for (const [i, name] of ['GIF', 'APNG'].entries()) {
      for (const [frame, colour] of [
        [2, RED],
        [7, GREEN],
        [12, RED],
        [17, GREEN],
      ] as const) {
        const seen = frames.pixel(frame, i * 64 + 12, 24);
        assert.ok(near(seen, colour, 10), `${name} frame ${frame}: ${seen}, not ${colour}`);
      }
      assert.ok(near(frames.pixel(7, i * 64 + 52, 24), BLUE), `${name}: its transparent half shows the background`);
    }
  });

  test('an animated WebP, GIF or APNG as an image layer shows its first frame', async () => {
    await ffmpeg(['-f', 'lavfi', '-i', TWO_COLOURS, '-loop', '0', '-c:v', 'libwebp_anim', at('anim.webp')]);
    const image = (id: string, source: string, x: number) => ({
      id,
      type: 'image',
      source,
      position: { x, y: 0 },
      size: { width: 64, height: 48 },
    });
    const layers = [image('webp', 'anim.webp', 0), image('gif', 'anim.gif', 64), image('apng', 'anim.png', 128)];
    const { path } = await render({ width: 192, height: 48, fps: 10, scenes: [scene(layers)] }, dir);
    const frames = await decodeFrames(path, 192, 48, [7]);
    for (const [i, name] of ['WebP', 'GIF', 'APNG'].entries()) {
      assert.ok(near(frames.pixel(7, i * 64 + 12, 24), RED, 10), `${name}: ${frames.pixel(7, i * 64 + 12, 24)}`);
      assert.ok(near(frames.pixel(7, i * 64 + 52, 24), BLUE), `${name}: transparent half`);
    }
  });

  test('an animated WebP as a video layer plays its frames for their own durations, composed by their offsets, blending and disposal, and loops', async () => {
    // three stills as libwebp writes them: lossless, lossless, lossy with an ALPH chunk
    const still = async (name: string, source: string, args: string[]) => {
      await ffmpeg(['-f', 'lavfi', '-i', source, '-frames:v', '1', '-c:v', 'libwebp', ...args, at(name)]);
      return readFile(at(name));
    };
    const halfRed = await still('f1.webp', HALF_TRANSPARENT, ['-lossless', '1']);
    const green = await still('f2.webp', 'color=c=0x00ff00:s=32x24,format=rgba', ['-lossless', '1']);
    const yellowHalf = await still(
      'f3.webp',
      "color=c=black:s=32x24,format=rgba,geq=r=255:g=255:b=0:a='255*lt(X,16)'",
      ['-lossless', '0', '-quality', '95'],
    );
    // 64x48: the left half red for the whole second; for 0.3-0.5 s green over the top right
    // quadrant (cleared after); for 0.5-1.0 s yellow over the left half of the bottom right
    const webp = animatedWebp({ width: 64, height: 48 }, [
      { still: halfRed, x: 0, y: 0, width: 64, height: 48, duration: 300, blend: false },
      { still: green, x: 32, y: 0, width: 32, height: 24, duration: 200, dispose: true },
      { still: yellowHalf, x: 32, y: 24, width: 32, height: 24, duration: 500 },
    ]);
    await writeFile(at('frames.webp'), webp);
    const YELLOW: Rgb = [255, 255, 0];
    const layers = [
      video('looped', 'frames.webp', 0, 0, 64, 48, { loop: true }),
      video('once', 'frames.webp', 64, 0, 64, 48),
    ];
    const { path } = await render({ width: 128, height: 48, fps: 10, scenes: [scene(layers, 2)] }, dir);
    const frames = await decodeFrames(path, 128, 48);
    for (let n = 0; n < 20; n++) {
      // within the animation's second: 0-2 first frame, 3-4 second, 5-9 third
      const expected = (t: number): Rgb[] => {
        const k = t < 3 ? 0 : t < 5 ? 1 : 2;
        return [RED, k === 1 ? GREEN : BLUE, k === 2 ? YELLOW : BLUE, BLUE];
      };
      const points: Array<[number, number]> = [
        [12, 24],
        [48, 12],
        [40, 36],
        [56, 36],
      ];
      for (const [box, name, t] of [
        [0, 'looped', n % 10],
        [64, 'once', Math.min(n, 9)],
      ] as const) {
        for (const [i, [x, y]] of points.entries()) {
          const seen = frames.pixel(n, box + x, y);
          const want = expected(t)[i];
          assert.ok(near(seen, want, 10), `${name}, frame ${n}, (${x},${y}): ${seen}, not ${want}`);
        }
      }
    }
  });
});
