// The plan's requests per minute across API nodes: two nodes on one Postgres database count
// an account's requests together; the count itself (atomic, windows that end, ended rows
// deleted) on SQLite and Postgres; a database that cannot count lets requests through and
// says so once; embedded mode counts in memory and writes nothing per request.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import pino from 'pino';
import { type Database, databaseFile, openPostgres, openSqlite } from '../src/jobs/database.ts';
import { RequestCounts } from '../src/jobs/request-counts.ts';
import { postgresSchema, s3Server, s3Storage, tempDir, until } from './helpers.ts';
import { api, assertErrorShape, startService, TEST_MODE, testPlans } from './service-helpers.ts';

/** The test plans plus "rate-10": Pro with 10 requests a minute. */
function plans() {
  const all = testPlans();
  return { ...all, 'rate-10': { ...all.pro, name: 'Rate 10', requestsPerMinute: 10 } };
}

/** An API node of the distributed mode on `database` (no workers: no job renders here). */
async function apiNode(database: string, storage: ReturnType<typeof s3Storage>, logger?: pino.Logger) {
  return startService({ database, storage, plans: plans(), logger });
}

async function distributedBackend() {
  const [{ url: database }, s3] = await Promise.all([postgresSchema(), s3Server()]);
  return { database, storage: s3Storage(`s3://${s3.bucket}/reelsmith`, s3.settings) };
}

/** A logger whose records are kept, to count what it said. */
function keptLog() {
  const records: Array<{ msg: string }> = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => records.push(JSON.parse(line)) });
  return { logger, said: (text: string) => records.filter((r) => r.msg.includes(text)).length };
}

test('two API nodes on one database: 6 requests to each, at once, on a plan of 10 a minute: exactly 2 get 429 RATE_LIMITED with Retry-After', async () => {
  const { database, storage } = await distributedBackend();
  const [a, b] = [await apiNode(database, storage), await apiNode(database, storage)];
  const t = await a.tenant('rate-10');
  const other = await b.tenant('rate-10');
  const replies = await Promise.all(
    [...Array(6).fill(a.url), ...Array(6).fill(b.url)].map(async (node: string) => {
      const res = await api(node, t.key, '/v1/usage');
      return { status: res.status, retryAfter: res.headers.get('retry-after'), json: await res.json() };
    }),
  );
  assert.deepEqual(replies.map((r) => r.status).sort(), [...Array(10).fill(200), 429, 429]);
  for (const r of replies.filter((x) => x.status === 429)) {
    assertErrorShape(r.json, 'RATE_LIMITED');
    assert.ok(Number(r.retryAfter) > 0 && Number(r.retryAfter) <= 60, `Retry-After: ${r.retryAfter}`);
  }
  for (const node of [a, b]) assert.equal((await api(node.url, other.key, '/v1/usage')).status, 200, 'per account');
});

for (const kind of ['sqlite', 'postgres'] as const) {
  /** `count` handles on one new database, as `count` nodes have. */
  async function handles(count: number): Promise<Database[]> {
    const open = kind === 'postgres' ? openPostgres : openSqlite;
    const where = kind === 'postgres' ? (await postgresSchema()).url : await tempDir();
    const dbs: Database[] = [];
    for (let i = 0; i < count; i++) dbs.push(await open(where));
    return dbs;
  }
  const quiet = pino({ level: 'silent' });

  test(`${kind}: 20 requests at once from two nodes count 1 to 20; a window that ended starts again at 1`, async () => {
    const dbs = await handles(2);
    try {
      const nodes = dbs.map((db) => new RequestCounts(db, quiet));
      const counts = await Promise.all(Array.from({ length: 20 }, (_, i) => nodes[i % 2]!.count('acct_burst', 60_000)));
      assert.deepEqual(
        counts.map((c) => c?.current).sort((x, y) => x! - y!),
        Array.from({ length: 20 }, (_, i) => i + 1),
      );
      for (const c of counts) assert.ok(c!.ttl > 50_000 && c!.ttl <= 60_000, `ttl ${c!.ttl}`);

      // a second long, so a loaded machine still counts twice within it
      assert.equal((await nodes[0]!.count('acct_short', 1000))?.current, 1);
      assert.equal((await nodes[1]!.count('acct_short', 1000))?.current, 2);
      await sleep(1100);
      const again = await nodes[1]!.count('acct_short', 1000);
      assert.equal(again?.current, 1);
      assert.ok(again!.ttl > 500 && again!.ttl <= 1000, `ttl ${again!.ttl}`);
      assert.equal((await nodes[0]!.count('acct_burst', 60_000))?.current, 21, 'other keys keep their count');
    } finally {
      await Promise.all(dbs.map((db) => db.destroy()));
    }
  });

  test(`${kind}: rows of ended windows are deleted as requests go on`, async () => {
    const [db] = (await handles(1)) as [Database];
    try {
      const counts = new RequestCounts(db, quiet);
      await counts.count('acct_old', 100);
      await sleep(150);
      await counts.count('acct_new', 100);
      const keys = async () => (await db.selectFrom('request_counts').select('key').execute()).map((r) => r.key);
      await until(async () => (await keys()).length === 1, 5000, 'the ended window is deleted');
      assert.deepEqual(await keys(), ['acct_new']);
    } finally {
      await db.destroy();
    }
  });
}

test('a database that cannot count lets requests through (logged once), and they are counted again when it can', async () => {
  const { database, storage } = await distributedBackend();
  const log = keptLog();
  const node = await apiNode(database, storage, log.logger);
  const t = await node.tenant('rate-10');
  const admin = new pg.Client({ connectionString: database });
  await admin.connect();
  try {
    await admin.query('alter table request_counts rename to request_counts_away');
    for (let i = 0; i < 12; i++) assert.equal((await api(node.url, t.key, '/v1/usage')).status, 200);
    assert.equal(log.said('cannot count requests'), 1);

    await admin.query('alter table request_counts_away rename to request_counts');
    const first = await api(node.url, t.key, '/v1/usage');
    assert.equal(first.headers.get('x-ratelimit-remaining'), '9');
    assert.equal(log.said('counted again'), 1);
    for (let i = 0; i < 9; i++) assert.equal((await api(node.url, t.key, '/v1/usage')).status, 200);
    assert.equal((await api(node.url, t.key, '/v1/usage')).status, 429);
  } finally {
    await admin.end();
  }
});

test('embedded mode: counted in memory, nothing written per request', {
  skip: TEST_MODE === 'distributed' && 'embedded mode only',
}, async () => {
  const node = await startService({ plans: plans() });
  assert.equal(node.service.sharedRateLimits, false);
  const t = await node.tenant('rate-10');
  for (let i = 0; i < 10; i++) assert.equal((await api(node.url, t.key, '/v1/usage')).status, 200);
  assert.equal((await api(node.url, t.key, '/v1/usage')).status, 429);
  const file = new SQLite(databaseFile(node.dataDir), { readonly: true });
  try {
    assert.deepEqual(file.prepare('select * from request_counts').all(), []);
  } finally {
    file.close();
  }
});
