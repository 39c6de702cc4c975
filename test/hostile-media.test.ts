// Hostile media through the real service over HTTP, as a tenant would hand it in: DASH
// manifests and HLS playlists (under every extension) that point at a "metadata" address,
// a private picture or another tenant's files; lying and damaged images; decompression
// bombs; an empty file. Each job fails with SOURCE_UNAVAILABLE naming the layer, its JSON
// path, the URL and what the file is; no manifest is ever followed (the listeners it
// points at see no request); the server lives on. An MP4 whose index claims millions of
// samples fails with SOURCE_TOO_LARGE, its readers held to their memory limit and taking
// turns. And every allowed format renders.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { crc32, deflateSync } from 'node:zlib';
import { processLimits } from '../src/media/index.ts';
import {
  decodeAudio,
  decodeFrames,
  ffmpeg,
  ffmpegChildren,
  indexBomb,
  levelDb,
  media,
  mediaServer,
  near,
  tempDir,
  until,
  type Rgb,
} from './helpers.ts';
import { api, startService, waitForJob } from './service-helpers.ts';

const dir = await tempDir('reelsmith-hostile-');
/** Files no tenant may read: "another tenant's output" that playlists point at. */
const outside = await tempDir('reelsmith-hostile-outside-');
const secretMp4 = await media.video(join(outside, 'tenant-a-output.mp4'), 'blue', 320, 180, 1);

const svc = await startService({ network: { allowPrivateNetworks: ['127.0.0.2/32'] } });
const tenant = await svc.tenant('unlimited');
/** The media server the tenant's URLs name: allowed (127.0.0.2). */
const hostile = await mediaServer(dir, '127.0.0.2');
/** A "cloud metadata" address: refused; nothing may ever reach it. */
const metadata = await mediaServer(await tempDir('reelsmith-hostile-metadata-'), '127.0.0.3');
/** A private picture on the allowed address, reachable only by following a manifest. */
const privateDir = await tempDir('reelsmith-hostile-private-');
await media.png(join(privateDir, 'private.png'), 'red', 320, 180);
const privatePng = await mediaServer(privateDir, '127.0.0.2');

// ---------------------------------------------------------------------------------------
// Playlists and manifests

const mpd = (baseUrl: string, segment: string) => `<?xml version="1.0" encoding="UTF-8"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT1S" minBufferTime="PT1S" profiles="urn:mpeg:dash:profile:isoff-on-demand:2011">
  <BaseURL>${baseUrl}</BaseURL>
  <Period><AdaptationSet mimeType="video/mp4"><Representation id="1" bandwidth="100000" width="320" height="180"><BaseURL>${segment}</BaseURL></Representation></AdaptationSet></Period>
</MPD>
`;
const hls = (segment: string, ended = true) =>
  `#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:1\n#EXT-X-MEDIA-SEQUENCE:0\n#EXTINF:1.0,\n${segment}\n${ended ? '#EXT-X-ENDLIST\n' : ''}`;
/** Where the service keeps fetched sources: a relative segment path is resolved from there. */
const sourceDir = join(svc.dataDir, 'sources');

const manifests = [
  {
    name: 'dash-metadata',
    body: mpd(`${metadata.url}/latest/meta-data/iam/security-credentials/`, 'role'),
    is: 'a DASH manifest',
  },
  { name: 'dash-private-png', body: mpd(`${privatePng.url}/`, 'private.png'), is: 'a DASH manifest' },
  { name: 'hls-absolute', body: hls(secretMp4), is: 'an HLS playlist' },
  { name: 'hls-relative', body: hls(relative(sourceDir, secretMp4)), is: 'an HLS playlist' },
  { name: 'hls-metadata', body: hls(`${metadata.url}/latest/meta-data/segment.ts`), is: 'an HLS playlist' },
  { name: 'hls-live', body: hls(`${privatePng.url}/live-segment.ts`, false), is: 'an HLS playlist' },
  { name: 'ffconcat', body: `ffconcat version 1.0\nfile '${secretMp4}'\nduration 1\n`, is: 'an ffconcat list' },
];
const EXTENSIONS = [
  '.png',
  '.jpg',
  '.webp',
  '.gif',
  '.mp4',
  '.mov',
  '.mkv',
  '.webm',
  '.ts',
  '.mp3',
  '.wav',
  '.flac',
  '.ogg',
  '.aac',
  '.m3u8',
  '.mpd',
  '.txt',
  '',
];
const LAYER_TYPES = ['image', 'video', 'audio'] as const;
await Promise.all(manifests.flatMap((m) => EXTENSIONS.map((ext) => writeFile(join(dir, m.name + ext), m.body))));

// ---------------------------------------------------------------------------------------
// Damaged, lying and oversized files

/** A PNG chunk: length, type, data, CRC of type and data. */
function chunk(type: string, data: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** A PNG that states `width` x `height` (RGB) but carries the data of a few black rows: a few hundred bytes. */
function pngBomb(width: number, height: number): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8);
  const rows = deflateSync(Buffer.alloc(4 * (1 + width * 3)));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', rows),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

const goodPng = await readFile(await media.png(join(dir, 'good.png'), 'green', 320, 180));
await ffmpeg(['-f', 'lavfi', '-i', 'testsrc=s=320x180', '-frames:v', '1', join(dir, 'good.jpg')]);
const goodJpeg = await readFile(join(dir, 'good.jpg'));
const wholeMp4 = await readFile(await media.video(join(dir, 'whole.mp4'), 'green', 320, 180, 1, { silent: true }));
await ffmpeg([
  '-f',
  'lavfi',
  '-i',
  'color=c=red:s=8192x8192:d=0.04:r=25',
  '-c:v',
  'libx264',
  '-preset',
  'ultrafast',
  '-frames:v',
  '1',
  join(dir, 'huge-h264.mp4'),
]);
await ffmpeg([
  '-f',
  'lavfi',
  '-i',
  'color=c=red:s=10000x6000:d=0.04:r=25',
  '-c:v',
  'png',
  '-frames:v',
  '1',
  join(dir, 'huge-png.mkv'),
]);
await Promise.all([
  writeFile(join(dir, 'notes.png'), 'Shopping list\n- milk\n- eggs\n'),
  writeFile(
    join(dir, 'signature-then-junk.png'),
    Buffer.concat([goodPng.subarray(0, 8), Buffer.from('this is not a PNG chunk at all, only junk text')]),
  ),
  writeFile(join(dir, 'header-then-junk.png'), Buffer.concat([goodPng.subarray(0, 33), Buffer.alloc(2000, 0x5a)])),
  writeFile(join(dir, 'truncated.png'), goodPng.subarray(0, Math.floor(goodPng.length / 2))),
  writeFile(join(dir, 'truncated.jpg'), goodJpeg.subarray(0, Math.floor(goodJpeg.length / 2))),
  // moov comes last in this MP4 (no +faststart): the first half has no index at all
  writeFile(join(dir, 'truncated.mp4'), wholeMp4.subarray(0, Math.floor(wholeMp4.length / 2))),
  writeFile(join(dir, 'bomb-16000.png'), pngBomb(16000, 16000)),
  writeFile(join(dir, 'bomb-20000.png'), pngBomb(20000, 20000)),
  writeFile(
    join(dir, 'bomb.gif'),
    Buffer.concat([Buffer.from('GIF89a'), Buffer.from([0xff, 0xff, 0xff, 0xff, 0, 0, 0]), Buffer.from(';')]),
  ),
  writeFile(join(dir, 'empty.png'), ''),
]);

const damaged: Array<{ name: string; file: string; type: 'image' | 'video'; reason: RegExp }> = [
  {
    name: 'a text file served as .png',
    file: 'notes.png',
    type: 'image',
    reason: /^is text, not an image or media file Reelsmith reads \(PNG, JPEG, WebP, GIF, MP4\/MOV, /,
  },
  {
    name: 'a PNG signature followed by junk',
    file: 'signature-then-junk.png',
    type: 'image',
    reason: /^is not a valid PNG image \(its header is missing or damaged\)$/,
  },
  {
    name: 'a valid PNG header followed by junk',
    file: 'header-then-junk.png',
    type: 'image',
    reason: /^cannot be decoded as PNG/,
  },
  { name: 'a truncated PNG', file: 'truncated.png', type: 'image', reason: /^cannot be decoded as PNG/ },
  { name: 'a truncated JPEG', file: 'truncated.jpg', type: 'image', reason: /^cannot be decoded as JPEG/ },
  {
    name: 'a truncated MP4',
    file: 'truncated.mp4',
    type: 'video',
    reason: /^cannot be read as MP4\/MOV \(.*moov atom not found/,
  },
  {
    name: 'a 16000x16000 PNG of 1 KB',
    file: 'bomb-16000.png',
    type: 'image',
    reason: /^is 16000x16000 pixels, over the limit of 50 megapixels$/,
  },
  {
    name: 'a 20000x20000 PNG of 1 KB',
    file: 'bomb-20000.png',
    type: 'image',
    reason: /^is 20000x20000 pixels, over the limit of 50 megapixels$/,
  },
  {
    name: 'a GIF whose screen is 65535x65535',
    file: 'bomb.gif',
    type: 'image',
    reason: /^is 65535x65535 pixels, over the limit of 50 megapixels$/,
  },
  {
    name: 'an 8192x8192 H.264 video',
    file: 'huge-h264.mp4',
    type: 'video',
    reason: /^is 8192x8192 pixels, over the limit of 50 megapixels$/,
  },
  {
    name: 'a 10000x6000 PNG-in-Matroska video',
    file: 'huge-png.mkv',
    type: 'video',
    reason: /over the limit of 50 megapixels$/,
  },
  { name: 'a zero-byte file', file: 'empty.png', type: 'image', reason: /^the response was empty$/ },
];

// ---------------------------------------------------------------------------------------

/** A 320x180 movie: a caption, then the layer under test at movie.scenes[0].layers[1]. */
function withLayer(layer: Record<string, unknown>) {
  return {
    width: 320,
    height: 180,
    fps: 30,
    scenes: [
      { id: 'only', duration: 0.5, layers: [{ id: 'caption', type: 'text', text: 'Hello', fontSize: 20 }, layer] },
    ],
  };
}

async function submit(movie: unknown): Promise<string> {
  const res = await api(svc.url, tenant.key, '/v1/render/jobs', {
    method: 'POST',
    json: { kind: 'movie', projectId: tenant.projectId, movie },
  });
  const reply = (await res.json()) as { jobId: string };
  assert.equal(res.status, 202, JSON.stringify(reply));
  return reply.jobId;
}

/** Renders one layer from `url` and checks the job failed as a tenant should see it. */
async function assertRefused(url: string, type: string, reason: RegExp) {
  const job = await waitForJob(
    svc.url,
    tenant.key,
    await submit(withLayer({ id: 'subject', type, source: url })),
    120_000,
  );
  assert.equal(job.status, 'failed', `${url} as ${type}: ${JSON.stringify(job)}`);
  assert.equal(job.error.code, 'SOURCE_UNAVAILABLE', `${url} as ${type}: ${job.error.message}`);
  const prefix = `layer "subject" (movie.scenes[0].layers[1]): ${url}: `;
  assert.ok(job.error.message.startsWith(prefix), `"${job.error.message}" starts with "${prefix}"`);
  assert.match(job.error.message.slice(prefix.length), reason, `${url} as ${type}`);
  for (const internal of [svc.dataDir, dir, outside, 'file:', '/sources/']) {
    assert.ok(!job.error.message.includes(internal), `no server path in "${job.error.message}"`);
  }
}

async function assertServerAnswers() {
  assert.equal((await fetch(`${svc.url}/healthz`)).status, 200);
}

test('playlists and manifests under every extension, as every layer type, are refused and never followed', async () => {
  const cases = manifests.flatMap((m, i) =>
    EXTENSIONS.map((ext, j) => ({ url: `${hostile.url}/${m.name}${ext}`, type: LAYER_TYPES[(i + j) % 3], is: m.is })),
  );
  await Promise.all(
    cases.map(({ url, type, is }) =>
      assertRefused(url, type, new RegExp(`^is ${is}, not an image or media file Reelsmith reads \\(PNG, JPEG, `)),
    ),
  );
  assert.deepEqual(metadata.requests, [], 'nothing reached the metadata address');
  assert.deepEqual(privatePng.requests, [], 'nothing reached the private picture: no manifest was followed');
  assert.equal(hostile.requests.length, cases.length, 'each source was fetched once, by the service itself');
  await assertServerAnswers();
});

for (const { name, file, type, reason } of damaged) {
  test(`${name}: SOURCE_UNAVAILABLE at planning, naming the layer, its path and the URL`, async () => {
    await assertRefused(`${hostile.url}/${file}`, type, reason);
    await assertServerAnswers();
  });
}

/** Each ffmpeg and ffprobe under this process, sampled until stopped: the most at once, and the memory they held. */
function watchReaders() {
  let mostAtOnce = 0;
  let mostResident = 0;
  let largestAddressSpace = 0;
  let running = true;
  const kB = (status: string, field: string) => 1024 * Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  const sampling = (async () => {
    while (running) {
      const readers = (await ffmpegChildren(process.pid)).filter((p) => p.state !== 'Z');
      const statuses = await Promise.all(readers.map((p) => readFile(`/proc/${p.pid}/status`, 'utf8').catch(() => '')));
      mostAtOnce = Math.max(mostAtOnce, readers.length);
      mostResident = Math.max(
        mostResident,
        statuses.reduce((sum, s) => sum + kB(s, 'VmHWM'), 0),
      );
      for (const s of statuses) largestAddressSpace = Math.max(largestAddressSpace, kB(s, 'VmPeak'));
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  return async () => {
    running = false;
    await sampling;
    return { mostAtOnce, mostResident, largestAddressSpace };
  };
}

test('MP4s of a few KB whose indexes claim 20M samples: SOURCE_TOO_LARGE naming the layer, their readers held to the memory limit and taking turns', {
  skip: process.platform !== 'linux' && 'RLIMIT_AS, /proc',
}, async () => {
  const clip = await readFile(
    await media.video(join(dir, 'index-clip.mp4'), 'green', 64, 36, 1, { silent: true, fps: 10 }),
  );
  // four bombs of different bytes: four sources, four probes
  const names = [0, 1, 2, 3].map((i) => `index-bomb-${i}.mp4`);
  await Promise.all(names.map((name, i) => writeFile(join(dir, name), indexBomb(clip, 20_000_000 + i))));
  const limits = processLimits();
  const rssBefore = process.memoryUsage().rss;
  const stop = watchReaders();
  const started = performance.now();
  const job = await waitForJob(
    svc.url,
    tenant.key,
    await submit({
      width: 320,
      height: 180,
      fps: 30,
      scenes: [
        {
          id: 'only',
          duration: 0.5,
          layers: names.map((name, i) => ({ id: `bomb${i}`, type: 'video', source: `${hostile.url}/${name}` })),
        },
      ],
    }),
    120_000,
  );
  const seconds = (performance.now() - started) / 1000;
  // the probes still queued or running when the job failed end too
  await until(async () => (await ffmpegChildren(process.pid)).length === 0, 30_000, 'every reader gone');
  const readers = await stop();

  assert.equal(job.status, 'failed', JSON.stringify(job));
  assert.equal(job.error.code, 'SOURCE_TOO_LARGE', job.error.message);
  assert.match(
    job.error.message,
    /^layer "bomb(\d)" \(movie\.scenes\[0\]\.layers\[\1\]\): http:\/\/\S+\/index-bomb-\1\.mp4: needs more than the 1024 MiB of memory a reader may take/,
  );
  assert.ok(seconds < 60, `failed within a minute: ${seconds.toFixed(1)} s`);
  assert.ok(
    readers.mostAtOnce <= limits.probesAtOnce,
    `at most ${limits.probesAtOnce} readers at once: ${readers.mostAtOnce}`,
  );
  assert.ok(
    readers.largestAddressSpace <= limits.ffprobeBytes,
    `no reader past its limit: ${readers.largestAddressSpace / 2 ** 20} MiB`,
  );
  assert.ok(
    readers.mostResident <= limits.probesAtOnce * limits.ffprobeBytes,
    `the readers held at most ${limits.probesAtOnce} x ${limits.ffprobeBytes / 2 ** 20} MiB together: ${readers.mostResident / 2 ** 20} MiB`,
  );
  const grown = (process.memoryUsage().rss - rssBefore) / 2 ** 20;
  assert.ok(grown < 200, `the server grew by ${grown.toFixed(0)} MiB`);
  console.log(
    `index bombs: failed in ${seconds.toFixed(1)} s; readers at once ${readers.mostAtOnce}, their peak RSS together ${(readers.mostResident / 2 ** 20).toFixed(0)} MiB, largest VmPeak ${(readers.largestAddressSpace / 2 ** 20).toFixed(0)} MiB; server RSS grew ${grown.toFixed(0)} MiB`,
  );
  await assertServerAnswers();
});

test('every allowed format renders: TS, MKV, WebM and MOV video, JPEG, WebP, GIF and PNG images, MP3, WAV, FLAC, Ogg and AAC audio', async () => {
  const lavfiVideo = (colour: string) => ['-f', 'lavfi', '-i', `color=c=${colour}:s=160x90:r=30:d=1`];
  const tone = ['-f', 'lavfi', '-i', 'sine=f=440:r=48000:d=1'];
  const x264 = ['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p'];
  const make = (name: string, args: string[]) =>
    ffmpeg([...args, join(dir, name)]).then(() => `${hostile.url}/${name}`);
  const [ts, mkv, webm, mov, jpeg, webp, gif, png, mp3, wav, flac, ogg, aac] = await Promise.all([
    // an MPEG-TS with a service description table: what the npm-shipped ffprobe crashes on
    make('red.ts', [...lavfiVideo('red'), ...tone, ...x264, '-c:a', 'aac', '-shortest', '-f', 'mpegts']),
    make('green.mkv', [...lavfiVideo('lime'), ...x264, '-f', 'matroska']),
    make('blue.webm', [
      ...lavfiVideo('blue'),
      ...tone,
      '-c:v',
      'libvpx',
      '-b:v',
      '200k',
      '-c:a',
      'libopus',
      '-shortest',
      '-f',
      'webm',
    ]),
    make('yellow.mov', [...lavfiVideo('yellow'), ...x264, '-f', 'mov']),
    make('cyan.jpg', [...lavfiVideo('cyan'), '-frames:v', '1', '-f', 'image2']),
    make('magenta.webp', [...lavfiVideo('magenta'), '-frames:v', '1', '-c:v', 'libwebp', '-f', 'webp']),
    make('white.gif', [...lavfiVideo('white'), '-frames:v', '1', '-f', 'gif']),
    make('red.png', [...lavfiVideo('red'), '-frames:v', '1', '-f', 'image2']),
    make('tone.mp3', [...tone, '-c:a', 'libmp3lame', '-f', 'mp3']),
    make('tone.wav', [...tone, '-f', 'wav']),
    make('tone.flac', [...tone, '-f', 'flac']),
    make('tone.ogg', [...tone, '-c:a', 'libvorbis', '-f', 'ogg']),
    make('tone.aac', [...tone, '-c:a', 'aac', '-f', 'adts']),
  ]);
  const quadrant = (id: string, type: string, source: string, q: number) => ({
    id,
    type,
    source,
    position: { x: (q % 2) * 160, y: Math.floor(q / 2) * 90 },
    size: { width: 160, height: 90 },
  });
  const sound = (id: string, source: string) => ({ id, type: 'audio', source, volume: 0.5 });
  const movie = {
    width: 320,
    height: 180,
    fps: 30,
    scenes: [
      {
        id: 'videos',
        duration: 1,
        layers: [
          quadrant('ts', 'video', ts, 0),
          quadrant('mkv', 'video', mkv, 1),
          quadrant('webm', 'video', webm, 2),
          quadrant('mov', 'video', mov, 3),
          sound('mp3', mp3),
          sound('wav', wav),
        ],
      },
      {
        id: 'images',
        duration: 1,
        layers: [
          quadrant('jpeg', 'image', jpeg, 0),
          quadrant('webp', 'image', webp, 1),
          quadrant('gif', 'image', gif, 2),
          quadrant('png', 'image', png, 3),
          sound('flac', flac),
          sound('ogg', ogg),
          sound('aac', aac),
        ],
      },
    ],
  };
  const job = await waitForJob(svc.url, tenant.key, await submit(movie), 180_000);
  assert.equal(job.status, 'done', JSON.stringify(job.error));
  const output = join(dir, 'every-format.mp4');
  await writeFile(output, Buffer.from(await (await fetch(job.outputUrl)).arrayBuffer()));

  const frames = await decodeFrames(output, 320, 180, [15, 45]);
  const expect = (frame: number, q: number, colour: Rgb, what: string) => {
    const pixel = frames.pixel(frame, (q % 2) * 160 + 80, Math.floor(q / 2) * 90 + 45);
    assert.ok(near(pixel, colour, 20), `${what}: ${pixel}, expected ${colour}`);
  };
  expect(15, 0, [255, 0, 0], 'MPEG-TS video');
  expect(15, 1, [0, 255, 0], 'Matroska video');
  expect(15, 2, [0, 0, 255], 'WebM video');
  expect(15, 3, [255, 255, 0], 'MOV video');
  expect(45, 0, [0, 255, 255], 'JPEG image');
  expect(45, 1, [255, 0, 255], 'WebP image');
  expect(45, 2, [255, 255, 255], 'GIF image');
  expect(45, 3, [255, 0, 0], 'PNG image');
  const audio = await decodeAudio(output);
  assert.ok(levelDb(audio, 0.1, 0.9) > -30, `the first scene has sound: ${levelDb(audio, 0.1, 0.9)} dB`);
  assert.ok(levelDb(audio, 1.1, 1.9) > -30, `the second scene has sound: ${levelDb(audio, 1.1, 1.9)} dB`);
  await assertServerAnswers();
});
