// Shared test tools: render a movie, then look at the MP4 the way a user would
// (ffprobe, decoded RGB frames, decoded PCM audio), plus a local media server.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createReadStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { ffmpegBinary, ffprobeBinary, run } from '../src/media/index.ts';
import { normalizeMovie } from '../src/movie/index.ts';
import { renderMovie, type RenderOptions } from '../src/render/index.ts';

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
  sample_rate?: string;
  channels?: number;
  duration?: string;
  nb_read_frames?: string;
}

export async function probe(path: string): Promise<{ video: StreamInfo; audio?: StreamInfo; format: { duration: string; format_name: string } }> {
  const out = await run(ffprobeBinary().path, ['-v', 'error', '-count_frames', '-show_streams', '-show_format', '-of', 'json', path]);
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

/** Frames of a video decoded to RGB: all of them (keep such videos small), or `only` these numbers. */
export async function decodeFrames(path: string, width: number, height: number, selected?: number[]): Promise<Frames> {
  const only = selected && [...selected].sort((a, b) => a - b);
  const select = only ? ['-vf', `select='${only.map((n) => `eq(n\\,${n})`).join('+')}'`, '-vsync', '0'] : [];
  const raw = await runBuffer(ffmpegBinary().path, ['-v', 'error', '-i', path, '-map', '0:v:0', ...select, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-']);
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

/** The decoded audio as interleaved stereo float samples at 48 kHz. */
export async function decodeAudio(path: string): Promise<Float32Array> {
  const raw = await runBuffer(ffmpegBinary().path, ['-v', 'error', '-i', path, '-map', '0:a:0', '-f', 'f32le', '-ac', '2', '-ar', '48000', '-']);
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
  for (let i = Math.round(from * 48000) * 2 + 2; i < Math.round(to * 48000) * 2; i++) max = Math.max(max, Math.abs(samples[i] - samples[i - 2]));
  return max;
}

export function near(actual: Rgb, expected: Rgb, tolerance = 6): boolean {
  return actual.every((v, i) => Math.abs(v - expected[i]) <= tolerance);
}

function runBuffer(binary: string, args: string[]): Promise<Buffer> {
  return import('node:child_process').then(
    ({ spawn }) =>
      new Promise((resolve, reject) => {
        const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
        const chunks: Buffer[] = [];
        let err = '';
        child.stdout.on('data', (c: Buffer) => chunks.push(c));
        child.stderr.on('data', (c: Buffer) => (err += c));
        child.on('close', (code) => (code === 0 ? resolve(Buffer.concat(chunks)) : reject(new Error(`${binary} ${code}: ${err}`))));
      }),
  );
}

/** Test media made with ffmpeg: a solid-colour PNG, a tone, a colour video. */
export const media = {
  async png(path: string, colour: string, width: number, height: number) {
    await ffmpeg(['-f', 'lavfi', '-i', `color=c=${colour}:s=${width}x${height}`, '-frames:v', '1', path]);
    return path;
  },
  async tone(path: string, seconds: number, frequency = 440, channels = 2) {
    await ffmpeg(['-f', 'lavfi', '-i', `sine=f=${frequency}:r=48000:d=${seconds}`, '-ac', String(channels), path]);
    return path;
  },
  /** A video whose every frame is `colour`, with a tone unless `silent`. */
  async video(path: string, colour: string, width: number, height: number, seconds: number, options: { silent?: boolean; fps?: number } = {}) {
    await ffmpeg([
      '-f', 'lavfi', '-i', `color=c=${colour}:s=${width}x${height}:r=${options.fps ?? 30}:d=${seconds}`,
      ...(options.silent ? [] : ['-f', 'lavfi', '-i', `sine=f=300:r=48000:d=${seconds}`]),
      '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', ...(options.silent ? [] : ['-c:a', 'aac']), '-shortest', path,
    ]);
    return path;
  },
};

/**
 * Serves files from `dir` over HTTP on a loopback address; /missing is 404, /hang never
 * answers. `requests` lists every path asked for, in order.
 */
export async function mediaServer(dir: string, host = '127.0.0.1'): Promise<{ url: string; server: Server; requests: string[] }> {
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

/** Files under a folder, for "nothing left behind" checks. */
export async function listFiles(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true })).map(String).sort();
}
