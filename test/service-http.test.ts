// Outputs as clients meet them, over real HTTP: served with validators and a private cache
// lifetime that ends with the signed link; conditional requests, Range, HEAD, the download name.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { request } from 'undici';
import { probe, tempDir } from './helpers.ts';
import { api, assertErrorShape, startService, waitForJob } from './service-helpers.ts';

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
  soon.search = svc.service.storage.sign(key, Math.floor(seconds()) + 30);
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
