// Postgres going away (a restart, a network cut) while a query is under way: the query fails,
// the process lives on (a pg client in use also emits the error, which unheard would end it),
// and once Postgres answers again the same database works. The cut is real: every connection
// goes through a TCP relay on 127.0.0.1 that closes them all and refuses new ones meanwhile.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { sql } from 'kysely';
import { openPostgres } from '../src/jobs/database.ts';
import { postgresRelay, postgresSchema } from './helpers.ts';

test('a query under way when Postgres goes away fails; the process lives on and the database works once it is back', async () => {
  const { url } = await postgresSchema();
  const relay = await postgresRelay();
  const db = await openPostgres(url.replace('127.0.0.1:5432', `127.0.0.1:${relay.port}`));
  after(() => db.destroy());

  const underWay = sql`select pg_sleep(10)`.execute(db);
  await new Promise((r) => setTimeout(r, 300));
  relay.down();
  await assert.rejects(underWay, /terminated|closed|ECONNRESET/i);
  await assert.rejects(sql`select 1`.execute(db));
  // an unhandled 'error' event would have ended this process by now
  await new Promise((r) => setTimeout(r, 200));

  relay.up();
  const { rows } = await sql<{ one: number }>`select 1 as one`.execute(db);
  assert.deepEqual(rows, [{ one: 1 }]);
});
