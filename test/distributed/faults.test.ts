// Distributed mode's faults, with real processes: API nodes on one Postgres schema and one S3
// server, `reelsmith worker` child processes. A worker SIGKILLed mid-render, a scene failing
// on another worker than its job's, a cancel sent to another API node than the job's,
// Postgres away, object storage away, and a chaos run of kills. Every finished job's MP4 is
// downloaded and read back. (A worker's SIGTERM drain is in service-durability, which runs in
// distributed mode too.)
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ffmpegChildren, postgresRelay, probe, tempDir, until, webhookReceiver } from '../helpers.ts';
import {
  api,
  type Backend,
  exampleAssets,
  footageMovie,
  phasesOf,
  spawnWorker,
  seedMinimalBody,
  sharedBackend,
  startService,
  submitJob,
  type TestService,
  testPlans,
  waitForJob,
  type WorkerChild,
} from '../service-helpers.ts';

const assets = await exampleAssets();
const out = await tempDir('reelsmith-distributed-out-');

/** Test plans plus "edge": 60 s a month (exactly ten 6 s jobs), no other limit. */
const plans = (() => {
  const all = testPlans();
  return { ...all, edge: { ...all.pro, monthlyMinutes: 1, concurrentJobs: null, requestsPerMinute: 1_000_000 } };
})();

/** An API node of the deployment (no worker of its own). */
async function apiNode(shared: Backend) {
  return startService({ database: shared.database, storage: shared.storage, plans });
}

async function tenantOf(node: TestService) {
  return node.tenant('unlimited');
}

async function jobOf(node: TestService, key: string, jobId: string): Promise<Record<string, any>> {
  return (await (await api(node.url, key, `/v1/jobs/${jobId}`)).json()) as Record<string, any>;
}

/** The MP4 at a done job's outputUrl, read back: frames and seconds. */
async function outputOf(job: Record<string, any>): Promise<{ frames: number; seconds: number }> {
  assert.equal(job.status, 'done', JSON.stringify(job));
  const res = await fetch(job.outputUrl);
  assert.equal(res.status, 200);
  const file = join(out, `${job.jobId}.mp4`);
  await writeFile(file, Buffer.from(await res.arrayBuffer()));
  const info = await probe(file);
  return { frames: Number(info.video.nb_read_frames), seconds: Number(info.format.duration) };
}

/** A done job's MP4, read back, has `frames` frames and the duration the job reports, `seconds` long. */
async function assertExact(job: Record<string, any>, frames: number, seconds: number): Promise<void> {
  assert.deepEqual(await outputOf(job), { frames, seconds: job.mediaData.duration }, job.jobId);
  assert.equal(job.mediaData.frames, frames);
  assert.ok(Math.abs(job.mediaData.duration - seconds) < 0.05, `${job.jobId}: ${job.mediaData.duration} s`);
}

/** Waits until `worker` has claimed a job (it logs at info). */
function tookAJob(worker: WorkerChild): Promise<void> {
  return until(async () => worker.output().includes('"job claimed"'), 30_000, 'the first worker takes the job');
}

/** A `reelsmith worker` of the deployment, running `concurrency` jobs at once; the media it fetches is on loopback. */
function worker(shared: Backend, concurrency = 1): Promise<WorkerChild> {
  return spawnWorker(shared.env, ['--concurrency', String(concurrency), '--allow-private-networks']);
}

/** Which of `workers` runs ffmpeg now. */
async function encoding(workers: WorkerChild[]): Promise<WorkerChild | undefined> {
  for (const worker of workers) if ((await ffmpegChildren(worker.child.pid!)).length > 0) return worker;
  return undefined;
}

/** A small footage movie: `scenes` scenes of `seconds` at 640x360, each an encode of its own. */
function movieOf(tag: string, scenes: number, seconds: number, projectId: string) {
  return {
    ...footageMovie(`${assets.url}/footage/city.mp4`, tag, scenes, seconds, { width: 640, height: 360 }),
    projectId,
  };
}

test('a worker SIGKILLed mid-render: another takes the job over once its lease lapses; finished scenes are reused; the output is exact', async () => {
  const shared = await sharedBackend();
  const node = await apiNode(shared);
  const t = await tenantOf(node);
  const workers = [await worker(shared)];
  const jobId = await submitJob(node, t.key, movieOf('kill', 4, 2, t.projectId));
  let job: Record<string, any> = {};
  await until(
    async () => {
      job = await jobOf(node, t.key, jobId);
      assert.ok(!['done', 'failed', 'cancelled'].includes(job.status), JSON.stringify(job));
      return job.scenes.some((s: { state: string }) => s.state === 'done');
    },
    60_000,
    'a scene is rendered',
  );
  const finishedBefore = job.scenes.filter((s: { state: string }) => s.state === 'done').length;
  workers[0].child.kill('SIGKILL');
  const killedAt = performance.now();
  await workers[0].exited;
  workers.push(await worker(shared));
  // taken over: planned again by the new worker, once the dead one's lease has lapsed
  await until(async () => (await jobOf(node, t.key, jobId)).phase === 'planning', 40_000, 'the job is taken over');
  const tookOver = (performance.now() - killedAt) / 1000;
  assert.ok(tookOver < 30, `taken over ${tookOver.toFixed(1)} s after the kill`);

  const done = await waitForJob(node.url, t.key, jobId, 120_000);
  assert.equal(done.status, 'done', JSON.stringify(done));
  assert.deepEqual(await outputOf(done), { frames: 240, seconds: done.mediaData.duration });
  assert.equal(done.mediaData.frames, 240);
  const cached = done.scenes.filter((s: { state: string }) => s.state === 'cached').length;
  assert.ok(
    cached >= finishedBefore,
    `scenes finished before the kill are reused (${cached} cached, ${finishedBefore} done before)`,
  );
});

/** Which workers ran ffmpeg (by pid) while `job` was running, sampled a few times a second. */
async function encodersWhile(node: TestService, key: string, jobId: string, workers: WorkerChild[]) {
  const seen = new Set<number>();
  for (;;) {
    for (const w of workers) if ((await ffmpegChildren(w.child.pid!)).length > 0) seen.add(w.child.pid!);
    const job = await jobOf(node, key, jobId);
    if (['done', 'failed', 'cancelled'].includes(job.status)) return { job, seen };
    await sleep(200);
  }
}

/** A worker of one job at a time on one core, logging its scene tasks. */
function sceneWorker(shared: Backend): Promise<WorkerChild> {
  return spawnWorker(shared.env, ['--concurrency', '1', '--allow-private-networks', '--log-level', 'info']);
}

test('one job spreads over two workers: each renders scenes of it; the output is exact', async () => {
  const shared = await sharedBackend();
  const node = await apiNode(shared);
  const t = await tenantOf(node);
  const workers = [await sceneWorker(shared), await sceneWorker(shared)];
  const jobId = await submitJob(node, t.key, movieOf('spread', 4, 2, t.projectId));
  const { job, seen } = await encodersWhile(node, t.key, jobId, workers);

  await assertExact(job, 240, 8);
  assert.deepEqual(
    job.scenes.map((s: { state: string }) => s.state),
    ['done', 'done', 'done', 'done'],
  );
  assert.equal(seen.size, 2, 'both workers encoded scenes of the one job');
  const [coordinator, helper] = workers[0].output().includes('"job claimed"') ? workers : [workers[1], workers[0]];
  assert.match(coordinator.output(), new RegExp(`"jobId":"${jobId}".*"msg":"job claimed"`));
  assert.match(helper.output(), new RegExp(`"jobId":"${jobId}".*"msg":"scene task done"`));
});

test("a worker SIGKILLed while it renders a scene of another worker's job: the job's worker takes the scene over; the output is exact", async () => {
  const shared = await sharedBackend();
  const node = await apiNode(shared);
  const t = await tenantOf(node);
  const coordinator = await sceneWorker(shared);
  const jobId = await submitJob(node, t.key, movieOf('scenekill', 4, 2, t.projectId));
  await tookAJob(coordinator);
  const helper = await sceneWorker(shared);
  await until(
    async () =>
      helper.output().includes('"scene task claimed"') && (await ffmpegChildren(helper.child.pid!)).length > 0,
    60_000,
    'the second worker encodes a scene of the job',
  );
  helper.child.kill('SIGKILL');
  await helper.exited;
  assert.doesNotMatch(helper.output(), /scene task done/, 'killed mid-scene');

  const done = await waitForJob(node.url, t.key, jobId, 120_000);
  await assertExact(done, 240, 8);
});

test("a scene that fails on another worker fails its job with that worker's reason; nothing of it runs on", async () => {
  const shared = await sharedBackend();
  const node = await apiNode(shared);
  const t = await tenantOf(node);
  const coordinator = await sceneWorker(shared);
  // long enough that scenes are still queued when the second worker is up
  const jobId = await submitJob(node, t.key, movieOf('refused', 16, 4, t.projectId));
  await tookAJob(coordinator);
  // this one may not fetch from private networks: the footage on loopback is refused there
  const strict = await spawnWorker(shared.env, ['--concurrency', '1', '--log-level', 'info']);
  assert.equal((await jobOf(node, t.key, jobId)).status, 'running', 'the job still runs');
  const job = await waitForJob(node.url, t.key, jobId, 120_000);
  assert.match(strict.output(), /"scene task claimed"/, 'the strict worker took a scene of the job');
  assert.equal(job.status, 'failed', JSON.stringify(job));
  assert.equal(job.error.code, 'SOURCE_UNAVAILABLE');
  assert.match(job.error.message, /city\.mp4/, 'the reason names the URL');
  await until(async () => (await encoding([coordinator, strict])) === undefined, 5_000, 'no ffmpeg of the job runs on');
  for (let look = 0; look < 10; look++) {
    await sleep(200);
    assert.equal(await encoding([coordinator, strict]), undefined, 'none starts again');
  }
  // both take the next job as usual (the strict one plans what it may fetch)
  const next = await submitJob(node, t.key, {
    kind: 'movie',
    projectId: t.projectId,
    movie: { width: 320, height: 180, fps: 25, scenes: [{ id: 'next', duration: 1, bgColor: '#336699', layers: [] }] },
  });
  assert.equal((await waitForJob(node.url, t.key, next, 60_000)).status, 'done');
});

/** libfaketime (Debian's `faketime`): a process started with it in LD_PRELOAD reads a shifted clock. */
const FAKETIME_LIBRARY = '/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1';

test("a worker whose clock runs a minute ahead takes no live job over: every worker reads leases on the database's clock", {
  skip: !existsSync(FAKETIME_LIBRARY) && 'libfaketime is not installed (apt-get install faketime)',
}, async () => {
  const shared = await sharedBackend();
  const node = await apiNode(shared);
  const t = await tenantOf(node);
  const first = await sceneWorker(shared);
  const jobId = await submitJob(node, t.key, movieOf('clock', 3, 8, t.projectId));
  await tookAJob(first);
  const ahead = await spawnWorker(
    { ...shared.env, LD_PRELOAD: FAKETIME_LIBRARY, FAKETIME: '+60s', FAKETIME_DONT_FAKE_MONOTONIC: '1' },
    ['--concurrency', '1', '--allow-private-networks', '--log-level', 'info'],
  );
  // it does run a minute ahead (libfaketime loaded), and the job was still running when it started
  const times = ahead
    .output()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => (JSON.parse(line) as { time: number }).time);
  const skew = (times.at(-1) ?? 0) - Date.now();
  assert.ok(Math.abs(skew - 60_000) < 10_000, `its clock is ${skew} ms ahead`);
  assert.equal((await jobOf(node, t.key, jobId)).status, 'running', 'the job still runs');
  const done = await waitForJob(node.url, t.key, jobId, 120_000);
  assert.deepEqual(await outputOf(done), { frames: 720, seconds: done.mediaData.duration });
  assert.doesNotMatch(ahead.output(), /"job claimed"/, 'the worker ahead took no job');
  const phases = await phasesOf(node.url, t.key, jobId);
  assert.equal(phases.filter((p) => p === 'planning').length, 1, `planned once: ${phases}`);
});

/** Reads an event stream to its end, noting when each event (by id) arrived. */
async function readTimed(res: Response): Promise<{ text: string; arrived: Map<number, number> }> {
  const arrived = new Map<number, number>();
  const decoder = new TextDecoder();
  let text = '';
  for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
    const at = Date.now();
    text += decoder.decode(chunk, { stream: true });
    for (const m of text.matchAll(/^id: (\d+)\n/gm)) if (!arrived.has(Number(m[1]))) arrived.set(Number(m[1]), at);
  }
  return { text, arrived };
}

/** When each stored event of a job was written (ms since the epoch), by id. */
async function writtenAt(database: string, jobId: string): Promise<Map<number, number>> {
  const { default: pg } = await import('pg');
  const db = new pg.Client({ connectionString: database });
  await db.connect();
  try {
    const { rows } = await db.query('select id, created_at from job_events where job_id = $1', [jobId]);
    return new Map(rows.map((r: { id: string; created_at: string }) => [Number(r.id), Date.parse(r.created_at)]));
  } finally {
    await db.end();
  }
}

test('two API nodes: submitted on one, followed (SSE) and cancelled on the other; events cross within a second; the worker stops its ffmpeg at once', async () => {
  const shared = await sharedBackend();
  const [one, two] = [await apiNode(shared), await apiNode(shared)];
  const t = await tenantOf(one);
  const workers = [await worker(shared, 2), await worker(shared, 2)];
  const jobId = await submitJob(one, t.key, movieOf('cancel', 2, 20, t.projectId));

  const opened = Date.now();
  const stream = await api(two.url, t.key, `/v1/jobs/${jobId}/progress`, { signal: AbortSignal.timeout(120_000) });
  assert.equal(stream.status, 200);
  const reading = readTimed(stream); // the whole stream, once the server ends it
  await until(
    async () => (await jobOf(one, t.key, jobId)).phase === 'rendering' && (await encoding(workers)) !== undefined,
    60_000,
    'a worker encodes the job',
  );
  await sleep(1000); // a progress event or two

  const cancelled = await api(two.url, t.key, `/v1/jobs/${jobId}/cancel`, { method: 'POST' });
  assert.equal(cancelled.status, 200);
  const sent = performance.now();
  // the job's worker and any rendering one of its scenes as a task
  await until(async () => (await encoding(workers)) === undefined, 5_000, 'every ffmpeg of the job is gone');
  const stopped = performance.now() - sent;
  assert.ok(stopped < 1500, `the workers' ffmpegs ended ${Math.round(stopped)} ms after the cancel`);

  const { text, arrived } = await reading;
  const events = [...text.matchAll(/^event: (\w+)$/gm)].map((m) => m[1]);
  // each event written while the stream was open (the workers' phases and progress, the
  // cancel) reached the other node's stream within a second of being written
  const written = await writtenAt(shared.database, jobId);
  const live = [...arrived].filter(([id]) => written.get(id)! >= opened);
  assert.ok(live.length >= 3, `events written while followed: ${live.length}`);
  // (within a second as a rule; a loaded 2-core machine may hold one back a little longer)
  const took = live.map(([id, at]) => at - written.get(id)!).sort((a, b) => a - b);
  assert.ok(took[Math.floor(took.length / 2)] < 1000 && took.at(-1)! < 3000, `ms from stored to streamed: ${took}`);
  assert.ok(events.includes('phase') && events.includes('progress'), `the other node streamed the job: ${events}`);
  assert.equal(events.at(-1), 'cancelled');
  assert.equal((await jobOf(one, t.key, jobId)).status, 'cancelled');
  // the worker takes the next job as usual
  const next = await submitJob(two, t.key, movieOf('after', 1, 1, t.projectId));
  assert.equal((await waitForJob(one.url, t.key, next, 60_000)).status, 'done');
});

test('two API nodes: quotas, the concurrent-jobs limit and Idempotency-Keys hold across them', async () => {
  const shared = await sharedBackend();
  const nodes = [await apiNode(shared), await apiNode(shared)];
  const post = (i: number, key: string, body: unknown, headers: Record<string, string> = {}) =>
    api(nodes[i % 2].url, key, '/v1/render/jobs', { method: 'POST', json: body, headers });
  const sixSeconds = (projectId: string) => ({
    ...seedMinimalBody,
    projectId,
    movie: { width: 320, height: 180, fps: 30, scenes: [{ id: 's', duration: 6, bgColor: '#204060' }] },
  });

  const edge = await nodes[0].tenant('edge');
  const quota = await Promise.all(Array.from({ length: 40 }, (_, i) => post(i, edge.key, sixSeconds(edge.projectId))));
  assert.deepEqual(
    quota.map((r) => r.status).toSorted(),
    [...Array(10).fill(202), ...Array(30).fill(402)],
    "exactly the month's ten jobs, wherever they were sent",
  );

  const pro = await nodes[1].tenant('pro'); // 3 jobs at once
  const parallel = await Promise.all(Array.from({ length: 10 }, (_, i) => post(i, pro.key, sixSeconds(pro.projectId))));
  assert.deepEqual(parallel.map((r) => r.status).toSorted(), [...Array(3).fill(202), ...Array(7).fill(409)]);

  const other = await nodes[0].tenant('unlimited');
  const same = await Promise.all(
    Array.from({ length: 6 }, (_, i) =>
      post(i, other.key, sixSeconds(other.projectId), { 'idempotency-key': 'one-order' }),
    ),
  );
  const ids = await Promise.all(same.map(async (r) => ((await r.json()) as { jobId: string }).jobId));
  assert.deepEqual(new Set(same.map((r) => r.status)), new Set([202]));
  assert.equal(new Set(ids).size, 1, `one job for one key: ${ids}`);
});

test('the API node a job was submitted to goes away: another node delivers its webhooks, each event once', async () => {
  const shared = await sharedBackend();
  const [one, two] = [await apiNode(shared), await apiNode(shared)];
  const t = await tenantOf(one);
  const hook = await webhookReceiver(t.webhookSecret);
  const body = { ...movieOf('hooks', 1, 1, t.projectId), callbackUrl: `${hook.url}/hook` };
  const jobId = await submitJob(one, t.key, body);
  await one.close();
  await worker(shared);
  await until(() => hook.deliveries.some((d) => d.body.event === 'done'), 60_000, 'the done webhook');
  assert.equal((await jobOf(two, t.key, jobId)).status, 'done');
  assert.deepEqual(
    hook.deliveries.filter((d) => d.badSignature),
    [],
    'signed with the project secret',
  );
  const ids = hook.deliveries.map((d) => d.webhookId);
  assert.equal(new Set(ids).size, ids.length, `each event once: ${ids}`);
});

test('Postgres away: the API answers 503 with Retry-After meanwhile, and recovers by itself', async () => {
  const relay = await postgresRelay();
  const shared = await sharedBackend((url) => url.replace('127.0.0.1:5432', `127.0.0.1:${relay.port}`));
  const node = await apiNode(shared);
  const t = await tenantOf(node);
  assert.equal((await api(node.url, t.key, '/v1/jobs')).status, 200);

  relay.down();
  const away = await api(node.url, t.key, '/v1/jobs');
  assert.equal(away.status, 503);
  assert.equal(away.headers.get('retry-after'), '5');
  const body = (await away.json()) as { error: { code: string } };
  assert.equal(body.error.code, 'SERVICE_UNAVAILABLE');
  assert.equal((await fetch(`${node.url}/readyz`)).status, 503);

  relay.up();
  await until(async () => (await api(node.url, t.key, '/v1/jobs')).status === 200, 15_000, 'the API answers again');
  // and jobs work again, events included: the node listens again
  await worker(shared, 2);
  const jobId = await submitJob(node, t.key, movieOf('back', 1, 1, t.projectId));
  const stream = await api(node.url, t.key, `/v1/jobs/${jobId}/progress`, { signal: AbortSignal.timeout(60_000) });
  assert.match(await stream.text(), /event: done/);
});

test('Postgres away for a few seconds while a job renders: its writes wait, and it completes exactly', async () => {
  const relay = await postgresRelay();
  const shared = await sharedBackend((url) => url.replace('127.0.0.1:5432', `127.0.0.1:${relay.port}`));
  const node = await apiNode(shared);
  const t = await tenantOf(node);
  const busy = await worker(shared);
  const jobId = await submitJob(node, t.key, movieOf('outage', 3, 2, t.projectId));
  await until(async () => (await jobOf(node, t.key, jobId)).phase === 'rendering', 60_000, 'the job renders');
  relay.down();
  await sleep(4000);
  relay.up();
  const done = await waitForJob(node.url, t.key, jobId, 120_000);
  assert.deepEqual(await outputOf(done), { frames: 180, seconds: done.mediaData.duration });
  assert.equal(busy.child.exitCode, null, 'the worker lived through it');
});

test('object storage away: the job fails with STORAGE_UNAVAILABLE after retries, and its minutes are returned', async () => {
  const shared = await sharedBackend();
  const node = await apiNode(shared);
  const t = await tenantOf(node);
  await worker(shared, 2);
  await shared.stopStorage();
  const jobId = await submitJob(node, t.key, movieOf('nos3', 1, 1, t.projectId));
  const job = await waitForJob(node.url, t.key, jobId, 60_000);
  assert.equal(job.status, 'failed');
  assert.equal(job.error.code, 'STORAGE_UNAVAILABLE');
  assert.match(job.error.message, /Object storage could not be reached \(4 tries\)/);
  const usage = (await (await api(node.url, t.key, '/v1/usage')).json()) as { month: { minutes: number } };
  assert.equal(usage.month.minutes, 0);
});

test('chaos: three workers, ten jobs, a random worker SIGKILLed every few seconds five times: every job done and exact', async () => {
  const shared = await sharedBackend();
  const node = await apiNode(shared);
  const t = await tenantOf(node);
  const workers = await Promise.all([0, 1, 2].map(() => worker(shared)));
  const jobIds: string[] = [];
  for (let i = 0; i < 10; i++) jobIds.push(await submitJob(node, t.key, movieOf(`chaos${i}`, 2, 1, t.projectId)));
  for (let kill = 0; kill < 5; kill++) {
    await sleep(2500);
    // a random one of the workers at work (of all, when none is)
    const busy: WorkerChild[] = [];
    for (const w of workers) if ((await ffmpegChildren(w.child.pid!)).length > 0) busy.push(w);
    const among = busy.length > 0 ? busy : workers;
    const victim = among[Math.floor(Math.random() * among.length)];
    workers.splice(workers.indexOf(victim), 1);
    victim.child.kill('SIGKILL');
    await victim.exited;
    workers.push(await worker(shared));
  }
  for (const jobId of jobIds) {
    const job = await waitForJob(node.url, t.key, jobId, 180_000);
    await assertExact(job, 60, 2);
  }
  // the kills hit work: a job planned a second time was taken over from a killed worker
  const phases = await Promise.all(jobIds.map((jobId) => phasesOf(node.url, t.key, jobId)));
  const takenOver = phases.filter((p) => p.filter((phase) => phase === 'planning').length > 1);
  assert.ok(takenOver.length >= 1, `a job was taken over: ${JSON.stringify(phases)}`);
});
