// The job database's versioned migrations: a data folder from before migrations existed
// (with and without the warnings column) is brought up to date with its rows kept, a
// delivery recorded twice for one event made one; a new one gets every migration once;
// Postgres gets the same set, applied once even when two processes start together.
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { openPostgres, openSqlite } from '../src/jobs/database.ts';
import { MIGRATION_NAMES, migrateToLatest } from '../src/jobs/migrations.ts';
import { postgresSchema, tempDir } from './helpers.ts';

/** The schema the release before migrations made (sqlite_master), less the jobs.warnings column it added later. */
const BEFORE_MIGRATIONS = `
CREATE TABLE "accounts" ("id" text primary key, "name" text not null, "plan" text not null, "created_at" text not null);
CREATE TABLE "projects" ("id" text primary key, "account_id" text not null references "accounts" ("id"), "name" text not null, "webhook_secret" text not null, "created_at" text not null);
CREATE TABLE "api_keys" ("id" text primary key, "account_id" text not null references "accounts" ("id"), "hash" text not null unique, "prefix" text not null, "created_at" text not null, "revoked_at" text);
CREATE TABLE "jobs" ("id" text primary key, "account_id" text not null, "project_id" text not null, "status" text not null, "phase" text not null, "progress" real not null, "request" text not null, "seconds" real not null, "workers" integer not null, "callback_url" text, "error_code" text, "error_message" text, "output_key" text, "media_data" text, "created_at" text not null, "started_at" text, "updated_at" text not null, "finished_at" text);
CREATE INDEX "jobs_by_project" on "jobs" ("project_id", "created_at", "id");
CREATE INDEX "jobs_by_account" on "jobs" ("account_id", "status", "created_at");
CREATE TABLE "job_scenes" ("job_id" text not null, "scene_index" integer not null, "scene_id" text not null, "frames" integer not null, "state" text not null, "cache_key" text, constraint "job_scenes_pk" primary key ("job_id", "scene_index"));
CREATE TABLE "job_events" ("id" integer primary key autoincrement, "job_id" text not null, "type" text not null, "data" text not null, "created_at" text not null);
CREATE INDEX "job_events_by_job" on "job_events" ("job_id", "id");
CREATE TABLE "webhook_deliveries" ("id" integer primary key autoincrement, "job_id" text not null, "event_id" integer not null, "url" text not null, "payload" text not null, "status" text not null, "attempts" integer not null, "next_attempt_at" text not null, "last_error" text, "created_at" text not null, "delivered_at" text);
CREATE INDEX "webhook_deliveries_due" on "webhook_deliveries" ("status", "next_attempt_at");
CREATE TABLE "webhook_attempts" ("id" integer primary key autoincrement, "delivery_id" integer not null, "attempted_at" text not null, "status_code" integer, "error" text, "duration_ms" integer not null);
CREATE TABLE "idempotency_keys" ("account_id" text not null, "key" text not null, "request_hash" text not null, "job_id" text not null, "created_at" text not null, constraint "idempotency_pk" primary key ("account_id", "key"));
`;
const WARNINGS_COLUMN = `ALTER TABLE "jobs" ADD COLUMN "warnings" text;`;
/** A finished job's columns in the order of the release before migrations (jobs.warnings comes last when present). */
const A_JOB = `'job_1', 'acct', 'proj', 'done', 'done', 1, '{}', 5, 3, NULL, NULL, NULL, 'out.mp4', '{}', '2026-01-01', NULL, '2026-01-01', '2026-01-01'`;

/** A data folder as an older release left it, holding one finished job. */
async function oldDataFolder(withWarnings: boolean): Promise<string> {
  const dir = join(await tempDir(), 'data');
  await mkdir(dir);
  const file = new SQLite(join(dir, 'reelsmith.db'));
  file.exec(BEFORE_MIGRATIONS);
  if (withWarnings) file.exec(WARNINGS_COLUMN);
  file.exec(`INSERT INTO jobs VALUES (${A_JOB}${withWarnings ? ", '[]'" : ''})`);
  file.close();
  return dir;
}

async function applied(db: Kysely<unknown>): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(db);
  return rows.map((r) => r.name);
}

for (const withWarnings of [false, true]) {
  test(`a data folder from before migrations ${withWarnings ? 'with' : 'without'} jobs.warnings is migrated on open, its job kept`, async () => {
    const dir = await oldDataFolder(withWarnings);
    const db = await openSqlite(dir);
    try {
      assert.deepEqual(await applied(db as Kysely<unknown>), MIGRATION_NAMES);
      const job = await db.selectFrom('jobs').selectAll().where('id', '=', 'job_1').executeTakeFirstOrThrow();
      assert.equal(job.output_key, 'out.mp4');
      assert.equal(job.warnings, withWarnings ? '[]' : null);
      assert.equal(job.lease_losses, 0, 'no lease of it lapsed');
    } finally {
      await db.destroy();
    }
  });
}

test('deliveries recorded twice for one event before 0003 are made one (the first, with its attempts); recording one again is refused', async () => {
  const dir = await oldDataFolder(true);
  const file = new SQLite(join(dir, 'reelsmith.db'));
  file.exec(`
    INSERT INTO webhook_deliveries (id, job_id, event_id, url, payload, status, attempts, next_attempt_at, created_at)
    VALUES (1, 'job_1', 7, 'http://a', '{}', 'delivered', 1, '2026-01-01', '2026-01-01'),
           (2, 'job_1', 7, 'http://a', '{}', 'pending', 1, '2026-01-01', '2026-01-01'),
           (3, 'job_1', 8, 'http://a', '{}', 'delivered', 1, '2026-01-01', '2026-01-01');
    INSERT INTO webhook_attempts (delivery_id, attempted_at, status_code, duration_ms)
    VALUES (1, '2026-01-01', 200, 5), (2, '2026-01-01', 500, 5), (3, '2026-01-01', 200, 5);`);
  file.close();
  const db = await openSqlite(dir);
  try {
    const deliveries = await db.selectFrom('webhook_deliveries').select(['id', 'event_id']).orderBy('id').execute();
    assert.deepEqual(deliveries, [
      { id: 1, event_id: 7 },
      { id: 3, event_id: 8 },
    ]);
    const attempts = await db.selectFrom('webhook_attempts').select('delivery_id').orderBy('id').execute();
    assert.deepEqual(
      attempts.map((a) => a.delivery_id),
      [1, 3],
    );
    await assert.rejects(
      sql`insert into webhook_deliveries (job_id, event_id, url, payload, status, attempts, next_attempt_at, created_at)
          values ('job_1', 7, 'http://a', '{}', 'pending', 0, '2026-01-01', '2026-01-01')`.execute(db),
      /UNIQUE/,
    );
  } finally {
    await db.destroy();
  }
});

test('a new data folder gets every migration once; opening it again applies nothing', async () => {
  const dir = join(await tempDir(), 'data');
  for (let i = 0; i < 2; i++) {
    const db = await openSqlite(dir);
    assert.deepEqual(await applied(db as Kysely<unknown>), MIGRATION_NAMES);
    await db.destroy();
  }
});

test('Postgres: the same migrations, applied once when two processes start together; ids are numbered by the database', async () => {
  const schema = `reelsmith_test_${process.pid}_${Date.now()}`;
  const admin = new pg.Pool({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test', max: 1 });
  await admin.query(`create schema ${schema}`);
  const connect = () =>
    new Kysely<unknown>({
      dialect: new PostgresDialect({
        pool: new pg.Pool({
          host: '127.0.0.1',
          port: 5432,
          user: 'postgres',
          database: 'test',
          max: 2,
          options: `-c search_path=${schema}`,
        }),
      }),
    });
  const [one, two] = [connect(), connect()];
  try {
    await Promise.all([migrateToLatest(one, 'postgres'), migrateToLatest(two, 'postgres')]);
    assert.deepEqual(await applied(one), MIGRATION_NAMES);
    const { rows } = await sql<{ id: number }>`
      insert into job_events (job_id, type, data, created_at)
      values ('job_1', 'job.created', '{}', '2026-01-01'), ('job_1', 'job.done', '{}', '2026-01-01')
      returning id`.execute(one);
    assert.deepEqual(
      rows.map((r) => Number(r.id)),
      [1, 2],
    );
    const columns = await sql<{ column_name: string; data_type: string }>`
      select column_name, data_type from information_schema.columns
      where table_schema = ${schema} and table_name = 'jobs' and column_name in ('seconds', 'warnings')
      order by column_name`.execute(one);
    assert.deepEqual(columns.rows, [
      { column_name: 'seconds', data_type: 'double precision' },
      { column_name: 'warnings', data_type: 'text' },
    ]);
  } finally {
    await Promise.all([one.destroy(), two.destroy()]);
    await admin.query(`drop schema ${schema} cascade`);
    await admin.end();
  }
});

test("Postgres: a schema next to another one already migrated gets every migration (Kysely's tables and jobs.warnings its own)", async () => {
  const [first, second] = [await postgresSchema(), await postgresSchema()];
  const one = await openPostgres(first.url);
  const two = await openPostgres(second.url);
  try {
    assert.deepEqual(await applied(two as Kysely<unknown>), MIGRATION_NAMES);
    const columns = await sql<{ column_name: string }>`
      select column_name from information_schema.columns
      where table_schema = ${second.schema} and table_name = 'jobs' and column_name = 'warnings'`.execute(two);
    assert.equal(columns.rows.length, 1);
  } finally {
    await Promise.all([one.destroy(), two.destroy()]);
  }
});
