// Scene tasks in the store, on the real Postgres of distributed mode: offered once, claimed
// by one worker at a time (oldest first, only of active jobs), taken by the coordinator only
// when nobody holds a live lease, taken over once a lease lapses (failed at the third lapse),
// and ended by their holder; and a task run as a worker runs it: its scene alone, into the
// cache, under the key offered.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { join } from 'node:path';
import pino from 'pino';
import { openPostgres, openSqlite } from '../src/jobs/database.ts';
import { JobStore } from '../src/jobs/job-store.ts';
import { SceneCache } from '../src/jobs/scene-cache.ts';
import { runSceneTask } from '../src/jobs/scene-task-run.ts';
import { failureStored, SceneTasks } from '../src/jobs/scene-tasks.ts';
import { ScenePool } from '../src/render/index.ts';
import { postgresSchema, probe, tempDir } from './helpers.ts';

const LEASE = 20_000;
/** Lapses a task survives before it fails (the default). */
const TRIES = 3;

/** A store of its own for each test (a fresh schema): another test's tasks are not claimed. */
async function open(): Promise<{ store: JobStore; tasks: SceneTasks; newJob: () => Promise<string> }> {
  const db = await openPostgres((await postgresSchema()).url);
  after(() => db.destroy());
  const store = new JobStore(db);
  return { store, tasks: new SceneTasks(db), newJob: () => newJob(store) };
}

async function newJob(store: JobStore): Promise<string> {
  const outcome = await store.submit(
    {
      accountId: 'acct',
      projectId: 'proj',
      request: {},
      seconds: 4,
      workers: 1,
      scenes: [0, 1, 2].map((i) => ({ id: `s${i}`, frames: 30 })),
    },
    { concurrentJobs: null, monthlySeconds: null, dailySeconds: null },
  );
  assert.ok('job' in outcome);
  return outcome.job.id;
}

const scenes = [0, 1, 2].map((index) => ({ index, key: `key${index}` }));

test('offered tasks are claimed oldest first, each by one worker; offering again changes nothing', async () => {
  const { tasks, newJob } = await open();
  const job = await newJob();
  await tasks.offer(job, scenes);
  const first = await tasks.claim('w1', LEASE, TRIES);
  assert.deepEqual([first?.job_id, first?.scene_index, first?.cache_key, first?.state], [job, 0, 'key0', 'running']);
  await tasks.offer(job, scenes); // a coordinator that took the job over
  const claimed = await Promise.all(['w2', 'w3', 'w4'].map((w) => tasks.claim(w, LEASE, TRIES)));
  assert.deepEqual(claimed.map((t) => t?.scene_index).sort(), [1, 2, undefined], 'the rest once each, then none');
  assert.equal((await tasks.task(job, 0))?.lease_owner, 'w1');
});

test('the coordinator takes a free task, not one held under a live lease; a lapsed one it takes over', async () => {
  const { tasks, newJob } = await open();
  const job = await newJob();
  await tasks.offer(job, scenes);
  assert.equal(await tasks.take(job, 1, 'coordinator', LEASE, TRIES), true);
  assert.equal((await tasks.claim('w1', LEASE, TRIES))?.scene_index, 0, 'a taken task is not claimed');
  assert.equal(await tasks.take(job, 0, 'coordinator', LEASE, TRIES), false);
  const later = new Date(Date.now() + LEASE + 1000);
  assert.equal(await tasks.renewLease(job, 0, 'w1', LEASE), true);
  assert.equal(await tasks.take(job, 0, 'coordinator', LEASE, TRIES, later), true, 'lapsed: taken over');
  assert.equal(await tasks.renewLease(job, 0, 'w1', LEASE), false, 'the first worker lost it');
  assert.equal(await tasks.finish(job, 0, 'w1'), false, 'nor can it end it');
  assert.equal(await tasks.finish(job, 0, 'coordinator'), true);
  assert.equal((await tasks.task(job, 0))?.state, 'done');
  assert.equal(await tasks.take(job, 0, 'coordinator', LEASE, TRIES, later), false, 'a done task stays done');
});

test('a failed task keeps why; a released one is claimed again at once', async () => {
  const { tasks, newJob } = await open();
  const job = await newJob();
  await tasks.offer(job, scenes.slice(0, 2));
  const one = (await tasks.claim('w1', LEASE, TRIES))!;
  await tasks.finish(job, one.scene_index, 'w1', '{"code":"SOURCE_UNAVAILABLE","message":"gone"}');
  assert.deepEqual((({ state, error }) => ({ state, error }))((await tasks.task(job, one.scene_index))!), {
    state: 'failed',
    error: '{"code":"SOURCE_UNAVAILABLE","message":"gone"}',
  });
  const two = (await tasks.claim('w1', LEASE, TRIES))!;
  await tasks.release(job, 'w1', two.scene_index);
  assert.equal((await tasks.claim('w2', LEASE, TRIES))?.scene_index, two.scene_index);
});

test('a task whose lease lapsed three times fails with RENDER_FAILED saying so, whoever would take it over; a release is no lapse', async () => {
  const { tasks, newJob } = await open();
  const job = await newJob();
  await tasks.offer(job, scenes.slice(0, 2));
  const lapsed = (lapses: number) => new Date(Date.now() + lapses * (LEASE + 1000));
  const lostTimes = async (index: number) => (await tasks.task(job, index))?.lease_losses;
  const failure = (index: number) => ({
    code: 'RENDER_FAILED',
    message: `movie.scenes[${index}] stopped answering 3 times (its workers' leases lapsed 3 times); it is not tried again`,
  });
  // scene 0 by workers claiming it: given back once (a drain), then lapsed on three workers
  assert.equal((await tasks.claim('w1', LEASE, TRIES))?.scene_index, 0);
  await tasks.release(job, 'w1', 0);
  assert.equal((await tasks.claim('w2', LEASE, TRIES))?.scene_index, 0);
  assert.equal(await lostTimes(0), 0, 'given back, not lost');
  assert.equal((await tasks.claim('w3', LEASE, TRIES))?.scene_index, 1);
  assert.equal((await tasks.claim('w4', LEASE, TRIES, lapsed(1)))?.lease_losses, 1);
  assert.equal((await tasks.claim('w5', LEASE, TRIES, lapsed(1)))?.lease_losses, 1);
  assert.equal((await tasks.claim('w6', LEASE, TRIES, lapsed(2)))?.scene_index, 0);
  assert.equal(await lostTimes(0), 2);
  // scene 1 by its coordinator taking it over: the third lapse fails it there too
  assert.equal(await tasks.take(job, 1, 'coordinator', LEASE, TRIES, lapsed(2)), true);
  assert.equal(await tasks.take(job, 1, 'coordinator', LEASE, TRIES, lapsed(3)), false);
  assert.equal(await tasks.claim('w7', LEASE, TRIES, lapsed(3)), undefined, 'scene 0 fails too: none is left');
  for (const index of [0, 1]) {
    const task = (await tasks.task(job, index))!;
    assert.deepEqual([task.state, task.lease_owner, failureStored(task.error)], ['failed', null, failure(index)]);
  }
});

test("a finished job's tasks are claimed by nobody, and their leases cannot be renewed", async () => {
  const { store, tasks, newJob } = await open();
  const job = await newJob();
  await tasks.offer(job, scenes);
  const held = (await tasks.claim('w1', LEASE, TRIES))!;
  await store.finish(job, 'cancelled', {}, {});
  assert.equal(await tasks.claim('w2', LEASE, TRIES), undefined);
  assert.equal(await tasks.renewLease(job, held.scene_index, 'w1', LEASE), false);
});

test("a scene task renders its scene alone into the project's cache under the key offered, and refuses another key before rendering", async () => {
  const db = await openSqlite(await tempDir('reelsmith-scene-task-'));
  after(() => db.destroy());
  const store = new JobStore(db);
  const movie = {
    width: 320,
    height: 180,
    fps: 30,
    scenes: ['#102030', '#304050'].map((bgColor, i) => ({ id: `s${i}`, duration: 1, bgColor })),
  };
  const outcome = await store.submit(
    {
      accountId: 'acct',
      projectId: 'proj',
      request: { movie },
      seconds: 2,
      workers: 1,
      scenes: [0, 1].map((i) => ({ id: `s${i}`, frames: 30 })),
    },
    { concurrentJobs: null, monthlySeconds: null, dailySeconds: null },
  );
  assert.ok('job' in outcome);
  const work = await tempDir('reelsmith-scene-task-work-');
  const cache = new SceneCache(join(work, 'cache'));
  const ctx = {
    log: pino({ level: 'silent' }),
    store,
    pool: new ScenePool(2),
    cache,
    storage: undefined as never,
    announce: async () => {},
    workRoot: join(work, 'work'),
    sourceDir: join(work, 'sources'),
    fetch: {},
    cores: 1,
  };
  const task = {
    job_id: outcome.job.id,
    scene_index: 1,
    cache_key: 'not-the-key',
    state: 'running' as const,
    lease_owner: 'w',
    lease_until: null,
    error: null,
    created_at: '',
    frames_done: 0,
    lease_losses: 0,
  };
  const refused = await runSceneTask(task, ctx, new AbortController().signal).then(
    () => assert.fail('rendered under another key'),
    (err: Error) => err.message,
  );
  const match = /^scene 1 plans to cache key (\w+) on this worker, not not-the-key as on its job's/.exec(refused);
  assert.ok(match, refused);
  const key = match[1];
  assert.equal(await cache.get('proj', key), undefined, 'nothing rendered');

  await runSceneTask({ ...task, cache_key: key }, ctx, new AbortController().signal);
  const chunks = await cache.get('proj', key);
  assert.ok(chunks && chunks.length > 0);
  const frames = await Promise.all(chunks.map(async (c) => Number((await probe(c)).video.nb_read_frames)));
  assert.equal(
    frames.reduce((a, b) => a + b, 0),
    30,
    'the one scene, whole',
  );
});
