// RenderService.events, what SSE streams and webhook feeds read: the stored events after an
// id, then the live ones, until the job's final event. Where replay meets live, step by step
// (replayThenFollow with the real hub and a store that publishes while it is read): nothing
// missed or told twice. Then with a real render, readers started at every event it writes,
// and an abort. Also the submit's one step: refusals are catalogue codes, nothing stored for them.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { loadPlans } from '../src/api/plans.ts';
import type { JobEvent } from '../src/jobs/database.ts';
import { EventHub } from '../src/jobs/event-hub.ts';
import { replayThenFollow } from '../src/jobs/event-stream.ts';
import { type JobMessage, RenderService, ServiceError } from '../src/jobs/index.ts';
import { tempDir } from './helpers.ts';

const JOB = 'job_a';
const event = (id: number, type = 'progress', job = JOB): JobEvent => ({
  id,
  job_id: job,
  type,
  data: '{}',
  created_at: '',
});

/** What a stream yields, by id and type, and whether it ended by itself (within `ms`). */
async function drain(stream: AsyncGenerator<JobEvent>, ms = 300) {
  const seen: string[] = [];
  const ended = (async () => {
    for await (const e of stream) seen.push(`${e.id}:${e.type}`);
    return true;
  })();
  const result = await Promise.race([ended, new Promise<false>((r) => setTimeout(() => r(false), ms))]);
  return { seen, ended: result };
}

test('replayThenFollow: events published while the replay reads are told once, in order, then live ones to the final one', async () => {
  const hub = new EventHub();
  const log = [event(1, 'phase'), event(2), event(3)];
  const live = hub.follow(JOB);
  const stored = {
    async after(afterId: number) {
      // the store answers with 1..3, and meanwhile 3 (written before the read) and 4 are published
      hub.publish(event(3));
      hub.publish(event(4));
      hub.publish(event(9, 'phase', 'job_other'));
      return log.filter((e) => e.id > afterId);
    },
    ended: async () => false,
  };
  const reading = drain(replayThenFollow(stored, live, 0));
  hub.publish(event(5, 'phase'));
  hub.publish(event(6, 'done'));
  hub.publish(event(7)); // nothing is told after the final event
  assert.deepEqual(await reading, {
    seen: ['1:phase', '2:progress', '3:progress', '4:progress', '5:phase', '6:done'],
    ended: true,
  });
});

test('replayThenFollow: after an id; a final event in the replay ends it; a job that ended meanwhile is read again, not followed', async () => {
  const hub = new EventHub();
  const log = [event(1, 'phase'), event(2), event(3, 'cancelled')];
  const storedLog = { after: async (id: number) => log.filter((e) => e.id > id), ended: async () => true };
  assert.deepEqual(await drain(replayThenFollow(storedLog, hub.follow(JOB), 1)), {
    seen: ['2:progress', '3:cancelled'],
    ended: true,
  });
  assert.deepEqual(await drain(replayThenFollow(storedLog, hub.follow(JOB), 3)), { seen: [], ended: true });

  // the first read has 1..2; the job ends before the follower could hear it (another process ended it)
  let reads = 0;
  const endedMeanwhile = {
    after: async (id: number) => (reads++ === 0 ? log.slice(0, 2) : log).filter((e) => e.id > id),
    ended: async () => true,
  };
  assert.deepEqual(await drain(replayThenFollow(endedMeanwhile, hub.follow(JOB), 0)), {
    seen: ['1:phase', '2:progress', '3:cancelled'],
    ended: true,
  });
});

test('replayThenFollow: an unfinished job is followed until the reader aborts', async () => {
  const hub = new EventHub();
  const abort = new AbortController();
  const stored = { after: async () => [event(1, 'phase')], ended: async () => false };
  const seen: number[] = [];
  const reading = (async () => {
    for await (const e of replayThenFollow(stored, hub.follow(JOB, abort.signal), 0)) seen.push(e.id);
  })();
  hub.publish(event(2));
  await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(seen, [1, 2], 'still following');
  abort.abort();
  await reading;
  hub.publish(event(3));
  assert.deepEqual(seen, [1, 2]);
});

const plans = loadPlans();

/** A service on a new data folder whose jobs wait until `recover`, and a Pro account with a project. */
async function openService() {
  const service = await RenderService.open({ dataDir: await tempDir('reelsmith-events-'), publicUrl: 'http://x' });
  after(() => service.close());
  const account = await service.createAccount({ name: 'events', plan: 'pro' });
  const project = await service.createProject({ accountId: account.id, name: 'events' });
  const submit = (movie: object, idempotencyKey?: string) =>
    service.submit({
      accountId: account.id,
      plan: plans.pro,
      body: { kind: 'movie', projectId: project.id, movie },
      idempotencyKey,
    });
  return { service, accountId: account.id, submit };
}

/** Three scenes of plain colour: a real render, a second or two on a busy machine. */
const movie = {
  width: 320,
  height: 180,
  scenes: ['#102030', '#304050', '#506070'].map((bgColor, i) => ({ id: `s${i}`, duration: 1, bgColor, layers: [] })),
};

async function collect(events: AsyncIterable<JobMessage>, onEach?: (m: JobMessage) => void): Promise<JobMessage[]> {
  const seen: JobMessage[] = [];
  for await (const m of events) {
    seen.push(m);
    onEach?.(m);
  }
  return seen;
}

const brief = (m: JobMessage) => [m.id, m.type, m.body.phase];

test('events: the stored ones, then live ones as the job renders, in order, ending with its final event', async () => {
  const { service, submit } = await openService();
  const { jobId } = await submit(movie);

  // a reader from the start, and another started at each event it sees, while the render
  // writes more (phase changes come in bursts): wherever a replay meets the live events,
  // nothing is missed or doubled
  const late: Array<Promise<JobMessage[]>> = [];
  const early = collect(service.events(jobId), () => late.push(collect(service.events(jobId))));
  await new Promise((r) => setTimeout(r, 50));
  // the job only starts now: the first reader has replayed the submit's event and is following
  await service.recover();
  const seenEarly = await early;
  const seenLate = await Promise.all(late);

  const stored = await collect(service.events(jobId));
  assert.deepEqual(seenEarly.map(brief), stored.map(brief), 'live reading tells exactly what was stored');
  assert.equal(seenLate.length, stored.length, 'a reader started at each event');
  for (const seen of seenLate)
    assert.deepEqual(seen.map(brief), stored.map(brief), 'a reader that starts mid-render, too');
  const ids = stored.map((m) => m.id);
  assert.deepEqual(
    ids,
    ids.toSorted((a, b) => a - b),
    'in the order written',
  );
  assert.equal(new Set(ids).size, ids.length, 'each once');
  assert.deepEqual(brief(stored[0]).slice(1), ['phase', 'queued'], "the submit's event first");
  const last = stored.at(-1)!;
  assert.equal(last.type, 'done');
  assert.equal(last.body.jobId, jobId);
  assert.match(String(last.body.outputUrl), /^http:\/\/x\/v1\/files\/outputs\//);
  assert.deepEqual(
    stored.filter((m) => m.type === 'phase').map((m) => m.body.phase),
    ['queued', 'planning', 'dispatching', 'waiting', 'rendering', 'assembling', 'uploading'],
  );

  // after an id: exactly the stored events after it; after the final one: nothing, and it ends
  const middle = stored[Math.floor(stored.length / 2)].id;
  assert.deepEqual(
    (await collect(service.events(jobId, middle))).map(brief),
    stored.filter((m) => m.id > middle).map(brief),
  );
  assert.deepEqual(await collect(service.events(jobId, last.id)), []);
});

test('events: a job that never starts is followed until the reader aborts; a cancel ends it with its final event', async () => {
  const { service, accountId, submit } = await openService();
  const waiting = await submit(movie);
  const abort = new AbortController();
  const reading = collect(service.events(waiting.jobId, 0, { signal: abort.signal }));
  setTimeout(() => abort.abort(), 200);
  assert.deepEqual(
    (await reading).map((m) => m.body.phase),
    ['queued'],
    'the replay, then nothing until the abort',
  );

  const cancelled = await submit({ ...movie, scenes: movie.scenes.slice(1) });
  const untilEnd = collect(service.events(cancelled.jobId));
  await new Promise((r) => setTimeout(r, 100));
  assert.equal((await service.cancel(accountId, cancelled.jobId)).status, 'cancelled');
  assert.deepEqual(
    (await untilEnd).map((m) => m.type),
    ['phase', 'cancelled'],
  );
});

test('submit: refusals are catalogue codes, and a refused submit stores nothing', async () => {
  const { service, accountId, submit } = await openService();
  const refusal = async (promise: Promise<unknown>) => {
    const err = await promise.then(
      () => assert.fail('refused'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof ServiceError, String(err));
    return err;
  };
  const invalid = await refusal(submit({ ...movie, width: -1 }));
  assert.equal(invalid.code, 'INVALID_MOVIE_JSON');
  assert.ok(Array.isArray(invalid.details) && invalid.details.length > 0);
  assert.equal((await refusal(submit({ ...movie, width: 3840, height: 2160 }))).code, 'PLAN_RESOLUTION_EXCEEDED');
  const missing = await refusal(
    service.submit({ accountId, plan: plans.pro, body: { kind: 'movie', projectId: 'proj_nope', movie } }),
  );
  assert.deepEqual([missing.code, missing.message], ['NOT_FOUND', 'Project proj_nope not found']);
  assert.equal((await service.usage(accountId)).activeJobs, 0);
  assert.deepEqual((await service.listJobs(accountId, { limit: 10 })).jobs, []);

  // the same Idempotency-Key: the same job; with another body, refused
  const first = await submit(movie, 'key-1');
  assert.deepEqual(await submit(movie, 'key-1'), first);
  assert.equal((await refusal(submit({ ...movie, width: 640 }, 'key-1'))).code, 'IDEMPOTENCY_KEY_REUSED');
  assert.equal((await service.listJobs(accountId, { limit: 10 })).jobs.length, 1);
});
