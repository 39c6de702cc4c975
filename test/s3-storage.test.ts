// S3 storage: its settings resolved by a pure function, then against a real S3 server (s3rver
// on a loopback port): multipart uploads that appear only when complete, ranged reads,
// presigned URLs fetched as a user would, keys kept under the prefix, and a store that is
// gone, failing or silent reported as StorageUnavailableError within a bounded time.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  resolveStorageConfig,
  StorageConfigError,
  StorageError,
  StorageUnavailableError,
  type S3Tuning,
} from '../src/storage/index.ts';
import { s3Server, s3Storage, tempDir } from './helpers.ts';

const MiB = 1024 * 1024;
const work = await tempDir();

async function fileOf(name: string, bytes: number): Promise<{ path: string; data: Buffer }> {
  const data = randomBytes(bytes);
  const path = join(work, name);
  await writeFile(path, data);
  return { path, data };
}

const credentials = { AWS_ACCESS_KEY_ID: 'AKIA0000', AWS_SECRET_ACCESS_KEY: 'secret' };

// the server the tests below share (started before any test: a test file's top level awaits nothing after its first test)
/** Set by a test to run ahead of each request the server gets. */
let beforeRequest: ((method: string, url: string) => Promise<void>) | undefined;
const server = await s3Server({ before: (req) => beforeRequest?.(req.method!, req.url!) });
const storage = s3Storage(`s3://${server.bucket}/tenant/a`, server.settings, { partSizeBytes: 5 * MiB });

// ---------------------------------------------------------------------------------------
// Settings

test('no storage URL is local storage; s3://bucket/prefix with credentials is a frozen S3 config', () => {
  assert.deepEqual(resolveStorageConfig({}), { kind: 'local' });
  assert.deepEqual(resolveStorageConfig({ STORAGE_URL: '  ', ...credentials }), { kind: 'local' });
  const config = resolveStorageConfig({ STORAGE_URL: 's3://reels/prod/outputs', ...credentials });
  assert.deepEqual(config, {
    kind: 's3',
    bucket: 'reels',
    prefix: 'prod/outputs/',
    endpoint: undefined,
    region: 'us-east-1',
    forcePathStyle: false,
    credentials: { accessKeyId: 'AKIA0000', secretAccessKey: 'secret' },
  });
  assert.ok(Object.isFrozen(config) && config.kind === 's3' && Object.isFrozen(config.credentials));
});

test('endpoint, region and path style from their settings; a custom endpoint means path style unless told', () => {
  const resolve = (more: Record<string, string>) =>
    resolveStorageConfig({ STORAGE_URL: 's3://reels', ...credentials, ...more });
  assert.deepEqual(pick(resolve({ S3_ENDPOINT: 'http://127.0.0.1:9000/', S3_REGION: 'auto' })), {
    prefix: '',
    endpoint: 'http://127.0.0.1:9000',
    region: 'auto',
    forcePathStyle: true,
  });
  assert.equal(
    pick(resolve({ S3_ENDPOINT: 'https://s3.example.com', S3_FORCE_PATH_STYLE: 'false' })).forcePathStyle,
    false,
  );
  assert.equal(pick(resolve({ S3_FORCE_PATH_STYLE: 'TRUE' })).forcePathStyle, true);
  assert.equal(pick(resolveStorageConfig({ STORAGE_URL: 's3://reels/a/b/', ...credentials })).prefix, 'a/b/');
});

function pick(config: ReturnType<typeof resolveStorageConfig>) {
  assert.ok(config.kind === 's3');
  const { prefix, endpoint, region, forcePathStyle } = config;
  return { prefix, endpoint, region, forcePathStyle };
}

test('a storage setting that cannot work is refused with what is wrong', () => {
  const refused = (settings: Record<string, string>, message: RegExp) =>
    assert.throws(
      () => resolveStorageConfig(settings),
      (err: Error) => err instanceof StorageConfigError && message.test(err.message),
      message.source,
    );
  refused({ STORAGE_URL: 's3://', ...credentials }, /"s3:\/\/" names no bucket: expected s3:\/\/bucket\/prefix/);
  refused({ STORAGE_URL: 's3:///prefix', ...credentials }, /names no bucket/);
  refused({ STORAGE_URL: 'gs://reels/x', ...credentials }, /unknown scheme "gs", expected s3:\/\/bucket\/prefix/);
  refused({ STORAGE_URL: 'reels/x', ...credentials }, /"reels\/x" is not a storage URL/);
  refused({ STORAGE_URL: 's3://Reels_Bucket', ...credentials }, /"Reels_Bucket" is not a bucket name/);
  refused({ STORAGE_URL: 's3://reels/a/../b', ...credentials }, /the prefix "a\/..\/b" is not a plain path/);
  refused({ STORAGE_URL: 's3://reels/a//b', ...credentials }, /the prefix "a\/\/b" is not a plain path/);
  refused({ STORAGE_URL: 's3://reels/x' }, /s3:\/\/reels\/x needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/);
  refused({ STORAGE_URL: 's3://reels/x', AWS_ACCESS_KEY_ID: 'AKIA0000' }, /needs AWS_SECRET_ACCESS_KEY \(/);
  refused({ STORAGE_URL: 's3://reels', ...credentials, S3_ENDPOINT: 'minio:9000' }, /S3_ENDPOINT "minio:9000" is not/);
  refused(
    { STORAGE_URL: 's3://reels', ...credentials, S3_FORCE_PATH_STYLE: 'yes' },
    /S3_FORCE_PATH_STYLE "yes": expected/,
  );
});

// ---------------------------------------------------------------------------------------
// Against an S3 server

test('a 12 MiB file goes up in three parts and appears only once the upload completes', async () => {
  const { path, data } = await fileOf('big.mp4', 12 * MiB);
  const key = 'outputs/job_1/output.mp4';
  let completing!: () => void;
  const completeAsked = new Promise<void>((r) => (completing = r));
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  beforeRequest = async (method, url) => {
    if (method === 'POST' && url.includes('uploadId=')) {
      completing();
      await released;
    }
  };
  const from = server.requests.length;
  const put = storage.put(key, path, { move: true });
  await completeAsked;
  assert.equal(await storage.stat(key), undefined, 'every part is up, yet no object until the upload completes');
  release();
  assert.equal((await put).bytes, 12 * MiB);
  beforeRequest = undefined;

  const requests = server.requests.slice(from);
  assert.equal(requests.filter((r) => /^POST .*\?uploads/.test(r)).length, 1, 'one multipart upload');
  assert.equal(requests.filter((r) => /^PUT .*partNumber=/.test(r)).length, 3, 'of three parts');
  assert.equal(existsSync(path), false, 'the file was moved');
  assert.equal((await storage.stat(key))?.bytes, 12 * MiB);
  const across = { start: 5 * MiB - 10, end: 5 * MiB + 9 };
  assert.deepEqual(await buffer(storage.read(key, across)), data.subarray(across.start, across.end + 1));
  assert.deepEqual(await buffer(storage.read(key)), data);
});

test('a presigned URL gives the bytes to plain fetch until it expires, then is refused', async () => {
  const { path, data } = await fileOf('short.mp4', 200_000);
  await storage.put('outputs/job_2/output.mp4', path);
  const now = Math.floor(Date.now() / 1000);
  const res = await fetch(await storage.urlFor('outputs/job_2/output.mp4', now + 3600));
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'video/mp4');
  assert.deepEqual(Buffer.from(await res.arrayBuffer()), data);

  const soon = Math.floor(Date.now() / 1000) + 2;
  const expiring = new URL(await storage.urlFor('outputs/job_2/output.mp4', soon));
  const signedAt = Date.parse(
    expiring.searchParams.get('X-Amz-Date')!.replace(/^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/, '$1-$2-$3T$4:$5:$6Z'),
  );
  const lasts = Number(expiring.searchParams.get('X-Amz-Expires'));
  assert.equal(signedAt / 1000 + lasts, soon, 'valid exactly until the time asked');
  await sleep((soon + 1) * 1000 - Date.now());
  const late = await fetch(expiring);
  assert.equal(late.status, 403);
  assert.match(await late.text(), /Request has expired/);
  await assert.rejects(storage.urlFor('outputs/job_2/output.mp4', now + 8 * 86_400), /lasts 1 s to 7 days/);
});

test('every object request stays under the prefix; a key that would climb out sends nothing', async () => {
  const { path } = await fileOf('small.mp4', 1000);
  const from = server.requests.length;
  await storage.put('scene-cache/proj_1/abc/playlist.json', path);
  await storage.stat('scene-cache/proj_1/abc/playlist.json');
  await buffer(storage.read('scene-cache/proj_1/abc/playlist.json'));
  await storage.remove('scene-cache/proj_1/abc/playlist.json');
  const sent = server.requests.slice(from);
  assert.deepEqual(
    sent.map((r) => r.split(' ')[0]),
    ['PUT', 'HEAD', 'GET', 'DELETE'],
  );
  for (const request of sent) assert.match(request, new RegExp(`^\\w+ /${server.bucket}/tenant/a/scene-cache/`));
  for (const key of ['../b/x', 'a/../../b/x', '/tenant/b/x', 'a\\..\\..\\x'])
    await assert.rejects(storage.put(key, path), /invalid storage key/);
  assert.equal(server.requests.length, from + sent.length, 'no request for a refused key');
  const outside = server.requests.filter((r) => !r.includes(`/${server.bucket}/tenant/a/`));
  assert.deepEqual(outside, [], 'every request of this file so far (uploads, reads, presigned GETs) under the prefix');
});

test('an answer that refuses (bad credentials, no such bucket, no such key) is a StorageError, not retried', async () => {
  const before = server.requests.length;
  const stranger = s3Storage(`s3://${server.bucket}/tenant/a`, { ...server.settings, AWS_ACCESS_KEY_ID: 'NOBODY' });
  await assert.rejects(stranger.stat('outputs/job_1/output.mp4'), (err: Error) => {
    assert.ok(err instanceof StorageError && !(err instanceof StorageUnavailableError), String(err));
    assert.match(
      err.message,
      new RegExp(
        `^S3 storage s3://${server.bucket}/tenant/a/ at ${server.endpoint}: stat outputs/job_1/output.mp4 was refused \\(403`,
      ),
    );
    return true;
  });
  assert.equal(server.requests.length, before + 1, 'asked once');

  await storage.check();
  const missing = s3Storage('s3://no-such-bucket/x', server.settings);
  await assert.rejects(missing.check(), (err: Error) => {
    assert.ok(err instanceof StorageError && !(err instanceof StorageUnavailableError), String(err));
    assert.match(
      err.message,
      new RegExp(`s3://no-such-bucket/x/ at ${server.endpoint}: bucket check was refused \\(404`),
    );
    return true;
  });
  await assert.rejects(buffer(storage.read('outputs/none.mp4')), /read outputs\/none.mp4 was refused \(404 NoSuchKey/);
});

// ---------------------------------------------------------------------------------------
// Faults: bounded retries, then StorageUnavailableError naming the store

/** Two tries (the SDK's own default is three), half a second to connect or to say something. */
const FAST = { maxAttempts: 2, connectTimeoutMs: 500, idleTimeoutMs: 500 } satisfies Partial<S3Tuning>;

/** Awaits `operation`, expecting a StorageUnavailableError after FAST.maxAttempts tries, within `withinMs`. */
async function unavailable(operation: Promise<unknown>, withinMs = 3000) {
  const started = performance.now();
  const err = await operation.then(
    () => assert.fail('expected a StorageUnavailableError'),
    (e: unknown) => e,
  );
  const took = performance.now() - started;
  assert.ok(err instanceof StorageUnavailableError, String(err));
  assert.equal(err.attempts, FAST.maxAttempts);
  assert.ok(took < withinMs, `reported after ${Math.round(took)} ms, bound ${withinMs} ms`);
  return err;
}

test('a stopped server: every operation is retried, then StorageUnavailableError naming bucket and endpoint', async () => {
  const gone = await s3Server();
  const store = s3Storage(`s3://${gone.bucket}/p`, gone.settings, FAST);
  const { path } = await fileOf('kept.mp4', 1000);
  await store.put('outputs/job_1/output.mp4', path);
  await gone.stop();

  const err = await unavailable(store.put('outputs/job_1/output.mp4', path, { move: true }));
  assert.match(
    err.message,
    new RegExp(
      `S3 storage s3://${gone.bucket}/p/ at ${gone.endpoint} is unavailable: put outputs/job_1/output.mp4 failed 2 times \\(.*ECONNREFUSED`,
    ),
  );
  assert.equal(err.location, `s3://${gone.bucket}/p/ at ${gone.endpoint}`);
  assert.ok(existsSync(path), 'a file that was not stored is not moved away');
  await unavailable(store.stat('outputs/job_1/output.mp4'));
  await unavailable(buffer(store.read('outputs/job_1/output.mp4')));
  await unavailable(store.remove('outputs/job_1/output.mp4'));
});

test('a server answering 503 is asked maxAttempts times, then StorageUnavailableError', async () => {
  let asked = 0;
  const failing = createServer((_req, res) => {
    asked++;
    res.writeHead(503, { 'content-type': 'application/xml' });
    res.end('<Error><Code>ServiceUnavailable</Code><Message>Please try again</Message></Error>');
  });
  const endpoint = await listen(failing);
  const store = s3Storage('s3://reels/p', { ...credentials, S3_ENDPOINT: endpoint }, FAST);
  const err = await unavailable(buffer(store.read('outputs/job_1/output.mp4')));
  assert.equal(asked, FAST.maxAttempts);
  assert.match(
    err.message,
    /read outputs\/job_1\/output.mp4 failed 2 times \(503 ServiceUnavailable: Please try again\)/,
  );
});

test('a server that accepts and never answers: each try ends after the idle time, then StorageUnavailableError', async () => {
  const silent = createTcpServer(() => {});
  const endpoint = await listen(silent);
  const store = s3Storage('s3://reels/p', { ...credentials, S3_ENDPOINT: endpoint }, FAST);
  const bound = FAST.maxAttempts * FAST.idleTimeoutMs + 1000; // the tries, plus backoff and slack
  const err = await unavailable(store.stat('outputs/job_1/output.mp4'), bound);
  assert.match(err.message, /stat outputs\/job_1\/output.mp4 failed 2 times \(.*timed out/);
});

/** Listens on a free loopback port until the file ends; returns its http:// address. */
async function listen(s: Server): Promise<string> {
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const sockets = new Set<Socket>();
  s.on('connection', (socket: Socket) => sockets.add(socket));
  after(() => {
    for (const socket of sockets) socket.destroy();
    return new Promise<void>((r) => s.close(() => r()));
  });
  return `http://127.0.0.1:${(s.address() as { port: number }).port}`;
}
