// The database's clock, read from this machine's: a reading carried forward on the monotonic
// clock, taken at the middle of the round trip that made it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { clockNow, readAt, useDatabaseClock } from '../src/jobs/clock.ts';

test("a reading of the database's clock is taken at the middle of its round trip", () => {
  assert.equal(readAt(1_000, 1_100), 1_050);
  assert.equal(readAt(5, 14), 9.5);
});

test("now, on the database's clock: this machine's until a reading, then the reading carried forward", async () => {
  assert.ok(Math.abs(clockNow().getTime() - Date.now()) < 5);
  const aMinuteAhead = Date.now() + 60_000;
  useDatabaseClock(aMinuteAhead, performance.now());
  await sleep(50);
  const ahead = clockNow().getTime() - Date.now();
  assert.ok(Math.abs(ahead - 60_000) < 20, `${ahead} ms ahead`);
});
