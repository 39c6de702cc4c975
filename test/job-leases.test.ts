// Distributed mode's job claims in the store, on the real Postgres: the next job goes to the
// account with the fewest jobs under a live lease, then to the oldest; workers claiming at
// once get different jobs; a job taken over for the third time (its workers stopped
// answering) fails with RENDER_FAILED saying so, with its final event stored and its minutes
// returned, while a job a draining worker gave back is no lapse.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { openPostgres } from '../src/jobs/database.ts';
import { JobStore } from '../src/jobs/job-store.ts';
import { DEFAULT_LEASES } from '../src/jobs/leases.ts';
import { postgresSchema } from './helpers.ts';

const { leaseMs: LEASE, tries: TRIES } = DEFAULT_LEASES;
const NO_LIMITS = { concurrentJobs: null, monthlySeconds: null, dailySeconds: null };
const T0 = Date.parse('2030-01-01T00:00:00Z');
/** A moment `lapses` leases after T0 (each lease then lapsed a second ago). */
const lapsed = (lapses: number) => new Date(T0 + lapses * (LEASE + 1000));

/** A store of its own (a fresh schema), and a submit of one job of `account`'s `ms` after T0. */
async function open() {
  const db = await openPostgres((await postgresSchema()).url);
  after(() => db.destroy());
  const store = new JobStore(db);
  const submit = async (account: string, ms: number) => {
    const outcome = await store.submit(
      { accountId: account, projectId: 'proj', request: {}, seconds: 6, workers: 1, scenes: [{ id: 's', frames: 30 }] },
      NO_LIMITS,
      new Date(T0 + ms),
    );
    assert.ok('job' in outcome);
    return outcome.job.id;
  };
  return { store, submit };
}

test('claims go to the account with the fewest jobs under a live lease, then to the oldest job', async () => {
  const { store, submit } = await open();
  const [a1, a2, a3] = [await submit('A', 1), await submit('A', 2), await submit('A', 3)];
  const [b1, b2] = [await submit('B', 4), await submit('B', 5)];
  const c1 = await submit('C', 6);
  const order: string[] = [];
  for (let i = 0; i < 6; i++) {
    const claimed = await store.claim(`w${i}`, LEASE, TRIES, lapsed(0));
    assert.ok(claimed && 'job' in claimed);
    order.push(claimed.job.id);
  }
  // A B C (none running: oldest first), then A and B again with one each, then A's last
  assert.deepEqual(order, [a1, b1, c1, a2, b2, a3]);
  assert.equal(await store.claim('w6', LEASE, TRIES, lapsed(0)), undefined, 'all leased');
});

test("a lapsed lease counts for nobody: its account's next job is not held back by it", async () => {
  const { store, submit } = await open();
  const a1 = await submit('A', 1);
  const a2 = await submit('A', 2);
  const b1 = await submit('B', 3);
  assert.equal(((await store.claim('w1', LEASE, TRIES, lapsed(0))) as { job: { id: string } }).job.id, a1);
  // a1's worker stopped: A has no live lease then, so a1 (the oldest) is taken over first, then B's job
  const taken = [await store.claim('w2', LEASE, TRIES, lapsed(1)), await store.claim('w3', LEASE, TRIES, lapsed(1))];
  assert.deepEqual(
    taken.map((c) => c && 'job' in c && c.job.id),
    [a1, b1],
  );
  assert.equal(((await store.claim('w4', LEASE, TRIES, lapsed(1))) as { job: { id: string } }).job.id, a2);
});

test('workers claiming at once each get a different job', async () => {
  const { store, submit } = await open();
  const jobs = await Promise.all([1, 2, 3, 4].map((i) => submit(i % 2 ? 'A' : 'B', i)));
  const claimed = await Promise.all(jobs.map((_, i) => store.claim(`w${i}`, LEASE, TRIES, lapsed(0))));
  const ids = claimed.map((c) => (c && 'job' in c ? c.job.id : undefined));
  assert.deepEqual(ids.toSorted(), jobs.toSorted());
});

test('a job whose lease lapsed three times fails with RENDER_FAILED saying so, its event stored and its minutes returned; a drained job is no lapse', async () => {
  const { store, submit } = await open();
  const jobId = await submit('A', 1);
  const losses = async () => (await store.job(jobId))?.lease_losses;
  await store.claim('w1', LEASE, TRIES, lapsed(0));
  await store.release(jobId, 'w1'); // a worker draining gives it back
  await store.claim('w2', LEASE, TRIES, lapsed(0));
  assert.equal(await losses(), 0, 'given back, not lost');
  for (const [lapse, worker] of [
    [1, 'w3'],
    [2, 'w4'],
  ] as const) {
    const claimed = await store.claim(worker, LEASE, TRIES, lapsed(lapse));
    assert.ok(claimed && 'job' in claimed, `taken over after lapse ${lapse}`);
    assert.equal(claimed.job.lease_owner, worker);
    assert.equal(await losses(), lapse);
  }
  assert.equal((await store.usage('A', lapsed(2))).activeJobs, 1);

  const ended = await store.claim('w5', LEASE, TRIES, lapsed(3));
  assert.ok(ended && 'failed' in ended, JSON.stringify(ended));
  const message = "the job stopped answering 3 times (its workers' leases lapsed 3 times); it is not tried again";
  const job = (await store.job(jobId))!;
  assert.deepEqual(
    [job.status, job.error_code, job.error_message, job.lease_owner],
    ['failed', 'RENDER_FAILED', message, null],
  );
  const last = (await store.events(jobId)).at(-1)!;
  assert.equal(last.id, ended.failed.id);
  assert.equal(last.type, 'failed');
  assert.deepEqual(JSON.parse(last.data).error, { code: 'RENDER_FAILED', message });
  assert.deepEqual(await store.usage('A', lapsed(3)), { monthSeconds: 0, daySeconds: 0, activeJobs: 0 });
  assert.equal(await store.claim('w6', LEASE, TRIES, lapsed(4)), undefined, 'not tried again');
  assert.equal(await store.renewLease(jobId, 'w4', LEASE, lapsed(4)), false, 'its last worker is told it lost it');
});
