// reelsmith/client against the real service over HTTP: a job submitted and followed to its
// end through the progress stream (also across a dropped connection), cancelled, refused
// with the API's error codes, and webhooks checked with the signatures the service sends.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { connect, createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Value } from '@sinclair/typebox/value';
import { JobEventBody } from '../src/api/job-event.ts';
import {
  createClient,
  ReelsmithApiError,
  verifyWebhook,
  WebhookVerificationError,
  type JobEvent,
  type RenderRequest,
} from '../src/client/index.ts';
import { probe, tempDir } from './helpers.ts';
import { startService } from './service-helpers.ts';

const svc = await startService();
const tenant = await svc.tenant('pro');
const client = createClient({ baseUrl: svc.url, apiKey: tenant.key });

/** A small movie: `seconds` of text at 10 fps. */
function request(seconds: number, extra: Partial<RenderRequest> = {}): RenderRequest {
  return {
    kind: 'movie',
    projectId: tenant.projectId,
    movie: {
      width: 320,
      height: 180,
      fps: 10,
      scenes: [
        {
          id: 'only',
          duration: seconds,
          layers: [{ id: 'title', type: 'text', text: 'Hello', size: { width: 320, height: 180 } }],
        },
      ],
    },
    ...extra,
  };
}

async function collect(events: AsyncIterable<JobEvent>): Promise<JobEvent[]> {
  const seen: JobEvent[] = [];
  for await (const event of events) seen.push(event);
  return seen;
}

/** Each event once, in the order stored, from the job's first (queued), progress never falling; each as the API document's JobEvent says. */
function assertWellOrdered(events: JobEvent[]) {
  for (const { id, ...body } of events) assert.ok(Value.Check(JobEventBody, body), JSON.stringify(body));
  assert.deepEqual([events[0].event, events[0].phase], ['phase', 'queued']);
  for (let i = 1; i < events.length; i++) {
    assert.ok(Number(events[i].id) > Number(events[i - 1].id), `ids ${events.map((e) => e.id)}`);
    assert.ok(events[i].progress >= events[i - 1].progress);
  }
}

test('a job submitted, followed through its progress events to done, and its MP4 decoded', async () => {
  const reply = await client.submit(request(1), { idempotencyKey: 'client-test-1' });
  assert.equal(reply.status, 'queued');
  // the same key and body again is the same job, not a second one
  assert.equal((await client.submit(request(1), { idempotencyKey: 'client-test-1' })).jobId, reply.jobId);

  const events = await collect(client.progress(reply.jobId, { signal: AbortSignal.timeout(60_000) }));
  assertWellOrdered(events);
  assert.deepEqual(
    events.filter((e) => e.event === 'phase').map((e) => e.phase),
    ['queued', 'planning', 'dispatching', 'waiting', 'rendering', 'assembling', 'uploading'],
  );
  const done = events.at(-1)!;
  assert.equal(done.event, 'done');
  assert.equal(done.jobId, reply.jobId);
  if (done.event !== 'done') return;
  assert.deepEqual({ frames: done.mediaData.frames, width: done.mediaData.width }, { frames: 10, width: 320 });

  const mp4 = join(await tempDir(), 'out.mp4');
  await writeFile(mp4, Buffer.from(await (await fetch(done.outputUrl)).arrayBuffer()));
  assert.equal((await probe(mp4)).video.nb_read_frames, '10');

  const job = await client.get(reply.jobId);
  assert.equal(job.status, 'done');
  assert.equal(job.outputUrl !== undefined, true);
  // the replayed submit made no second job
  const page = await client.list({ projectId: tenant.projectId, limit: 5 });
  assert.deepEqual(
    page.jobs.map((j) => j.jobId),
    [reply.jobId],
  );
  assert.equal(page.nextCursor, null);
});

test('a dropped progress stream resumes after the last event seen: nothing missed, nothing twice', async () => {
  const proxy = await droppingProxy(new URL(svc.url).port);
  const viaProxy = createClient({ baseUrl: proxy.url, apiKey: tenant.key });
  const { jobId } = await client.submit(request(1));
  const events = await collect(viaProxy.progress(jobId, { retryMs: 50, signal: AbortSignal.timeout(60_000) }));
  assert.ok(proxy.requests.length >= 2, 'the first connection was cut');
  assert.equal(proxy.requests[0]['last-event-id'], undefined);
  assert.equal(proxy.requests[1]['last-event-id'], proxy.cutAfter);
  assertWellOrdered(events);
  assert.equal(events.at(-1)!.event, 'done');
  // the same events as the whole stored log, read again in one piece
  const whole = await collect(client.progress(jobId));
  assert.deepEqual(
    events.map((e) => [e.id, e.event]),
    whole.map((e) => [e.id, e.event]),
  );
});

test('a cancelled job: cancel answers with the job, its stream ends with cancelled', async () => {
  const { jobId } = await client.submit(request(30));
  const cancelled = await client.cancel(jobId);
  assert.equal(cancelled.status, 'cancelled');
  const events = await collect(client.progress(jobId, { signal: AbortSignal.timeout(30_000) }));
  assertWellOrdered(events);
  assert.equal(events.at(-1)!.event, 'cancelled');
  assert.equal((await client.get(jobId)).status, 'cancelled');
});

test("the API's error codes arrive as ReelsmithApiError: a wrong key, an unknown job, an invalid movie", async () => {
  const stranger = createClient({ baseUrl: svc.url, apiKey: 'vs_prod_not_a_key' });
  const unauthorized = { name: 'ReelsmithApiError', status: 401, code: 'UNAUTHORIZED' };
  await assert.rejects(stranger.list(), unauthorized);
  await assert.rejects(stranger.submit(request(1)), unauthorized);
  // the stream is not retried when the API refuses it
  await assert.rejects(collect(stranger.progress('job_x', { retryMs: 10_000 })), unauthorized);
  await assert.rejects(client.get('job_nope'), { status: 404, code: 'NOT_FOUND' });
  const invalid = request(1);
  invalid.movie.scenes[0].duration = -1;
  const err = await client.submit(invalid).catch((e: unknown) => e);
  assert.ok(err instanceof ReelsmithApiError);
  assert.equal(err.code, 'INVALID_MOVIE_JSON');
  assert.deepEqual(
    (err.details as Array<{ path: string }>).map((p) => p.path),
    ['movie.scenes[0].duration'],
  );
});

test("verifyWebhook accepts the service's signature and refuses a tampered body or another secret", async () => {
  const received: Array<{ headers: IncomingHttpHeaders; body: Buffer }> = [];
  const receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  after(() => new Promise<void>((r) => receiver.close(() => r())));
  const callbackUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  const { jobId } = await client.submit(request(1, { callbackUrl }));
  await collect(client.progress(jobId, { signal: AbortSignal.timeout(60_000) }));
  const deadline = Date.now() + 30_000;
  while (!received.some((r) => r.body.includes('"event":"done"')) && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 50));

  const final = received.find((r) => r.body.includes('"event":"done"'));
  assert.ok(final, `a final delivery among ${received.length}`);
  for (const delivery of received)
    assert.ok(Value.Check(JobEventBody, verifyWebhook(tenant.webhookSecret, delivery.headers, delivery.body)));
  const event = verifyWebhook(tenant.webhookSecret, final.headers, final.body);
  assert.equal(event.event, 'done');
  assert.equal(event.jobId, jobId);
  // the same check from fetch-style Headers and a string body
  const fetchHeaders = new Headers(Object.entries(final.headers).map(([k, v]) => [k, String(v)]));
  assert.equal(verifyWebhook(tenant.webhookSecret, fetchHeaders, final.body.toString()).jobId, jobId);

  const tampered = final.body.toString().replace('"event":"done"', '"event":"failed"');
  assert.throws(() => verifyWebhook(tenant.webhookSecret, final.headers, tampered), WebhookVerificationError);
  const other = (await svc.tenant('pro')).webhookSecret;
  assert.throws(() => verifyWebhook(other, final.headers, final.body), WebhookVerificationError);
});

/**
 * A TCP proxy to the service that cuts its first connection right after passing on the
 * first SSE event, as a network would; later connections pass whole. Records each
 * request's headers.
 */
async function droppingProxy(port: string) {
  const requests: Array<Record<string, string>> = [];
  const state = { cutAfter: undefined as string | undefined };
  const sockets = new Set<Socket>();
  const server = createNetServer((downstream) => {
    const first = requests.length === 0;
    const upstream = connect(Number(port), '127.0.0.1');
    sockets.add(downstream).add(upstream);
    let head = '';
    downstream.on('data', (chunk: Buffer) => {
      if (!head.includes('\r\n\r\n')) {
        head += chunk.toString('latin1');
        if (head.includes('\r\n\r\n')) requests.push(headersOf(head));
      }
      upstream.write(chunk);
    });
    let answer = '';
    upstream.on('data', (chunk: Buffer) => {
      downstream.write(chunk);
      if (!first) return;
      answer += chunk.toString();
      // every event is written whole: cut after the last one passed on
      const ids = [...answer.matchAll(/\nid: (\d+)\n/g)];
      if (ids.length > 0) {
        state.cutAfter = ids.at(-1)![1];
        upstream.destroy();
        downstream.end();
      }
    });
    const close = () => {
      upstream.destroy();
      downstream.destroy();
    };
    upstream.on('close', close).on('error', close);
    downstream.on('close', close).on('error', close);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  after(() => {
    for (const s of sockets) s.destroy();
    return new Promise<void>((r) => server.close(() => r()));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    get cutAfter() {
      return state.cutAfter;
    },
  };
}

function headersOf(head: string): Record<string, string> {
  const lines = head.split('\r\n\r\n')[0].split('\r\n').slice(1);
  return Object.fromEntries(
    lines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]),
  );
}
