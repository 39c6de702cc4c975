// HTTP as clients and operators meet it, over real HTTP: outputs served with validators and a
// private cache lifetime that ends with the signed link (conditional requests, Range, HEAD,
// the download name); CORS off by default and on for the origins `serve --cors-origin` (or
// REELSMITH_CORS_ORIGIN) names; /readyz answering per check, naming the one that fails,
// running ffmpeg once rather than per probe, and 503 while a real `reelsmith serve` drains
// on SIGTERM with a job in flight. And what the HTTP layer refuses itself (no route, a path
// parameter too long, a path that is not percent-encoding, headers too large) comes in the
// one error shape with a catalogue code.
import assert from 'node:assert/strict';
import { chmod, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { request } from 'undici';
import { ffmpegBinary } from '../src/media/index.ts';
import { cli, probe, tempDir, until } from './helpers.ts';
import {
  api,
  assertErrorShape,
  dataFolder,
  exampleAssets,
  footageMovie,
  serve,
  startService,
  waitForJob,
  waitUntil,
} from './service-helpers.ts';

type Json = Record<string, any>;

const dir = await tempDir('reelsmith-http-');
const svc = await startService();
const tenant = await svc.tenant('pro');

/** A finished job: two 0.5 s scenes at 320x180. */
async function finishedJob(): Promise<{ jobId: string; job: Json }> {
  const res = await api(svc.url, tenant.key, '/v1/render/jobs', {
    method: 'POST',
    json: {
      kind: 'movie',
      projectId: tenant.projectId,
      movie: {
        width: 320,
        height: 180,
        fps: 30,
        scenes: [
          { id: 'intro', duration: 0.5, bgColor: '#1a1a2e', layers: [{ id: 'title', type: 'text', text: 'Hi' }] },
          { id: 'outro', duration: 0.5, bgColor: '#0f172a' },
        ],
      },
    },
  });
  const { jobId } = (await res.json()) as { jobId: string };
  const job = await waitForJob(svc.url, tenant.key, jobId);
  assert.equal(job.status, 'done', JSON.stringify(job.error));
  return { jobId, job };
}

/**
 * A GET with exactly these headers (fetch() would add `Cache-Control: no-cache` beside
 * validators, which asks for the file whatever they say): status, headers, body length.
 */
async function revalidate(url: string, headers: Record<string, string>) {
  const res = await request(url, { headers });
  const bytes = (await res.body.arrayBuffer()).byteLength;
  const all = new Headers();
  for (const [name, value] of Object.entries(res.headers)) if (typeof value === 'string') all.set(name, value);
  return { status: res.statusCode, headers: all, bytes };
}

/** The seconds a `Cache-Control: private, max-age=N` allows. */
function privateMaxAge(res: { headers: Headers }): number {
  const m = /^private, max-age=(\d+)$/.exec(res.headers.get('cache-control') ?? '');
  assert.ok(m, `Cache-Control: ${res.headers.get('cache-control')}`);
  return Number(m[1]);
}

const seconds = () => Date.now() / 1000;

test('outputs: ETag, Last-Modified, a private cache lifetime within the link, inline as <jobId>.mp4; conditional requests, Range, HEAD', async () => {
  const { jobId, job } = await finishedJob();
  const link = job.outputUrl as string;
  const expires = Number(new URL(link).searchParams.get('expires'));

  const asked = seconds();
  const whole = await fetch(link);
  assert.equal(whole.status, 200);
  const mp4 = Buffer.from(await whole.arrayBuffer());
  assert.equal(mp4.length, job.mediaData.bytes);
  await writeFile(join(dir, 'whole.mp4'), mp4);
  assert.equal((await probe(join(dir, 'whole.mp4'))).video.nb_read_frames, '30');
  assert.equal(whole.headers.get('content-type'), 'video/mp4');
  assert.equal(whole.headers.get('accept-ranges'), 'bytes');
  assert.equal(whole.headers.get('content-disposition'), `inline; filename="${jobId}.mp4"`);
  const etag = whole.headers.get('etag') ?? '';
  assert.match(etag, /^(W\/)?"[^"]+"$/);
  const lastModified = whole.headers.get('last-modified') ?? '';
  const modifiedAt = Date.parse(lastModified);
  // the MP4 was written while the job ran (HTTP dates have whole seconds)
  assert.ok(
    modifiedAt >= Date.parse(job.startedAt) - 1000 && modifiedAt <= Date.parse(job.finishedAt),
    `Last-Modified ${lastModified}, job ran ${job.startedAt} to ${job.finishedAt}`,
  );
  const maxAge = privateMaxAge(whole);
  assert.ok(
    maxAge <= expires - asked && maxAge > expires - asked - 60,
    `max-age ${maxAge}, expires in ${expires - asked} s`,
  );

  // a link that expires sooner may be cached for less
  const key = decodeURIComponent(new URL(link).pathname.replace(/^\/v1\/files\//, ''));
  const soon = new URL(link);
  soon.search = new URL(await svc.service.outputUrl(key, 30)).search;
  const short = await fetch(soon);
  assert.equal(short.status, 200);
  await short.arrayBuffer();
  assert.ok(privateMaxAge(short) <= 30 && privateMaxAge(short) >= 20, `max-age ${privateMaxAge(short)}`);

  // conditional requests, as a browser revalidating its copy sends them: the same file is not sent again
  const notModified = await revalidate(link, { 'if-none-match': etag });
  assert.equal(notModified.status, 304);
  assert.equal(notModified.bytes, 0);
  assert.equal(notModified.headers.get('etag'), etag);
  privateMaxAge(notModified);
  const otherTag = await revalidate(link, { 'if-none-match': '"something-else"' });
  assert.equal(otherTag.status, 200);
  assert.equal(otherTag.bytes, mp4.length);
  const since = await revalidate(link, { 'if-modified-since': lastModified });
  assert.equal(since.status, 304);
  // fetch() marks a request with validators `Cache-Control: no-cache` (a reload): it gets the file
  assert.equal((await fetch(link, { headers: { 'if-none-match': etag } })).status, 200);

  // Range, and If-Range: a part only while the file is the one the client has
  const part = await fetch(link, { headers: { range: 'bytes=100-199', 'if-range': lastModified } });
  assert.equal(part.status, 206);
  assert.equal(part.headers.get('content-range'), `bytes 100-199/${mp4.length}`);
  assert.deepEqual(Buffer.from(await part.arrayBuffer()), mp4.subarray(100, 200));
  const stale = await fetch(link, {
    headers: { range: 'bytes=100-199', 'if-range': new Date(modifiedAt - 3600_000).toUTCString() },
  });
  assert.equal(stale.status, 200, 'a changed file is sent whole');
  assert.equal((await stale.arrayBuffer()).byteLength, mp4.length);
  const beyond = await fetch(link, { headers: { range: `bytes=${mp4.length}-` } });
  assert.equal(beyond.status, 416);
  assert.equal(beyond.headers.get('content-range'), `bytes */${mp4.length}`);
  assertErrorShape(await beyond.json(), 'RANGE_NOT_SATISFIABLE');

  const head = await fetch(link, { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(head.headers.get('content-length'), String(mp4.length));
  assert.equal(head.headers.get('etag'), etag);
  assert.equal((await head.arrayBuffer()).byteLength, 0);
});

/** What the service answers to `requestLine` (and a Host header) sent as is over a socket: status line, JSON body. */
function rawAnswer(requestLine: string, headers = ''): Promise<{ status: string; body: unknown }> {
  const { hostname, port } = new URL(svc.url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    let answer = '';
    socket.setEncoding('utf8').on('data', (chunk: string) => (answer += chunk));
    // a server that closes on a request it refuses may reset the connection: the answer came before
    socket.on('error', () => {});
    socket.on('close', () => {
      const [head, body] = answer.split('\r\n\r\n');
      resolve({ status: head.split('\r\n')[0], body: JSON.parse(body) });
    });
    socket.write(
      `${requestLine}\r\nHost: localhost\r\nx-api-key: ${tenant.key}\r\n${headers}Connection: close\r\n\r\n`,
    );
  });
}

test('the HTTP layer answers in the one error shape: 404 no route, 414 a job id over 100 characters, 400 a path that is not percent-encoding, 431 headers too large', async () => {
  const cases: Array<[string, string, string, string, RegExp]> = [
    ['GET /v1/nothing-here HTTP/1.1', '', '404 Not Found', 'NOT_FOUND', /^No route GET \/v1\/nothing-here$/],
    [
      `GET /v1/jobs/job_${'a'.repeat(101)} HTTP/1.1`,
      '',
      '414 URI Too Long',
      'URI_TOO_LONG',
      /^A path parameter is longer than 100 characters/,
    ],
    [
      `POST /v1/jobs/${'b'.repeat(200)}/cancel HTTP/1.1`,
      '',
      '414 URI Too Long',
      'URI_TOO_LONG',
      /^A path parameter is longer than 100 characters/,
    ],
    ['GET /v1/jobs/%E0%A4%A HTTP/1.1', '', '400 Bad Request', 'INVALID_REQUEST', /not valid percent-encoding/],
    ['DELETE /v1/jobs/%zz HTTP/1.1', '', '400 Bad Request', 'INVALID_REQUEST', /not valid percent-encoding/],
    [
      'GET /v1/jobs HTTP/1.1',
      `x-big: ${'c'.repeat(20_000)}\r\n`,
      '431 Request Header Fields Too Large',
      'HEADERS_TOO_LARGE',
      /larger than the limit/,
    ],
  ];
  for (const [line, headers, status, code, message] of cases) {
    const answer = await rawAnswer(line, headers);
    assert.equal(answer.status, `HTTP/1.1 ${status}`, line.slice(0, 60));
    assert.match(assertErrorShape(answer.body, code).message, message, line.slice(0, 60));
  }
  // a 404 quotes a path of kilobytes shortened
  const long = await rawAnswer(`GET /${'d'.repeat(5000)} HTTP/1.1`);
  assert.ok(assertErrorShape(long.body, 'NOT_FOUND').message.length < 300);
  // a job id of 100 characters is a job id like any other: not found
  assertErrorShape((await rawAnswer(`GET /v1/jobs/${'e'.repeat(100)} HTTP/1.1`)).body, 'NOT_FOUND');
});

test('CORS is off by default: no Access-Control-Allow-Origin, no preflight', async () => {
  const origin = 'https://app.example.com';
  const get = await api(svc.url, tenant.key, '/v1/usage', { headers: { origin } });
  assert.equal(get.status, 200);
  await get.arrayBuffer();
  assert.equal(get.headers.get('access-control-allow-origin'), null);
  const preflight = await fetch(`${svc.url}/v1/render/jobs`, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
  });
  await preflight.arrayBuffer();
  assert.equal(preflight.headers.get('access-control-allow-origin'), null);
});

test('/readyz: 200 with every check; 503 naming the failing check; /healthz stays liveness', async () => {
  const ready = await fetch(`${svc.url}/readyz`);
  const body = (await ready.json()) as Json;
  assert.equal(ready.status, 200, JSON.stringify(body));
  assert.deepEqual(body, {
    ready: true,
    failing: [],
    checks: {
      draining: { ok: true },
      database: { ok: true },
      disk: { ok: true },
      ffmpeg: { ok: true },
      ffprobe: { ok: true },
    },
  });

  // a disk with less free space than new jobs need
  const full = await startService({ minFreeBytes: Number.MAX_SAFE_INTEGER });
  const notReady = await fetch(`${full.url}/readyz`);
  const text = await notReady.text();
  assert.equal(notReady.status, 503, text);
  const refused = JSON.parse(text) as Json;
  assert.deepEqual(refused.failing, ['disk']);
  assert.equal(refused.checks.disk.ok, false);
  assert.match(refused.checks.disk.message, /--min-free-disk/);
  assert.ok(!text.includes(full.dataDir) && !/\d{4,}/.test(text), `names no path and no amount: ${text}`);
  const alive = await fetch(`${full.url}/healthz`);
  assert.equal(alive.status, 200);
  assert.deepEqual(await alive.json(), { ok: true });

  // an ffmpeg that does not run
  const saved = process.env.FFMPEG_PATH;
  process.env.FFMPEG_PATH = join(dir, 'no-such-ffmpeg');
  try {
    const broken = await fetch(`${svc.url}/readyz`);
    const reply = (await broken.json()) as Json;
    assert.equal(broken.status, 503);
    assert.deepEqual(reply.failing, ['ffmpeg']);
    assert.match(reply.checks.ffmpeg.message, /ffmpeg does not run/);
  } finally {
    if (saved === undefined) delete process.env.FFMPEG_PATH;
    else process.env.FFMPEG_PATH = saved;
  }
});

// ---------------------------------------------------------------------------------------
// `reelsmith serve` as a child process.

/**
 * An ffmpeg that notes each `-version` run (what readiness runs) in `runs`, holds that run
 * while the file `hold` exists, and otherwise is the real one.
 */
async function watchedFfmpeg(): Promise<{ path: string; runs: () => Promise<number>; hold: string }> {
  const folder = await tempDir('reelsmith-http-ffmpeg-');
  const path = join(folder, 'ffmpeg');
  const runs = join(folder, 'version-runs');
  const hold = join(folder, 'hold');
  await writeFile(
    path,
    `#!/bin/sh
if [ "$1" = "-version" ]; then
  echo run >> '${runs}'
  while [ -e '${hold}' ]; do sleep 0.05; done
fi
exec '${ffmpegBinary().path}' "$@"
`,
  );
  await chmod(path, 0o755);
  const count = async () => (await readFile(runs, 'utf8').catch(() => '')).split('\n').filter(Boolean).length;
  return { path, runs: count, hold };
}

/** A CORS preflight for a JSON POST with an API key, from `origin`. */
async function preflight(base: string, origin: string): Promise<Response> {
  const res = await fetch(`${base}/v1/render/jobs`, {
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'content-type,x-api-key',
    },
  });
  await res.arrayBuffer();
  return res;
}

test('serve --cors-origin (repeated, comma lists): those origins pass the preflight, others get no header; readiness runs ffmpeg once', async () => {
  const data = await dataFolder();
  const ffmpeg = await watchedFfmpeg();
  const server = await serve(data.dir, {
    args: [
      '--cors-origin',
      'https://app.example.com',
      '--cors-origin',
      'https://admin.example.com/,http://localhost:5173',
    ],
    env: { FFMPEG_PATH: ffmpeg.path, REELSMITH_CORS_ORIGIN: 'https://env.example.com' },
  });
  try {
    for (const origin of ['https://app.example.com', 'https://admin.example.com', 'http://localhost:5173']) {
      const res = await preflight(server.url, origin);
      assert.equal(res.status, 204, origin);
      assert.equal(res.headers.get('access-control-allow-origin'), origin);
      assert.match(res.headers.get('access-control-allow-methods') ?? '', /POST/);
      assert.match(res.headers.get('access-control-allow-headers') ?? '', /x-api-key/);
      assert.match(res.headers.get('vary') ?? '', /origin/i);
    }
    // the flags replace the environment variable; and any other origin
    for (const origin of ['https://env.example.com', 'https://evil.example.com'])
      assert.equal((await preflight(server.url, origin)).headers.get('access-control-allow-origin'), null, origin);

    const get = await api(server.url, data.key, '/v1/usage', { headers: { origin: 'https://app.example.com' } });
    assert.equal(get.status, 200);
    await get.arrayBuffer();
    assert.equal(get.headers.get('access-control-allow-origin'), 'https://app.example.com');
    assert.match(get.headers.get('access-control-expose-headers') ?? '', /retry-after/);

    // readiness: ready, and probes (at once or one after another) share one ffmpeg run
    const answers = await Promise.all(Array.from({ length: 5 }, () => fetch(`${server.url}/readyz`)));
    for (let i = 0; i < 5; i++) answers.push(await fetch(`${server.url}/readyz`));
    for (const res of answers) {
      const body = (await res.json()) as Json;
      assert.equal(res.status, 200, JSON.stringify(body));
      assert.equal(body.ready, true);
    }
    assert.equal(await ffmpeg.runs(), 1, 'ffmpeg -version ran once for ten probes');
  } finally {
    server.child.kill('SIGTERM');
    await server.exited;
  }
});

test('a --cors-origin or REELSMITH_CORS_ORIGIN that is not an origin is refused (exit 2) before anything starts', async () => {
  const refused = await cli(['serve', '--cors-origin', 'https://app.example.com/app', '--data', dir]);
  assert.equal(refused.code, 2, refused.stderr);
  assert.match(refused.stderr, /https:\/\/app\.example\.com\/app is not an origin/);
  const fromEnv = await cli(['serve', '--data', dir], { env: { REELSMITH_CORS_ORIGIN: 'app.example.com' } });
  assert.equal(fromEnv.code, 2, fromEnv.stderr);
  assert.match(fromEnv.stderr, /from env 'REELSMITH_CORS_ORIGIN' is invalid\. app\.example\.com is not an origin/);
});

test('/readyz answers 503 while `serve` drains on SIGTERM with a job in flight (and REELSMITH_CORS_ORIGIN enables CORS)', async () => {
  const assets = await exampleAssets();
  const data = await dataFolder();
  const ffmpeg = await watchedFfmpeg();
  // readiness's first ffmpeg run is held: a probe is under way when SIGTERM comes
  await writeFile(ffmpeg.hold, '');
  const server = await serve(data.dir, {
    env: { FFMPEG_PATH: ffmpeg.path, REELSMITH_CORS_ORIGIN: 'https://env.example.com' },
  });
  try {
    assert.equal(
      (await preflight(server.url, 'https://env.example.com')).headers.get('access-control-allow-origin'),
      'https://env.example.com',
    );
    const submitted = await api(server.url, data.key, '/v1/render/jobs', {
      method: 'POST',
      json: footageMovie(`${assets.url}/footage/city.mp4`, 'ready', 3, 2.5),
    });
    const { jobId } = (await submitted.json()) as { jobId: string };
    await waitUntil(server.url, data.key, jobId, (j) => j.phase === 'rendering', 'rendering');

    const probe = fetch(`${server.url}/readyz`);
    await until(async () => (await ffmpeg.runs()) === 1, 10_000, 'readiness runs ffmpeg -version');
    server.child.kill('SIGTERM');
    await until(() => server.output().includes('SIGTERM: draining'), 10_000, 'the server drains');
    await rm(ffmpeg.hold);
    const res = await probe;
    const body = (await res.json()) as Json;
    assert.equal(res.status, 503, JSON.stringify(body));
    assert.deepEqual(body.failing, ['draining']);
    assert.equal(body.checks.draining.ok, false);
    assert.deepEqual(await server.exited, { code: 0, signal: null });
  } finally {
    server.child.kill('SIGKILL');
  }
});
