// Shared test tools: render a movie, then look at the MP4 the way a user would
// (ffprobe, decoded RGB frames, decoded PCM audio), plus a local media server, a webhook receiver, the CLI
// and the ffmpeg processes alive.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, createServer as createTcpServer, type Socket } from 'node:net';
import { createReadStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Webhook } from 'standardwebhooks';
import { ffmpegBinary, ffprobeBinary, run } from '../src/media/index.ts';
import { normalizeMovie } from '../src/movie/index.ts';
import { renderMovie, type RenderOptions } from '../src/render/index.ts';
import { resolveStorageConfig, S3Storage, type S3Tuning } from '../src/storage/index.ts';

/** A temp folder removed when the test file ends (call it at the top level of the file). */
export async function tempDir(prefix = 'reelsmith-test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

export async function ffmpeg(args: string[]): Promise<void> {
  await run(ffmpegBinary().path, ['-hide_banner', '-loglevel', 'error', '-y', ...args]);
}

/** Renders a movie (local sources allowed, relative to `baseDir`) into `dir`. */
export async function render(movie: unknown, dir: string, options: Partial<RenderOptions> & { baseDir?: string } = {}) {
  const normalized = normalizeMovie(movie, { allowLocalFiles: true, baseDir: options.baseDir ?? dir });
  return renderMovie(normalized, { output: join(dir, `out-${Math.random().toString(16).slice(2)}.mp4`), ...options });
}

export interface StreamInfo {
  codec_type: string;
  codec_name: string;
  profile?: string;
  width?: number;
  height?: number;
  pix_fmt?: string;
  r_frame_rate?: string;
  avg_frame_rate?: string;
  sample_rate?: string;
  channels?: number;
  duration?: string;
  nb_read_frames?: string;
  color_space?: string;
  color_primaries?: string;
  color_transfer?: string;
  color_range?: string;
}

export async function probe(
  path: string,
): Promise<{ video: StreamInfo; audio?: StreamInfo; format: { duration: string; format_name: string } }> {
  const out = await run(ffprobeBinary().path, [
    '-v',
    'error',
    '-count_frames',
    '-show_streams',
    '-show_format',
    '-of',
    'json',
    path,
  ]);
  const json = JSON.parse(out) as { streams: StreamInfo[]; format: { duration: string; format_name: string } };
  return {
    video: json.streams.find((s) => s.codec_type === 'video')!,
    audio: json.streams.find((s) => s.codec_type === 'audio'),
    format: json.format,
  };
}

export type Rgb = [number, number, number];

export interface Frames {
  width: number;
  height: number;
  count: number;
  /** Pixel of frame number `frame` (one of `only`, when frames were selected). */
  pixel(frame: number, x: number, y: number): Rgb;
}

/**
 * Frames of a video (or picture) decoded to RGB as a browser decodes them: all of them
 * (keep such videos small), or `only` these numbers.
 */
export async function decodeFrames(path: string, width: number, height: number, selected?: number[]): Promise<Frames> {
  const only = selected && [...selected].sort((a, b) => a - b);
  const select = only ? [`select='${anyOf(only.map((n) => `eq(n\\,${n})`))}'`] : [];
  const filters = [...select, await toRgbAsTagged(path)].join(',');
  const raw = await runBuffer(ffmpegBinary().path, [
    '-v',
    'error',
    '-i',
    path,
    '-map',
    '0:v:0',
    '-vf',
    filters,
    ...(only ? ['-vsync', '0'] : []),
    '-f',
    'rawvideo',
    '-',
  ]);
  const size = width * height * 3;
  const index = (frame: number) => (only ? only.indexOf(frame) : frame);
  return {
    width,
    height,
    count: raw.length / size,
    pixel(frame, x, y) {
      const at = index(frame) * size + (y * width + x) * 3;
      return [raw[at], raw[at + 1], raw[at + 2]];
    },
  };
}

/**
 * A filter to RGB with the matrix and range the file's video is tagged with; untagged, as
 * players read it (BT.601 below 720 lines, BT.709 from 720 up). RGB pictures stay as they are.
 */
async function toRgbAsTagged(path: string): Promise<string> {
  const out = await run(ffprobeBinary().path, [
    '-v',
    'error',
    '-select_streams',
    'v:0',
    '-show_entries',
    'stream=pix_fmt,height,color_space,color_range',
    '-of',
    'json',
    path,
  ]);
  const [stream] = (
    JSON.parse(out) as {
      streams: Array<{ pix_fmt: string; height: number; color_space?: string; color_range?: string }>;
    }
  ).streams;
  if (!/^(yuv|nv)/.test(stream.pix_fmt)) return 'format=rgb24';
  // ffprobe's names to swscale's
  const matrices: Record<string, string> = {
    bt709: 'bt709',
    smpte170m: 'smpte170m',
    bt470bg: 'bt601',
    fcc: 'fcc',
    smpte240m: 'smpte240m',
    bt2020nc: 'bt2020',
  };
  const matrix = matrices[stream.color_space ?? ''] ?? (stream.height < 720 ? 'bt601' : 'bt709');
  const range = stream.color_range === 'pc' || stream.pix_fmt.startsWith('yuvj') ? 'pc' : 'tv';
  return `scale=in_color_matrix=${matrix}:in_range=${range},format=rgb24`;
}

/** An ffmpeg expression true when any term is: a balanced sum, as ffmpeg 5.1 refuses a flat one past 100 terms. */
function anyOf(terms: string[]): string {
  if (terms.length === 1) return terms[0];
  const half = terms.length >> 1;
  return `(${anyOf(terms.slice(0, half))}+${anyOf(terms.slice(half))})`;
}

/** The decoded audio as interleaved stereo float samples at 48 kHz. */
export async function decodeAudio(path: string): Promise<Float32Array> {
  const raw = await runBuffer(ffmpegBinary().path, [
    '-v',
    'error',
    '-i',
    path,
    '-map',
    '0:a:0',
    '-f',
    'f32le',
    '-ac',
    '2',
    '-ar',
    '48000',
    '-',
  ]);
  return new Float32Array(raw.buffer, raw.byteOffset, raw.length / 4);
}

/** RMS level in dBFS of [from, to) seconds of decoded stereo audio. */
export function levelDb(samples: Float32Array, from: number, to: number): number {
  const a = Math.max(0, Math.round(from * 48000) * 2);
  const b = Math.min(samples.length, Math.round(to * 48000) * 2);
  let sum = 0;
  for (let i = a; i < b; i++) sum += samples[i] * samples[i];
  const rms = Math.sqrt(sum / Math.max(1, b - a));
  return rms === 0 ? -Infinity : 20 * Math.log10(rms);
}

/** Largest jump between consecutive samples in [from, to) seconds: a click shows up as a spike. */
export function maxStep(samples: Float32Array, from: number, to: number): number {
  let max = 0;
  for (let i = Math.round(from * 48000) * 2 + 2; i < Math.round(to * 48000) * 2; i++)
    max = Math.max(max, Math.abs(samples[i] - samples[i - 2]));
  return max;
}

/** Each video packet as ffprobe reads it from the container: its duration (in its time base) and whether it is a keyframe. */
export async function videoPackets(path: string): Promise<Array<{ duration: number; keyframe: boolean }>> {
  const out = await run(ffprobeBinary().path, [
    '-v',
    'error',
    '-select_streams',
    'v:0',
    '-show_entries',
    'packet=duration,flags',
    '-of',
    'csv=p=0',
    path,
  ]);
  return out
    .trim()
    .split('\n')
    .map((line) => {
      const [duration, flags] = line.split(',');
      return { duration: Number(duration), keyframe: flags.startsWith('K') };
    });
}

/** The video stream's time base [num, den] and each packet's presentation time in it, as the container stores them. */
export async function videoTimestamps(path: string): Promise<{ timeBase: [number, number]; pts: number[] }> {
  const out = await run(ffprobeBinary().path, [
    '-v',
    'error',
    '-select_streams',
    'v:0',
    '-show_entries',
    'stream=time_base:packet=pts',
    '-of',
    'json',
    path,
  ]);
  const json = JSON.parse(out) as { streams: Array<{ time_base: string }>; packets: Array<{ pts: number }> };
  const [num, den] = json.streams[0].time_base.split('/').map(Number);
  return { timeBase: [num, den], pts: json.packets.map((p) => p.pts).sort((a, b) => a - b) };
}

/** The MD5 of each decoded video frame, in order. */
export async function videoFrameDigests(path: string): Promise<string[]> {
  const out = await run(ffmpegBinary().path, ['-v', 'error', '-i', path, '-map', '0:v:0', '-f', 'framemd5', '-']);
  return out
    .split('\n')
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => line.split(',').at(-1)!.trim());
}

/** Seconds at which the audio first rises above `threshold` at or after `from` seconds (undefined: never). */
export function onsetAfter(samples: Float32Array, from: number, threshold = 0.05): number | undefined {
  for (let i = Math.max(0, Math.round(from * 48000) * 2); i < samples.length; i++)
    if (Math.abs(samples[i]) > threshold) return Math.floor(i / 2) / 48000;
  return undefined;
}

export function near(actual: Rgb, expected: Rgb, tolerance = 6): boolean {
  return actual.every((v, i) => Math.abs(v - expected[i]) <= tolerance);
}

export function runBuffer(binary: string, args: string[]): Promise<Buffer> {
  return import('node:child_process').then(
    ({ spawn }) =>
      new Promise((resolve, reject) => {
        const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
        const chunks: Buffer[] = [];
        let err = '';
        child.stdout.on('data', (c: Buffer) => chunks.push(c));
        child.stderr.on('data', (c: Buffer) => (err += c));
        child.on('close', (code) =>
          code === 0 ? resolve(Buffer.concat(chunks)) : reject(new Error(`${binary} ${code}: ${err}`)),
        );
      }),
  );
}

/** Test media made with ffmpeg: a solid-colour PNG, a tone, a colour video. */
export const media = {
  async png(path: string, colour: string, width: number, height: number) {
    // made as RGB: the color source's own YUV would round the colour on its way to the PNG
    await ffmpeg(['-f', 'lavfi', '-i', `color=c=${colour}:s=${width}x${height},format=rgb24`, '-frames:v', '1', path]);
    return path;
  },
  async tone(path: string, seconds: number, frequency = 440, channels = 2) {
    await ffmpeg(['-f', 'lavfi', '-i', `sine=f=${frequency}:r=48000:d=${seconds}`, '-ac', String(channels), path]);
    return path;
  },
  /** A video whose every frame is `colour` (or ffmpeg's moving test pattern, for `pattern`), with a tone unless `silent`. */
  async video(
    path: string,
    colour: string,
    width: number,
    height: number,
    seconds: number,
    options: { silent?: boolean; fps?: number } = {},
  ) {
    const picture = colour === 'pattern' ? 'testsrc2=' : `color=c=${colour}:`;
    await ffmpeg([
      '-f',
      'lavfi',
      '-i',
      `${picture}s=${width}x${height}:r=${options.fps ?? 30}:d=${seconds}`,
      ...(options.silent ? [] : ['-f', 'lavfi', '-i', `sine=f=300:r=48000:d=${seconds}`]),
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-pix_fmt',
      'yuv420p',
      ...(options.silent ? [] : ['-c:a', 'aac']),
      '-shortest',
      path,
    ]);
    return path;
  },
  /**
   * A silent video of one flat colour (#rrggbb) converted to YUV with `matrix` (limited
   * range), its colour tags written only when `tagged`.
   */
  async flatVideo(
    path: string,
    colour: string,
    width: number,
    height: number,
    matrix: 'bt601' | 'bt709',
    tagged: boolean,
  ) {
    const tags = tagged
      ? [
          '-colorspace',
          matrix === 'bt709' ? 'bt709' : 'smpte170m',
          '-color_primaries',
          matrix === 'bt709' ? 'bt709' : 'smpte170m',
          '-color_trc',
          matrix === 'bt709' ? 'bt709' : 'smpte170m',
          '-color_range',
          'tv',
        ]
      : [];
    await ffmpeg([
      '-f',
      'lavfi',
      '-i',
      `color=c=0x${colour.slice(1)}:s=${width}x${height}:r=30:d=0.3,format=rgb24,scale=out_color_matrix=${matrix}:out_range=tv,format=yuv420p`,
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      ...tags,
      path,
    ]);
    return path;
  },
  /**
   * An MP4 that only decoding finds broken: its header (moov first) is intact, so ffprobe
   * sees a 320x180 H.264 video, but every byte of its samples is zero, so no frame decodes.
   */
  async undecodableVideo(path: string) {
    await ffmpeg([
      '-f',
      'lavfi',
      '-i',
      'testsrc=s=320x180:r=30:d=1',
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-pix_fmt',
      'yuv420p',
      '-movflags',
      '+faststart',
      path,
    ]);
    const bytes = await readFile(path);
    const mdat = bytes.indexOf('mdat');
    bytes.fill(0, mdat + 4, mdat - 4 + bytes.readUInt32BE(mdat - 4));
    await writeFile(path, bytes);
    return path;
  },
};

/**
 * Serves files from `dir` over HTTP on a loopback address; /missing is 404, /hang never
 * answers. `requests` lists every path asked for, in order.
 */
export async function mediaServer(
  dir: string,
  host = '127.0.0.1',
): Promise<{ url: string; server: Server; requests: string[] }> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(req.url ?? '/');
    const name = decodeURIComponent((req.url ?? '/').slice(1).split('?')[0]);
    if (name === 'hang') return; // never answers
    if (name.startsWith('redirect-to-ftp')) {
      res.writeHead(302, { location: 'ftp://example.com/x.png' }).end();
      return;
    }
    const stream = createReadStream(join(dir, name));
    stream.on('error', () => res.writeHead(404).end('not found'));
    stream.on('open', () => {
      res.writeHead(200);
      stream.pipe(res);
    });
  });
  await new Promise<void>((r) => server.listen(0, host, r));
  after(() => {
    server.closeAllConnections();
    return new Promise<void>((r) => server.close(() => r()));
  });
  const { port } = server.address() as { port: number };
  return { url: `http://${host}:${port}`, server, requests };
}

/** A request a webhook receiver got: when, its path, its webhook-id, its body. */
export interface WebhookReceipt {
  at: number;
  path: string;
  webhookId: string;
  body: Record<string, any>;
  /** Why the signature did not verify, if it did not. */
  badSignature?: string;
}

/** A webhook receiver on loopback that verifies every delivery with `secret`; `answer` decides the reply. */
export async function webhookReceiver(
  secret: string,
  answer: (d: WebhookReceipt, res: ServerResponse) => void = (_d, res) => res.writeHead(200).end(),
): Promise<{ url: string; deliveries: WebhookReceipt[]; server: Server }> {
  const deliveries: WebhookReceipt[] = [];
  const server = createServer((req, res) => {
    const at = Date.now();
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c));
    req.on('end', () => {
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
      const d: WebhookReceipt = { at, path: req.url ?? '', webhookId: headers['webhook-id'], body: {} };
      try {
        d.body = new Webhook(secret).verify(raw, headers) as Record<string, any>;
      } catch (err) {
        d.badSignature = (err as Error).message;
        d.body = JSON.parse(raw || '{}') as Record<string, any>;
      }
      deliveries.push(d);
      answer(d, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  after(() => {
    server.closeAllConnections();
    return new Promise<void>((r) => server.close(() => r()));
  });
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, deliveries, server };
}

export interface S3TestServer {
  endpoint: string;
  bucket: string;
  /** "METHOD /path?query" of every request, in order. */
  requests: string[];
  /** The settings that reach the bucket, as the environment gives them (STORAGE_URL to add). */
  settings: Record<string, string>;
  stop(): Promise<void>;
}

/**
 * An S3 server (s3rver, in this process) on 127.0.0.1 with one empty bucket, its objects in a
 * temp folder; stopped when the test file ends. `before` runs ahead of each request (to hold one).
 */
export async function s3Server(
  options: { bucket?: string; before?: (req: IncomingMessage) => Promise<void> | void } = {},
): Promise<S3TestServer> {
  const { default: S3rver } = await import('s3rver');
  const bucket = options.bucket ?? 'reelsmith-test';
  const s3 = new S3rver({
    directory: await tempDir('reelsmith-s3-'),
    silent: true,
    configureBuckets: [{ name: bucket }],
  });
  await s3.configureBuckets();
  const handle = s3.callback();
  const requests: string[] = [];
  const server = createServer(async (req, res) => {
    requests.push(`${req.method} ${req.url}`);
    await options.before?.(req);
    handle(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= new Promise<void>((r) => {
      server.close(() => r());
      server.closeAllConnections();
    }));
  after(stop);
  const endpoint = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  // s3rver knows one account and does not check SigV4 signatures (it does check expiry)
  const settings = { S3_ENDPOINT: endpoint, AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' };
  return { endpoint, bucket, requests, settings, stop };
}

/** An S3Storage for `url` (s3://bucket/prefix), configured from settings as the CLI does; closed when the test file ends. */
export function s3Storage(url: string, settings: Record<string, string>, tuning: Partial<S3Tuning> = {}): S3Storage {
  const config = resolveStorageConfig({ ...settings, STORAGE_URL: url });
  assert.ok(config.kind === 's3');
  const storage = new S3Storage(config, tuning);
  after(() => storage.close());
  return storage;
}

/**
 * A fresh, empty schema in the local Postgres (127.0.0.1:5432, database `test`), dropped when
 * the test that made it ends (the file, when made outside a test); `url` reaches it as
 * DATABASE_URL does.
 */
export async function postgresSchema(): Promise<{ url: string; schema: string }> {
  const { postgresSchema: newSchema } = await import('../bench/local-services.ts');
  const schema = await newSchema('reelsmith_test');
  after(schema.stop);
  return schema.value;
}

/** A relay to the local Postgres that can be cut (`down`: open connections closed, new ones refused) and restored. */
export async function postgresRelay() {
  let up = true;
  const sockets = new Set<Socket>();
  const server = createTcpServer((client) => {
    if (!up) return void client.destroy();
    const upstream = connect(5432, '127.0.0.1');
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => {});
      socket.on('close', () => {
        sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  after(() => {
    for (const socket of sockets) socket.destroy();
    server.close();
  });
  return {
    port: (server.address() as { port: number }).port,
    down() {
      up = false;
      for (const socket of sockets) socket.destroy();
    },
    up() {
      up = true;
    },
  };
}

/** Files under a folder, for "nothing left behind" checks. */
export async function listFiles(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true })).map(String).sort();
}

// ---------------------------------------------------------------------------------------
// Processes: the CLI as a user runs it, and the ffmpegs alive right now (from /proc, Linux only)

/** The checkout's root, where `bin/reelsmith.js` is. */
export const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Runs `reelsmith` with these arguments (killed after `timeoutMs`); `env` is added to this process's. */
export async function cli(args: string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}) {
  const env = { ...process.env, ...options.env };
  const child = spawn(process.execPath, ['bin/reelsmith.js', ...args], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
  try {
    return await collect(child);
  } finally {
    clearTimeout(timer);
  }
}

export function collect(
  child: ChildProcess,
): Promise<{ code: number | null; stdout: string; stderr: string; at: number }> {
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr, at: performance.now() }));
  });
}

export async function until(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) assert.fail(`timed out waiting until ${what}`);
    await sleep(25);
  }
}

export interface Proc {
  pid: number;
  name: string;
  /** R running, S sleeping, Z dead but not yet reaped, ... */
  state: string;
  ppid: number;
  pgrp: number;
}

/** Every process, from /proc/<pid>/stat. */
export async function processes(): Promise<Proc[]> {
  const list: Proc[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    const m = /^(\d+) \((.*)\) (\S) (\d+) (\d+)/s.exec(stat);
    if (m) list.push({ pid: Number(m[1]), name: m[2], state: m[3], ppid: Number(m[4]), pgrp: Number(m[5]) });
  }
  return list;
}

/** Process names of the ffmpeg and ffprobe the engine runs (as /proc shows them: 15 characters). */
export function ffmpegNames(): Set<string> {
  return new Set([ffmpegBinary().path, ffprobeBinary().path].map((p) => basename(p).slice(0, 15)));
}

/** The ffmpeg and ffprobe processes under `pid`: its children, or (distributed mode) its workers' children. */
export async function ffmpegChildren(pid: number): Promise<Proc[]> {
  const names = ffmpegNames();
  const all = await processes();
  const parentOf = new Map(all.map((p) => [p.pid, p.ppid]));
  const under = (p: Proc) => {
    for (let up = p.ppid; up > 1; up = parentOf.get(up) ?? 0) if (up === pid) return true;
    return false;
  };
  return all.filter((p) => names.has(p.name) && under(p));
}

/** Whether that process still exists (same pid, same name), even as a zombie. */
export async function stillThere(p: Proc): Promise<boolean> {
  const stat = await readFile(`/proc/${p.pid}/stat`, 'utf8').catch(() => '');
  return stat.includes(`(${p.name})`);
}

/**
 * `mp4` (one track, its samples in one chunk) with sample tables that claim `samples`
 * samples of one byte each, all in that chunk: the file stays a few KB, and a reader that
 * believes it builds an index of `samples` entries (about 55 bytes each in ffprobe).
 */
export function indexBomb(mp4: Buffer, samples: number): Buffer {
  const bomb = Buffer.from(mp4);
  /** Where the fields of the first box of that type start (after its size, type, version and flags). */
  const fields = (type: string) => bomb.indexOf(type, 0, 'latin1') + 8;
  bomb.writeUInt32BE(samples, fields('stts') + 4); // entry 1: `samples` samples of one duration
  bomb.writeUInt32BE(samples, fields('stsc') + 8); // entry 1: from chunk 1, `samples` samples a chunk
  bomb.writeUInt32BE(1, fields('stsz')); // every sample 1 byte
  bomb.writeUInt32BE(samples, fields('stsz') + 4);
  return bomb;
}

// Font files a hostile tenant sends, built table by table.

/** A TrueType file of just these tables (enough for a cmap to be read; Skia refuses it). */
export function sfnt(tables: Record<string, Buffer>): Buffer {
  const entries = Object.entries(tables);
  const directory = Buffer.alloc(12 + 16 * entries.length);
  directory.writeUInt32BE(0x10000, 0);
  directory.writeUInt16BE(entries.length, 4);
  let offset = directory.length;
  entries.forEach(([tag, table], i) => {
    directory.write(tag, 12 + 16 * i, 'latin1');
    directory.writeUInt32BE(offset, 20 + 16 * i);
    directory.writeUInt32BE(table.length, 24 + 16 * i);
    offset += table.length;
  });
  return Buffer.concat([directory, ...entries.map(([, table]) => table)]);
}

export function maxp(glyphs: number): Buffer {
  const table = Buffer.alloc(6);
  table.writeUInt32BE(0x5000, 0);
  table.writeUInt16BE(glyphs, 4);
  return table;
}

/** A cmap of `records` Windows Unicode records, each pointing at one of `subtables` (round robin). */
export function cmap(records: number, subtables: Buffer[]): Buffer {
  const header = Buffer.alloc(4 + 8 * records);
  header.writeUInt16BE(records, 2);
  const offsets = subtables.map((_, i) => header.length + subtables.slice(0, i).reduce((sum, t) => sum + t.length, 0));
  for (let i = 0; i < records; i++) {
    header.writeUInt16BE(3, 4 + 8 * i);
    header.writeUInt16BE(10, 6 + 8 * i);
    header.writeUInt32BE(offsets[i % subtables.length], 8 + 8 * i);
  }
  return Buffer.concat([header, ...subtables]);
}

/** Format 12: groups of [first, last, first glyph]. */
export function format12(groups: Array<[number, number, number]>): Buffer {
  const table = Buffer.alloc(16 + 12 * groups.length);
  table.writeUInt16BE(12, 0);
  table.writeUInt32BE(table.length, 4);
  table.writeUInt32BE(groups.length, 12);
  groups.forEach(([first, last, glyph], g) => {
    table.writeUInt32BE(first, 16 + 12 * g);
    table.writeUInt32BE(last, 20 + 12 * g);
    table.writeUInt32BE(glyph, 24 + 12 * g);
  });
  return table;
}

/** Format 4: segments of [first, last, delta], no glyph id array. */
export function format4(segments: Array<[number, number, number]>): Buffer {
  const n = segments.length;
  const table = Buffer.alloc(16 + 8 * n);
  table.writeUInt16BE(4, 0);
  table.writeUInt16BE(table.length, 2);
  table.writeUInt16BE(2 * n, 6);
  segments.forEach(([first, last, delta], s) => {
    table.writeUInt16BE(last, 14 + 2 * s);
    table.writeUInt16BE(first, 16 + 2 * n + 2 * s);
    table.writeUInt16BE(delta, 16 + 4 * n + 2 * s);
  });
  return table;
}

/** The issue's 1,804-byte font: records each claiming U+0000..U+10FFFF (the 143 s one). */
export const wholeRange = (glyphs: number, records = 215) =>
  sfnt({ cmap: cmap(records, [format12([[0, 0x10ffff, 1]])]), maxp: maxp(glyphs) });

/** A frame of animatedWebp: a still WebP file (as ffmpeg's libwebp writes it) and where and how it shows. */
export interface WebpTestFrame {
  still: Buffer;
  /** Even, as the container stores half of them. */
  x: number;
  y: number;
  width: number;
  height: number;
  /** Milliseconds. */
  duration: number;
  /** Alpha-blended (the default) or replacing its rectangle. */
  blend?: boolean;
  /** Its rectangle cleared after it shows. */
  dispose?: boolean;
}

/** An animated WebP (VP8X, ANIM looping for ever, one ANMF per frame holding the still's ALPH and VP8/VP8L chunks). */
export function animatedWebp(canvas: { width: number; height: number }, frames: WebpTestFrame[]): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const head = Buffer.alloc(8);
    head.write(type, 0, 'latin1');
    head.writeUInt32LE(data.length, 4);
    return Buffer.concat([head, data, Buffer.alloc(data.length % 2)]);
  };
  const u24 = (v: number) => Buffer.from([v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff]);
  const imageChunks = (still: Buffer) => {
    const kept: Buffer[] = [];
    for (let at = 12; at + 8 <= still.length; ) {
      const size = still.readUInt32LE(at + 4);
      const type = still.toString('latin1', at, at + 4);
      if (type === 'ALPH' || type === 'VP8 ' || type === 'VP8L')
        kept.push(still.subarray(at, at + 8 + size + (size % 2)));
      at += 8 + size + (size % 2);
    }
    return kept;
  };
  const vp8x = Buffer.concat([Buffer.from([0x12, 0, 0, 0]), u24(canvas.width - 1), u24(canvas.height - 1)]);
  const anim = Buffer.from([0, 0, 0, 0, 0, 0]);
  const anmf = frames.map((f) => {
    const flags = (f.blend === false ? 0x02 : 0) | (f.dispose ? 0x01 : 0);
    const head = [
      u24(f.x / 2),
      u24(f.y / 2),
      u24(f.width - 1),
      u24(f.height - 1),
      u24(f.duration),
      Buffer.from([flags]),
    ];
    return chunk('ANMF', Buffer.concat([...head, ...imageChunks(f.still)]));
  });
  const body = Buffer.concat([Buffer.from('WEBP'), chunk('VP8X', vp8x), chunk('ANIM', anim), ...anmf]);
  const riff = Buffer.alloc(8);
  riff.write('RIFF', 0, 'latin1');
  riff.writeUInt32LE(body.length, 4);
  return Buffer.concat([riff, body]);
}
