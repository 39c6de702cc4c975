// The database's clock, read from this machine's: the offset from one round trip.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clockOffset } from '../src/jobs/clock.ts';

test("the database's clock's offset is taken at the middle of the round trip that read it", () => {
  assert.equal(clockOffset(1_000_050, 1_000_000, 1_000_100), 0);
  assert.equal(clockOffset(1_060_050, 1_000_000, 1_000_100), 60_000, 'the database a minute ahead');
  assert.equal(clockOffset(940_000, 1_000_000, 1_000_000), -60_000, 'a minute behind');
  assert.equal(clockOffset(1_000_000, 1_000_000, 1_000_009), -4.5);
});
