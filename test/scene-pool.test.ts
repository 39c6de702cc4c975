// The scene pool shared by renders: a task that throws at once, instead of returning a
// rejected promise, fails its own run and nothing else; the pool goes on with the next.
// (Whose task goes next is in fairness.test.ts.)
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ScenePool } from '../src/render/index.ts';

test('a task that throws at once fails its own run; the pool goes on with the next', async () => {
  const pool = new ScenePool(1);
  let release!: () => void;
  const first = pool.run('job1', 1, () => new Promise<void>((resolve) => (release = resolve)));
  const throwing = pool.run('job2', 1, () => {
    throw new Error('cancelled before it started');
  });
  const after = pool.run('job3', 1, async () => 'ran');
  release();
  await first;
  await assert.rejects(throwing, /cancelled before it started/);
  assert.equal(await after, 'ran');
});
