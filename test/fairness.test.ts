// Fairness between tenants: whose work starts next (fair-turn.ts) is the tenant's with the
// fewest running, then the oldest; exact cases and a property over random queues. The scene
// pool starts another tenant's scene at the next free worker, and the service (in the mode
// startService starts: test/distributed/fairness.test.ts runs this file in distributed mode)
// starts account B's one job ahead of account A's eight waiting ones.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { nextTurn } from '../src/render/fair-turn.ts';
import { ScenePool } from '../src/render/index.ts';
import { startService, submitJob, textMovie, waitForJob } from './service-helpers.ts';

/** nextTurn over items named by their tenant (`a1` is tenant a's), with `running` per tenant and some not startable. */
function turn(waiting: string[], running: Record<string, number>, blocked: string[] = []): number {
  return nextTurn(
    waiting,
    (item) => item[0],
    (tenant) => running[tenant] ?? 0,
    (item) => !blocked.includes(item),
  );
}

test('the next turn: the tenant with the fewest running, then the oldest; -1 when nothing may start', () => {
  assert.equal(turn([], {}), -1);
  assert.equal(turn(['a1', 'a2', 'a3'], { a: 5 }), 0, 'one tenant: its oldest');
  assert.equal(turn(['a1', 'a2', 'b1'], { a: 2 }), 2, 'b runs nothing: its job, though the newest');
  assert.equal(turn(['a1', 'b1'], { a: 1, b: 1 }), 0, 'as many running: the oldest');
  assert.equal(turn(['b1', 'a1', 'c1'], { a: 1, b: 2, c: 1 }), 1, 'a and c run one each: the older of theirs');
  assert.equal(turn(['b1', 'a1'], { a: 3 }, ['b1']), 1, "b's may not start (its owner is at its limit): a's");
  assert.equal(turn(['a1', 'b1'], {}, ['a1', 'b1']), -1);
});

test('property: whatever is queued and running, the item chosen is the oldest of a tenant running the fewest among those that may start', () => {
  const item = fc.record({ tenant: fc.constantFrom('a', 'b', 'c'), mayStart: fc.boolean() });
  fc.assert(
    fc.property(
      fc.array(item, { maxLength: 20 }),
      fc.dictionary(fc.constantFrom('a', 'b', 'c'), fc.nat(5)),
      (waiting, running) => {
        const count = (tenant: string) => running[tenant] ?? 0;
        const chosen = nextTurn(
          waiting,
          (w) => w.tenant,
          count,
          (w) => w.mayStart,
        );
        const startable = waiting.filter((w) => w.mayStart);
        if (startable.length === 0) return chosen === -1;
        const fewest = Math.min(...startable.map((w) => count(w.tenant)));
        return chosen === waiting.findIndex((w) => w.mayStart && count(w.tenant) === fewest);
      },
    ),
  );
});

/** Resolves once what a task's end set going (the pool starting the next) has run. */
const settled = () => new Promise((resolve) => setImmediate(resolve));

test("a scene pool full of tenant a's scenes starts tenant b's at the next free worker, ahead of a's waiting ones", async () => {
  const pool = new ScenePool(2);
  const started: string[] = [];
  const finish = new Map<string, () => void>();
  const scene = (name: string, owner: string, tenant: string) =>
    pool.run(
      owner,
      3,
      () =>
        new Promise<void>((resolve) => {
          started.push(name);
          finish.set(name, resolve);
        }),
      tenant,
    );
  // two renders of a (three scenes at once each), then one of b
  const runs = ['a1', 'a2', 'a3', 'a4', 'a5', 'a6'].map((name, i) => scene(name, i < 3 ? 'job1' : 'job2', 'a'));
  runs.push(scene('b1', 'job3', 'b'));
  assert.deepEqual(started, ['a1', 'a2']);
  finish.get('a1')!();
  await settled();
  assert.deepEqual(started, ['a1', 'a2', 'b1'], "b's scene goes next");
  for (const name of ['a2', 'b1', 'a3', 'a4', 'a5', 'a6']) {
    finish.get(name)!();
    await settled();
  }
  await Promise.all(runs);
  assert.deepEqual(started, ['a1', 'a2', 'b1', 'a3', 'a4', 'a5', 'a6'], "then a's, oldest first");
});

test("account A queues eight jobs, then B one: B's starts at the next free slot, with at most one of A's waiting jobs ahead of it", async () => {
  // embedded: 2 scene workers, so 4 jobs at once; distributed: 2 workers of 2 jobs each
  const shortJob = (projectId: string, tag: string) => textMovie(projectId, tag, 1, { width: 320, height: 180 });
  const service = await startService();
  const [a, b] = [await service.tenant('unlimited'), await service.tenant('unlimited')];
  const aIds: string[] = [];
  for (let i = 0; i < 8; i++) aIds.push(await submitJob(service, a.key, shortJob(a.projectId, `a${i}`)));
  const bId = await submitJob(service, b.key, shortJob(b.projectId, 'b'));
  const bJob = await waitForJob(service.url, b.key, bId, 120_000);
  const aJobs = await Promise.all(aIds.map((id) => waitForJob(service.url, a.key, id, 120_000)));
  for (const job of [...aJobs, bJob]) assert.equal(job.status, 'done', JSON.stringify(job));

  const startedBy = (at: string) => aJobs.filter((job) => job.startedAt < at).length;
  const startedWhenSubmitted = startedBy(bJob.createdAt);
  assert.ok(startedWhenSubmitted < 8, `A's queue still waited when B submitted (${startedWhenSubmitted} of 8 started)`);
  const ahead = startedBy(bJob.startedAt) - startedWhenSubmitted;
  assert.ok(ahead <= 1, `${ahead} of A's waiting jobs started after B's was submitted and before it`);
});
