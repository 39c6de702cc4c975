// Browser playback (issue 7: "preview = what a browser shows"): the MP4 the engine writes
// (a still span is one IDR picture plus all-skip P pictures on a second PPS, motion chunks
// between) played by headless Chromium over loopback HTTP. It is as long as the movie;
// seeking to the middle of any frame presents that frame, also the last one before a
// keyframe; every frame presented shows its scene colour as the README promises (BT.709 tags
// honoured, at SD and HD) and a caption and a video layer on exactly their frames; played
// to the end, no media error. Chromium runs with SwiftShader, so pictures turn RGB as on a
// machine with a GPU: its CPU path (libyuv) caps BT.709's Cb-to-blue factor at 2.0 instead
// of 2.112, which shows #00ff00 as (0,255,11) whatever the file holds. Skipped, saying how to
// install Chromium, where there is none.
import assert from 'node:assert/strict';
import { access, constants, readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { parseColour } from '../src/movie/index.ts';
import { media, near, render, tempDir, type Rgb } from './helpers.ts';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const installed = await access(CHROMIUM, constants.X_OK).then(
  () => true,
  () => false,
);

const dir = await tempDir();
const FPS = 25;
/** Scenes in play order; the caption and the video layer are on frames [from, to) of theirs. */
const SCENES = [
  { id: 'cyan', frames: 25, bgColor: '#00d4ff' },
  { id: 'green', frames: 15, bgColor: '#00ff00' },
  { id: 'red', frames: 15, bgColor: '#ff0000' },
  { id: 'caption', frames: 75, bgColor: '#1a1a2e', caption: { from: 38, to: 75 } },
  { id: 'video', frames: 30, bgColor: '#00ff00', video: { from: 10, to: 20 } },
];
const CAPTION_COLOUR = '#ffff00';
const VIDEO_COLOUR = '#0000ff';
const starts = SCENES.map((_, i) => SCENES.slice(0, i).reduce((sum, s) => sum + s.frames, 0));
const TOTAL = SCENES.reduce((sum, s) => sum + s.frames, 0);

/** Boxes and probed points in a 640x360 frame (scaled with the movie). */
const VIDEO_BOX = { x: 32, y: 36, width: 192, height: 144 };
const CAPTION_BOX = { x: 160, y: 234, width: 320, height: 90 };
const POINTS = {
  background: [480, 100],
  video: [VIDEO_BOX.x + VIDEO_BOX.width / 2, VIDEO_BOX.y + VIDEO_BOX.height / 2],
  caption: [CAPTION_BOX.x + 8, CAPTION_BOX.y + 8],
  aboveCaption: [CAPTION_BOX.x + 8, CAPTION_BOX.y - 8],
} as const;
type Point = keyof typeof POINTS;
const NAMES = Object.keys(POINTS) as Point[];

const rgb = (hex: string): Rgb => {
  const { r, g, b } = parseColour(hex)!;
  return [r, g, b];
};

/** Where frame `frame` of the movie is: its scene and the frame inside it. */
function locate(frame: number) {
  const i = starts.findLastIndex((start) => start <= frame);
  return { scene: SCENES[i], at: frame - starts[i] };
}

/** What each point of a movie frame must show. */
function expected(frame: number): Record<Point, Rgb> {
  const { scene, at } = locate(frame);
  const on = (window?: { from: number; to: number }) => window !== undefined && window.from <= at && at < window.to;
  const background = rgb(scene.bgColor);
  return {
    background,
    video: on(scene.video) ? rgb(VIDEO_COLOUR) : background,
    caption: on(scene.caption) ? rgb(CAPTION_COLOUR) : background,
    aboveCaption: background,
  };
}

/**
 * Frames to seek to: each scene's first, middle and last, both sides of each layer's edges
 * and the middle of the long still spans before and after the caption appears.
 */
const CHECKPOINTS = [
  ...new Set(
    SCENES.flatMap((scene, i) => {
      const start = starts[i];
      const edges = [scene.caption, scene.video].flatMap((w) => (w ? [w.from - 1, w.from, w.to - 1, w.to] : []));
      const deep = scene.caption ? [scene.caption.from >> 1, (scene.caption.from + scene.caption.to) >> 1] : [];
      return [0, Math.floor(scene.frames / 2), scene.frames - 1, ...edges, ...deep]
        .filter((n) => n < scene.frames)
        .map((n) => start + n);
    }),
  ),
].sort((a, b) => a - b);

function movie(width: number, height: number, videoSource: string) {
  const s = width / 640;
  const box = (b: typeof VIDEO_BOX) => ({
    position: { x: b.x * s, y: b.y * s },
    size: { width: b.width * s, height: b.height * s },
  });
  return {
    width,
    height,
    fps: FPS,
    scenes: SCENES.map((scene) => ({
      id: scene.id,
      duration: scene.frames / FPS,
      bgColor: scene.bgColor,
      layers: [
        ...(scene.caption
          ? [
              {
                id: 'caption',
                type: 'text',
                text: 'Caption',
                fontSize: 40 * s,
                color: '#000000',
                backgroundColor: CAPTION_COLOUR,
                startTime: scene.caption.from / FPS,
                duration: (scene.caption.to - scene.caption.from) / FPS,
                ...box(CAPTION_BOX),
              },
            ]
          : []),
        ...(scene.video
          ? [
              {
                id: 'clip',
                type: 'video',
                source: videoSource,
                startTime: scene.video.from / FPS,
                duration: (scene.video.to - scene.video.from) / FPS,
                ...box(VIDEO_BOX),
              },
            ]
          : []),
      ],
    })),
  };
}

/**
 * The page: one video and a canvas. `frameAt(time, points)` seeks, waits until a frame is
 * both sought and presented (seeked, requestVideoFrameCallback), then reads the points of
 * the current frame and its time; `playThrough(rate, points)` plays to the end, reading
 * each frame presented.
 */
const PAGE = `<!doctype html>
<link rel="icon" href="data:,"><video muted preload="auto"></video><canvas></canvas>
<script>
const video = document.querySelector('video');
const canvas = document.querySelector('canvas');
const context = canvas.getContext('2d', { willReadFrequently: true });
const read = (points) => points.map(([x, y]) => [...context.getImageData(x, y, 1, 1).data.slice(0, 3)]);
// the picture and its time taken together: drawing the element itself races playback
const snapshot = (points) => {
  const frame = new VideoFrame(video);
  context.drawImage(frame, 0, 0);
  frame.close();
  return { mediaTime: frame.timestamp / 1e6, pixels: read(points) };
};
const failed = () => new Error('media error ' + video.error.code + ': ' + video.error.message);
window.loaded = new Promise((resolve, reject) => {
  video.addEventListener('loadeddata', () => {
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    resolve({ duration: video.duration, width: video.videoWidth, height: video.videoHeight });
  });
  video.addEventListener('error', () => reject(failed()));
});
video.src = location.hash.slice(1);
window.frameAt = (time, points) => new Promise((resolve, reject) => {
  let presented = false;
  let sought = false;
  const timer = setTimeout(() => reject(new Error('no frame presented within 10 s of seeking to ' + time)), 10000);
  const done = () => {
    if (!sought || !presented) return;
    clearTimeout(timer);
    resolve(snapshot(points));
  };
  video.requestVideoFrameCallback(() => { presented = true; done(); });
  video.addEventListener('seeked', () => { sought = true; done(); }, { once: true });
  video.currentTime = time;
});
window.playThrough = (rate, points) => new Promise((resolve, reject) => {
  const frames = [];
  const onFrame = () => {
    frames.push(snapshot(points));
    if (!video.ended) video.requestVideoFrameCallback(onFrame);
  };
  video.requestVideoFrameCallback(onFrame);
  video.addEventListener('ended', () => {
    const quality = video.getVideoPlaybackQuality ? video.getVideoPlaybackQuality() : undefined;
    resolve({ frames, error: video.error && video.error.code, currentTime: video.currentTime,
      corrupted: quality && quality.corruptedVideoFrames });
  }, { once: true });
  video.addEventListener('error', () => reject(failed()), { once: true });
  video.currentTime = 0;
  video.playbackRate = rate;
  video.play().catch(reject);
});
</script>`;

interface Snapshot {
  mediaTime: number;
  pixels: Rgb[];
}
/** The movie frame a snapshot shows. */
const presented = (s: Snapshot) => Math.round(s.mediaTime * FPS);

/** A loopback HTTP server for these bodies by path, answering byte ranges as media elements ask. */
async function serve(files: Map<string, { type: string; body: Buffer }>): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const file = files.get(req.url ?? '/');
    if (!file) return void res.writeHead(404).end();
    const { body, type } = file;
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    if (!range) {
      res.writeHead(200, { 'content-type': type, 'content-length': body.length, 'accept-ranges': 'bytes' }).end(body);
      return;
    }
    const start = Number(range[1]);
    const end = Math.min(range[2] ? Number(range[2]) : body.length - 1, body.length - 1);
    res
      .writeHead(206, {
        'content-type': type,
        'content-length': end - start + 1,
        'content-range': `bytes ${start}-${end}/${body.length}`,
        'accept-ranges': 'bytes',
      })
      .end(body.subarray(start, end + 1));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, server };
}

const TOLERANCE = 4;

/** Each point that differs from what frame `frame` must show, named. */
function mismatches(frame: number, pixels: Rgb[]): string[] {
  const want = expected(frame);
  const { scene, at } = locate(frame);
  return NAMES.flatMap((name, i) =>
    near(pixels[i], want[name], TOLERANCE)
      ? []
      : [`frame ${frame} (${scene.id} frame ${at}) ${name}: ${pixels[i].join(',')}, expected ${want[name].join(',')}`],
  );
}

// one test skipped, so the summary counts it
if (!installed)
  test('the rendered MP4 in headless Chromium', {
    skip: `no Chromium at ${CHROMIUM}: install it (apt-get install chromium) or set CHROMIUM_PATH`,
  }, () => {});
else
  describe('the rendered MP4 in headless Chromium', () => {
    let browser: Browser;
    let url: string;
    let server: Server;
    const files = new Map([['/player.html', { type: 'text/html', body: Buffer.from(PAGE) }]]);
    let videoSource: string;

    before(async () => {
      videoSource = await media.video(join(dir, 'blue.mp4'), 'blue', 320, 180, 1);
      ({ url, server } = await serve(files));
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        // SwiftShader: pictures turn RGB as on a machine with a GPU (see the top)
        args: ['--no-sandbox', '--disable-background-networking', '--use-angle=swiftshader'],
      });
    });
    after(async () => {
      await browser?.close();
      server?.closeAllConnections();
      await new Promise((r) => server?.close(r));
    });

    for (const [width, height] of [
      [640, 360],
      [1280, 720],
    ]) {
      describe(`${width}x${height} at ${FPS} fps`, () => {
        const scale = width / 640;
        const points = NAMES.map((name) => POINTS[name].map((v) => v * scale));
        let page: Page;
        const pageErrors: string[] = [];
        /** What seeking to the middle of each checkpoint frame presented. */
        const sought: Array<{ frame: number } & Snapshot> = [];

        before(async () => {
          const { path } = await render(movie(width, height, videoSource), dir);
          files.set(`/${width}.mp4`, { type: 'video/mp4', body: await readFile(path) });
          page = await browser.newPage();
          page.on('console', (m) => m.type() === 'error' && pageErrors.push(m.text()));
          page.on('pageerror', (e) => pageErrors.push(e.message));
          await page.goto(`${url}/player.html#/${width}.mp4`);
          await page.evaluate('loaded');
          // backwards: each seek decodes afresh from its span's IDR on
          for (const frame of [...CHECKPOINTS].reverse()) {
            const time = (frame + 0.5) / FPS;
            const shot = await page.evaluate(([t, at]) => (globalThis as any).frameAt(t, at), [time, points] as const);
            sought.push({ frame, ...(shot as Snapshot) });
          }
        });
        after(() => page?.close());

        test('it loads, as long as the movie within a frame, at its size', async () => {
          const loaded = (await page.evaluate('loaded')) as { duration: number; width: number; height: number };
          assert.deepEqual([loaded.width, loaded.height], [width, height]);
          assert.ok(
            Math.abs(loaded.duration - TOTAL / FPS) <= 1 / FPS,
            `duration ${loaded.duration} s, the movie is ${TOTAL / FPS} s`,
          );
        });

        test('seeking to the middle of a frame presents that frame, also the last one before a join', () => {
          const wrong = sought
            .filter((s) => presented(s) !== s.frame)
            .map((s) => `seeking to ${(s.frame + 0.5) / FPS} s (frame ${s.frame}) presented frame ${presented(s)}`);
          assert.deepEqual(wrong, [], wrong.join('\n'));
        });

        test('every frame presented by a seek shows its scene colour, the caption and the video layer on exactly their frames', () => {
          const problems = sought.flatMap((s) => mismatches(presented(s), s.pixels));
          assert.deepEqual(problems, [], problems.join('\n'));
          assert.deepEqual(pageErrors, []);
        });

        test('it plays to the end: no media error, no corrupted frame, every frame presented right', async () => {
          const played = (await page.evaluate(([rate, at]) => (globalThis as any).playThrough(rate, at), [
            4,
            points,
          ] as const)) as { frames: Snapshot[]; error: number | null; currentTime: number; corrupted?: number };
          assert.equal(played.error, null);
          assert.ok(Math.abs(played.currentTime - TOTAL / FPS) <= 1 / FPS, `ended at ${played.currentTime} s`);
          if (played.corrupted !== undefined) assert.equal(played.corrupted, 0, 'corrupted video frames');
          const problems = played.frames.flatMap((f) => mismatches(presented(f), f.pixels));
          assert.deepEqual(problems, [], problems.join('\n'));
          const order = played.frames.map(presented);
          assert.ok(order.length > 0, 'frames presented while playing');
          assert.ok(
            order.every((f, i) => i === 0 || f >= order[i - 1]),
            `frames presented in order: ${order.join(' ')}`,
          );
          assert.deepEqual(pageErrors, []);
        });
      });
    }
  });
