// What a client sees of a job while it runs, through the in-process service: the SSE
// progress stream (order, monotonic progress, Last-Event-ID resume, even after a restart),
// signed webhooks (retries, throttled progress, never in the render's way, no redirects), the
// per-project scene cache, and the SSRF guard on media and callback URLs.
import assert from 'node:assert/strict';
import { copyFile, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Webhook } from 'standardwebhooks';
import { decodeFrames, media, mediaServer, near, tempDir, type WebhookReceipt, webhookReceiver } from './helpers.ts';
import {
  api,
  footageMovie as sharedFootageMovie,
  linkLifetime,
  startService,
  waitForJob,
  type TestService,
  submitJob,
} from './service-helpers.ts';

const root = join(import.meta.dirname, '..');
const assetsDir = await tempDir('reelsmith-events-assets-');
await Promise.all([
  copyFile(join(root, 'examples/assets/city.mp4'), join(assetsDir, 'city.mp4')),
  media.png(join(assetsDir, 'x.png'), 'red', 64, 36),
]);
const assets = await mediaServer(assetsDir);
const assetRequests: string[] = [];
assets.server.on('request', (req: IncomingMessage) => assetRequests.push(req.url ?? ''));
const outDir = await tempDir('reelsmith-events-out-');

// ---------------------------------------------------------------------------------------
// Helpers: submit, read an SSE stream to its end.

interface SseEvent {
  id: number;
  event: string;
  data: Record<string, any>;
}

/** Opens the job's progress stream and reads it until the server closes it. */
async function readStream(svc: TestService, key: string, jobId: string, lastEventId?: number): Promise<SseEvent[]> {
  const headers: Record<string, string> = lastEventId === undefined ? {} : { 'last-event-id': String(lastEventId) };
  const res = await api(svc.url, key, `/v1/jobs/${jobId}/progress`, { headers, signal: AbortSignal.timeout(60_000) });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
  const text = await res.text(); // resolves only when the server ends the stream
  const events: SseEvent[] = [];
  for (const block of text.split('\n\n')) {
    const fields = Object.fromEntries(
      block
        .split('\n')
        .filter((line) => line && !line.startsWith(':'))
        .map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1).trimStart()]),
    );
    if (fields.event)
      events.push({ id: Number(fields.id), event: fields.event, data: JSON.parse(fields.data) as Record<string, any> });
  }
  return events;
}

/** An event as compared across streams: outputUrl is re-signed (and its host may change) per request. */
function comparable(e: SseEvent) {
  return { ...e, data: { ...e.data, ...(e.data.outputUrl ? { outputUrl: new URL(e.data.outputUrl).pathname } : {}) } };
}

async function webhooksOf(svc: TestService, key: string, jobId: string) {
  const res = await api(svc.url, key, `/v1/jobs/${jobId}/webhooks`);
  assert.equal(res.status, 200);
  return ((await res.json()) as { deliveries: Array<Record<string, any>> }).deliveries;
}

async function eventually<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** Scenes of footage at 1280x720, long enough for several progress events; two workers. */
function footageMovie(tag: string, scenes: number, seconds: number, callbackUrl?: string) {
  const body = sharedFootageMovie(`${assets.url}/city.mp4`, tag, scenes, seconds, { width: 1280, height: 720 });
  return {
    ...body,
    projectId: '',
    renderOptions: { qualityPreset: 'stable' },
    ...(callbackUrl ? { callbackUrl } : {}),
  };
}

const SEED_PHASES = ['queued', 'planning', 'dispatching', 'waiting', 'rendering', 'assembling', 'uploading'];

// ---------------------------------------------------------------------------------------
// SSE

test("SSE: phases in the seed's order, progress never decreasing, a final done, then the stream closes; Last-Event-ID resumes exactly, also after a restart", async () => {
  const svc = await startService();
  const t = await svc.tenant('pro');
  const jobId = await submitJob(svc, t.key, { ...footageMovie('sse', 2, 2), projectId: t.projectId });
  const live = await readStream(svc, t.key, jobId);

  assert.deepEqual(
    live.filter((e) => e.event === 'phase').map((e) => e.data.phase),
    SEED_PHASES,
  );
  assert.ok(
    live.some((e) => e.event === 'progress'),
    'progress events while rendering',
  );
  for (const e of live) assert.equal(e.data.jobId, jobId);
  for (let i = 1; i < live.length; i++) {
    assert.ok(live[i].id > live[i - 1].id, `event ids increase (${live[i - 1].id} then ${live[i].id})`);
    assert.ok(
      live[i].data.progress >= live[i - 1].data.progress,
      `progress never decreases (${live[i - 1].data.progress} then ${live[i].data.progress} at ${live[i].event})`,
    );
  }
  const last = live.at(-1)!;
  assert.equal(last.event, 'done', 'the final event is done, and nothing follows it');
  assert.equal(live.filter((e) => e.event === 'done').length, 1);
  assert.equal(last.data.status, 'done');
  assert.equal(last.data.progress, 1);
  assert.match(last.data.outputUrl, /\/outputs\/job_\w+\/output\.mp4\?/);
  assert.deepEqual(
    { duration: last.data.mediaData.duration, width: last.data.mediaData.width, height: last.data.mediaData.height },
    { duration: 4, width: 1280, height: 720 },
  );
  assert.ok(Math.abs(linkLifetime(last.data.outputUrl) - 86_400) < 300, `lasts a day: ${last.data.outputUrl}`);
  const output = await fetch(last.data.outputUrl);
  assert.equal(output.status, 200, 'the outputUrl in the done event works');
  await output.arrayBuffer();

  // a stream opened after the end replays everything, then closes
  assert.deepEqual((await readStream(svc, t.key, jobId)).map(comparable), live.map(comparable));
  // Last-Event-ID: exactly the events after it
  const n = live[2].id;
  assert.deepEqual(
    (await readStream(svc, t.key, jobId, n)).map(comparable),
    live.filter((e) => e.id > n).map(comparable),
  );
  const lastProgress = live.findLast((e) => e.event === 'progress')!.id;
  assert.deepEqual(
    (await readStream(svc, t.key, jobId, lastProgress)).map(comparable),
    live.filter((e) => e.id > lastProgress).map(comparable),
  );

  // the same after a restart of the service on the same data folder
  await svc.close();
  const again = await startService({ dataDir: svc.dataDir });
  assert.deepEqual(
    (await readStream(again, t.key, jobId, n)).map(comparable),
    live.filter((e) => e.id > n).map(comparable),
  );
  assert.deepEqual((await readStream(again, t.key, jobId)).map(comparable), live.map(comparable));
});

// ---------------------------------------------------------------------------------------
// Webhooks

test('webhooks: signed; the final event retried after two 500s until delivered; progress at most every 2 s plus every phase change', async () => {
  const svc = await startService();
  const t = await svc.tenant('pro');
  const doneAnswers: number[] = [];
  const hook = await webhookReceiver(t.webhookSecret, (d, res) => {
    if (d.body.event === 'done') {
      const status = doneAnswers.length < 2 ? 500 : 200;
      doneAnswers.push(status);
      res.writeHead(status).end();
    } else res.writeHead(200).end();
  });
  const jobId = await submitJob(svc, t.key, {
    ...footageMovie('hooks', 4, 3.5, `${hook.url}/hooks?x=1`),
    projectId: t.projectId,
  });
  const job = await waitForJob(svc.url, t.key, jobId);
  assert.equal(job.status, 'done', JSON.stringify(job.error));

  const listed = await eventually('the done delivery to be delivered', async () => {
    const all = await webhooksOf(svc, t.key, jobId);
    const done = all.find((d) => d.payload.event === 'done');
    return done?.status === 'delivered' && all.every((d) => d.status === 'delivered') ? all : undefined;
  });

  // every delivery is signed with the project's secret, and only that one verifies
  assert.ok(hook.deliveries.length > 0);
  assert.deepEqual(
    hook.deliveries.filter((d) => d.badSignature).map((d) => d.badSignature),
    [],
    "every delivery verifies with the project's webhookSecret",
  );
  assert.throws(() =>
    new Webhook(`whsec_${Buffer.from('not the secret at all!').toString('base64')}`).verify(
      JSON.stringify(hook.deliveries[0].body),
      {},
    ),
  );
  for (const d of hook.deliveries) assert.equal(d.path, '/hooks?x=1');

  // the final event: 500, 500, 200, the same message each time
  const finals = hook.deliveries.filter((d) => d.body.event === 'done');
  assert.deepEqual(doneAnswers, [500, 500, 200]);
  assert.equal(finals.length, 3);
  assert.equal(new Set(finals.map((d) => d.webhookId)).size, 1, 'retries carry the same webhook-id');
  const body = finals[2].body;
  assert.equal(body.jobId, jobId);
  assert.equal(body.status, 'done');
  assert.equal(body.progress, 1);
  assert.equal(typeof body.outputUrl, 'string');
  // a webhook's link lasts a week, for receivers that fetch later
  assert.ok(Math.abs(linkLifetime(body.outputUrl) - 7 * 86_400) < 300, body.outputUrl);
  assert.deepEqual(
    { duration: body.mediaData.duration, width: body.mediaData.width, height: body.mediaData.height },
    { duration: 14, width: 1280, height: 720 },
  );
  const doneListed = listed.find((d) => d.payload.event === 'done')!;
  assert.deepEqual(
    doneListed.attempts.map((a: { statusCode: number }) => a.statusCode),
    [500, 500, 200],
  );
  assert.deepEqual(
    doneListed.attempts.map((a: { error: string | null }) => a.error),
    ['HTTP 500', 'HTTP 500', null],
  );
  assert.equal(doneListed.nextAttemptAt, null);
  assert.equal(typeof doneListed.deliveredAt, 'string');

  // every phase change is delivered; progress at most once per 2 s (of many more progress events)
  const log = await readStream(svc, t.key, jobId);
  const idOf = (d: WebhookReceipt) => Number(d.webhookId.split('_').at(-1));
  const deliveredIds = new Set(hook.deliveries.map(idOf));
  for (const e of log.filter((e) => e.event === 'phase').slice(1))
    assert.ok(deliveredIds.has(e.id), `phase ${e.data.phase} was delivered`);
  assert.deepEqual(
    [...new Set(hook.deliveries.filter((d) => d.body.event === 'phase').map((d) => d.body.phase))].sort(),
    SEED_PHASES.slice(1).sort(),
  );
  const progress = hook.deliveries.filter((d) => d.body.event === 'progress').sort((a, b) => a.at - b.at);
  const progressEvents = log.filter((e) => e.event === 'progress').length;
  assert.ok(progress.length >= 2, `progress is delivered while it renders (${progress.length})`);
  assert.ok(
    progress.length < progressEvents,
    `progress deliveries are throttled (${progress.length} of ${progressEvents} events)`,
  );
  for (let i = 1; i < progress.length; i++) {
    // received times: delivery jitter on a busy 2-core machine eats into the 2 s the outbox keeps between them
    assert.ok(
      progress[i].at - progress[i - 1].at >= 1500,
      `progress deliveries ${progress[i].at - progress[i - 1].at} ms apart`,
    );
  }
});

test('webhooks: a receiver that never answers does not hold up the render', async () => {
  const svc = await startService();
  const t = await svc.tenant('pro');
  // every delivery is held open, unanswered, and when its connection closes (the 15 s timeout) is noted
  let hang = true;
  const held: Array<{ event: string; at: number; res: ServerResponse; closedAt?: number }> = [];
  const hook = await webhookReceiver(t.webhookSecret, (d, res) => {
    if (!hang) return void res.writeHead(200).end();
    const entry: (typeof held)[number] = { event: String(d.body.event), at: d.at, res };
    res.on('close', () => (entry.closedAt = Date.now()));
    held.push(entry);
  });
  const jobId = await submitJob(svc, t.key, {
    ...footageMovie('hang', 2, 2, `${hook.url}/slow`),
    projectId: t.projectId,
  });
  const job = await waitForJob(svc.url, t.key, jobId);
  assert.equal(job.status, 'done', JSON.stringify(job.error));

  // the job went on to its end while deliveries made before it were still unanswered: a render
  // that waited on a delivery would not finish until that delivery's connection closed
  const finishedAt = Date.parse(job.finishedAt);
  const before = held.filter((h) => h.at < finishedAt);
  const openAtTheEnd = before.filter((h) => (h.closedAt ?? Infinity) > finishedAt);
  assert.ok(before.length >= 2, `deliveries made while it rendered: ${before.map((h) => h.event)}`);
  assert.ok(
    openAtTheEnd.length >= 1,
    `none of the deliveries made while it rendered (${before.map((h) => h.event)}) was still open when it finished`,
  );

  // let the receiver answer now: every delivery ends delivered, nothing left in flight
  hang = false;
  for (const { res } of held) res.socket?.destroy();
  await eventually(
    'every delivery to be delivered',
    async () => {
      const all = await webhooksOf(svc, t.key, jobId);
      return all.length > 0 && all.every((d) => d.status === 'delivered');
    },
    20_000,
  );
});

test('webhooks: a 302 from the receiver is not followed; it counts as a failed attempt', async () => {
  const svc = await startService();
  const t = await svc.tenant('pro');
  const hook = await webhookReceiver(t.webhookSecret, (_d, res) => res.writeHead(302, { location: '/landed' }).end());
  const jobId = await submitJob(svc, t.key, {
    kind: 'movie',
    projectId: t.projectId,
    callbackUrl: `${hook.url}/moved`,
    movie: { width: 320, height: 180, scenes: [{ id: 'a', duration: 0.5, layers: [] }] },
  });
  const job = await waitForJob(svc.url, t.key, jobId);
  assert.equal(job.status, 'done');
  const done = await eventually('two attempts at the done delivery', async () => {
    const d = (await webhooksOf(svc, t.key, jobId)).find((d) => d.payload.event === 'done');
    return d && d.attempts.length >= 2 ? d : undefined;
  });
  assert.equal(done.status, 'pending', 'still to be retried');
  assert.equal(typeof done.nextAttemptAt, 'string');
  for (const a of done.attempts) {
    assert.equal(a.statusCode, 302);
    assert.equal(a.error, 'HTTP 302');
  }
  assert.ok(hook.deliveries.length >= 2);
  assert.deepEqual(
    hook.deliveries.filter((d) => d.path !== '/moved').map((d) => d.path),
    [],
    'the redirect was never followed',
  );
});

// ---------------------------------------------------------------------------------------
// Scene cache

test('scene cache: the same movie again is all cached; one scene changed renders only that scene', async () => {
  const svc = await startService();
  const t = await svc.tenant('pro');
  const colours = ['#c02020', '#20c020', '#2020c0'];
  const body = (bg: string[]) => ({
    kind: 'movie',
    projectId: t.projectId,
    movie: {
      width: 640,
      height: 360,
      fps: 30,
      scenes: bg.map((bgColor, i) => ({
        id: `s${i}`,
        duration: 1.5,
        bgColor,
        layers: [
          {
            id: 'inset',
            type: 'video',
            source: `${assets.url}/city.mp4`,
            trimStart: i,
            position: { x: 320, y: 180 },
            size: { width: 320, height: 180 },
            mute: true,
          },
        ],
      })),
    },
  });
  const run = async (bg: string[]) => {
    const started = Date.now();
    const job = await waitForJob(svc.url, t.key, await submitJob(svc, t.key, body(bg)));
    assert.equal(job.status, 'done', JSON.stringify(job.error));
    return { job, ms: Date.now() - started, states: job.scenes.map((s: { state: string }) => s.state) };
  };

  const first = await run(colours);
  assert.deepEqual(first.states, ['done', 'done', 'done']);
  const second = await run(colours);
  assert.deepEqual(second.states, ['cached', 'cached', 'cached']);
  assert.ok(second.ms < first.ms, `all cached took ${second.ms} ms, the first render ${first.ms} ms`);

  const changed = [colours[0], '#e0e000', colours[2]];
  const third = await run(changed);
  assert.deepEqual(third.states, ['cached', 'done', 'cached']);
  const res = await fetch(third.job.outputUrl);
  const path = join(outDir, 'changed.mp4');
  await writeFile(path, Buffer.from(await res.arrayBuffer()));
  const f = await decodeFrames(path, 640, 360, [20, 65, 110]);
  assert.equal(f.count, 3);
  assert.ok(near(f.pixel(20, 100, 100), [0xc0, 0x20, 0x20], 12), `scene 1 keeps its colour: ${f.pixel(20, 100, 100)}`);
  assert.ok(
    near(f.pixel(65, 100, 100), [0xe0, 0xe0, 0x00], 12),
    `scene 2 has the new colour: ${f.pixel(65, 100, 100)}`,
  );
  assert.ok(
    near(f.pixel(110, 100, 100), [0x20, 0x20, 0xc0], 12),
    `scene 3 keeps its colour: ${f.pixel(110, 100, 100)}`,
  );
});

// ---------------------------------------------------------------------------------------
// SSRF guard

test('SSRF guard: without allowed private networks, loopback, link-local and private media and callbacks are refused', async () => {
  const svc = await startService({ network: {} });
  const t = await svc.tenant('unlimited');
  const port = new URL(assets.url).port;
  const refused = [
    `http://127.0.0.1:${port}/x.png`,
    `http://2130706433:${port}/x.png`,
    `http://[::ffff:127.0.0.1]:${port}/x.png`,
    `http://[::1]:${port}/x.png`,
    `http://localhost:${port}/x.png`,
    'http://169.254.169.254/latest/meta-data',
    'http://10.0.0.1/x.png',
  ];
  const before = assetRequests.length;
  const jobs = await Promise.all(
    refused.map(async (source) => {
      const jobId = await submitJob(svc, t.key, {
        kind: 'movie',
        projectId: t.projectId,
        movie: {
          width: 320,
          height: 180,
          scenes: [{ id: 'only', duration: 0.5, layers: [{ id: 'pic', type: 'image', source }] }],
        },
      });
      return { source, job: await waitForJob(svc.url, t.key, jobId, 30_000) };
    }),
  );
  for (const { source, job } of jobs) {
    assert.equal(job.status, 'failed', `${source}: ${JSON.stringify(job)}`);
    assert.equal(job.error.code, 'SOURCE_UNAVAILABLE', source);
    assert.match(job.error.message, /address .* is not allowed/, `${source}: ${job.error.message}`);
    assert.ok(job.error.message.includes(source), `the message names the source: ${job.error.message}`);
  }
  assert.equal(assetRequests.length, before, 'no request reached the media server');

  // a callback to a loopback address is refused at submit, naming the field
  const hook = await webhookReceiver(t.webhookSecret);
  const tinyMovie = { width: 320, height: 180, scenes: [{ id: 'a', duration: 0.5, layers: [] }] };
  const refusedCallback = await api(svc.url, t.key, '/v1/render/jobs', {
    method: 'POST',
    json: { kind: 'movie', projectId: t.projectId, callbackUrl: `${hook.url}/hook`, movie: tinyMovie },
  });
  assert.equal(refusedCallback.status, 400);
  const details = ((await refusedCallback.json()) as { error: { details: Array<{ path: string; message: string }> } })
    .error.details;
  assert.ok(
    details.some((d) => d.path === 'callbackUrl' && /address 127\.0\.0\.1 is not allowed/.test(d.message)),
    JSON.stringify(details),
  );
  // a host name that resolves to loopback passes submit and is refused at connect time: the job is done, the attempt recorded
  const jobId = await submitJob(svc, t.key, {
    kind: 'movie',
    projectId: t.projectId,
    callbackUrl: `${hook.url.replace('127.0.0.1', 'localhost')}/hook`,
    movie: tinyMovie,
  });
  assert.equal((await waitForJob(svc.url, t.key, jobId)).status, 'done');
  const done = await eventually('an attempt at the done delivery', async () => {
    const d = (await webhooksOf(svc, t.key, jobId)).find((d) => d.payload.event === 'done');
    return d && d.attempts.length >= 1 ? d : undefined;
  });
  assert.equal(done.attempts[0].statusCode, null);
  assert.match(done.attempts[0].error, /localhost resolves to an address that is not allowed \(private network\)/);
  assert.doesNotMatch(done.attempts[0].error, /127\.0\.0\.1|::1/, 'what an internal name resolves to is not told');
  assert.equal(done.status, 'pending');
  assert.equal(hook.deliveries.length, 0, 'nothing reached the receiver');
});

test('SSRF guard: with private networks allowed, the same loopback media and callback work', async () => {
  const svc = await startService(); // network: { allowPrivateNetworks: true }
  const t = await svc.tenant('pro');
  const hook = await webhookReceiver(t.webhookSecret);
  const jobId = await submitJob(svc, t.key, {
    kind: 'movie',
    projectId: t.projectId,
    callbackUrl: `${hook.url}/hook`,
    movie: {
      width: 320,
      height: 180,
      scenes: [{ id: 'only', duration: 0.5, layers: [{ id: 'pic', type: 'image', source: `${assets.url}/x.png` }] }],
    },
  });
  const job = await waitForJob(svc.url, t.key, jobId);
  assert.equal(job.status, 'done', JSON.stringify(job.error));
  await eventually('the done delivery', async () => hook.deliveries.some((d) => d.body.event === 'done'));
});
