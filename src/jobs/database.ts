// The job store's tables, typed for Kysely, and opening them: SQLite (a file in the data
// folder) for embedded mode. Timestamps are ISO-8601 strings, JSON columns are text.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import {
  Kysely,
  SqliteDialect,
  SqliteDriver,
  type DatabaseConnection,
  type Driver,
  type Generated,
  type Selectable,
} from 'kysely';

export interface AccountRow {
  id: string;
  name: string;
  plan: string;
  created_at: string;
}

export interface ProjectRow {
  id: string;
  account_id: string;
  name: string;
  webhook_secret: string;
  created_at: string;
}

export interface ApiKeyRow {
  id: string;
  account_id: string;
  /** SHA-256 of the key; the key itself is shown once and never stored. */
  hash: string;
  /** The first characters, so a user can tell keys apart. */
  prefix: string;
  created_at: string;
  revoked_at: string | null;
}

export interface JobRow {
  id: string;
  account_id: string;
  project_id: string;
  status: string;
  phase: string;
  progress: number;
  /** The request body as accepted (JSON). */
  request: string;
  /** Output seconds: what the job reserves at submit and uses when done. */
  seconds: number;
  workers: number;
  callback_url: string | null;
  error_code: string | null;
  error_message: string | null;
  output_key: string | null;
  media_data: string | null;
  /** JSON array of the render's warnings (characters no font has), null until done. */
  warnings: string | null;
  created_at: string;
  started_at: string | null;
  updated_at: string;
  finished_at: string | null;
}

export interface JobSceneRow {
  job_id: string;
  scene_index: number;
  scene_id: string;
  frames: number;
  state: string;
  cache_key: string | null;
}

export interface JobEventRow {
  id: Generated<number>;
  job_id: string;
  type: string;
  data: string;
  created_at: string;
}

/** A stored event, as read back. */
export type JobEvent = Selectable<JobEventRow>;

export interface WebhookDeliveryRow {
  id: Generated<number>;
  job_id: string;
  event_id: number;
  url: string;
  payload: string;
  status: string;
  attempts: number;
  next_attempt_at: string;
  last_error: string | null;
  created_at: string;
  delivered_at: string | null;
}

export type WebhookDelivery = Selectable<WebhookDeliveryRow>;
export type WebhookAttempt = Selectable<WebhookAttemptRow>;

export interface WebhookAttemptRow {
  id: Generated<number>;
  delivery_id: number;
  attempted_at: string;
  status_code: number | null;
  error: string | null;
  duration_ms: number;
}

export interface IdempotencyRow {
  account_id: string;
  key: string;
  request_hash: string;
  job_id: string;
  created_at: string;
}

export interface Tables {
  accounts: AccountRow;
  projects: ProjectRow;
  api_keys: ApiKeyRow;
  jobs: JobRow;
  job_scenes: JobSceneRow;
  job_events: JobEventRow;
  webhook_deliveries: WebhookDeliveryRow;
  webhook_attempts: WebhookAttemptRow;
  idempotency_keys: IdempotencyRow;
}

export type Database = Kysely<Tables>;

/** The SQLite file in a data folder. */
export function databaseFile(dataDir: string): string {
  return join(dataDir, 'reelsmith.db');
}

export async function openSqlite(dataDir: string): Promise<Database> {
  mkdirSync(dataDir, { recursive: true });
  const file = new SQLite(databaseFile(dataDir));
  file.pragma('journal_mode = WAL');
  file.pragma('synchronous = NORMAL');
  file.pragma('busy_timeout = 5000');
  const db = new Kysely<Tables>({ dialect: new SqliteDialectKeepingErrors(file) });
  await createTables(db);
  return db;
}

/**
 * SQLite rolls a transaction back by itself on some errors (SQLITE_FULL on a full disk, I/O
 * errors); Kysely's own rollback would then fail with "cannot rollback - no transaction is
 * active" and throw that instead of the real error. Roll back only what is still open.
 */
class SqliteDialectKeepingErrors extends SqliteDialect {
  constructor(private readonly file: SQLite.Database) {
    super({ database: file });
  }

  override createDriver(): Driver {
    const file = this.file;
    return new (class extends SqliteDriver {
      override async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
        if (file.inTransaction) await super.rollbackTransaction(connection);
      }
    })({ database: file });
  }
}

async function createTables(db: Database): Promise<void> {
  const text = 'text' as const;
  await db.schema
    .createTable('accounts')
    .ifNotExists()
    .addColumn('id', text, (c) => c.primaryKey())
    .addColumn('name', text, (c) => c.notNull())
    .addColumn('plan', text, (c) => c.notNull())
    .addColumn('created_at', text, (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('projects')
    .ifNotExists()
    .addColumn('id', text, (c) => c.primaryKey())
    .addColumn('account_id', text, (c) => c.notNull().references('accounts.id'))
    .addColumn('name', text, (c) => c.notNull())
    .addColumn('webhook_secret', text, (c) => c.notNull())
    .addColumn('created_at', text, (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('api_keys')
    .ifNotExists()
    .addColumn('id', text, (c) => c.primaryKey())
    .addColumn('account_id', text, (c) => c.notNull().references('accounts.id'))
    .addColumn('hash', text, (c) => c.notNull().unique())
    .addColumn('prefix', text, (c) => c.notNull())
    .addColumn('created_at', text, (c) => c.notNull())
    .addColumn('revoked_at', text)
    .execute();
  await db.schema
    .createTable('jobs')
    .ifNotExists()
    .addColumn('id', text, (c) => c.primaryKey())
    .addColumn('account_id', text, (c) => c.notNull())
    .addColumn('project_id', text, (c) => c.notNull())
    .addColumn('status', text, (c) => c.notNull())
    .addColumn('phase', text, (c) => c.notNull())
    .addColumn('progress', 'real', (c) => c.notNull())
    .addColumn('request', text, (c) => c.notNull())
    .addColumn('seconds', 'real', (c) => c.notNull())
    .addColumn('workers', 'integer', (c) => c.notNull())
    .addColumn('callback_url', text)
    .addColumn('error_code', text)
    .addColumn('error_message', text)
    .addColumn('output_key', text)
    .addColumn('media_data', text)
    .addColumn('warnings', text)
    .addColumn('created_at', text, (c) => c.notNull())
    .addColumn('started_at', text)
    .addColumn('updated_at', text, (c) => c.notNull())
    .addColumn('finished_at', text)
    .execute();
  // a data folder from before job warnings existed gets the column
  const jobs = (await db.introspection.getTables()).find((t) => t.name === 'jobs');
  if (!jobs?.columns.some((c) => c.name === 'warnings'))
    await db.schema.alterTable('jobs').addColumn('warnings', text).execute();
  await db.schema
    .createIndex('jobs_by_project')
    .ifNotExists()
    .on('jobs')
    .columns(['project_id', 'created_at', 'id'])
    .execute();
  await db.schema
    .createIndex('jobs_by_account')
    .ifNotExists()
    .on('jobs')
    .columns(['account_id', 'status', 'created_at'])
    .execute();
  await db.schema
    .createTable('job_scenes')
    .ifNotExists()
    .addColumn('job_id', text, (c) => c.notNull())
    .addColumn('scene_index', 'integer', (c) => c.notNull())
    .addColumn('scene_id', text, (c) => c.notNull())
    .addColumn('frames', 'integer', (c) => c.notNull())
    .addColumn('state', text, (c) => c.notNull())
    .addColumn('cache_key', text)
    .addPrimaryKeyConstraint('job_scenes_pk', ['job_id', 'scene_index'])
    .execute();
  await db.schema
    .createTable('job_events')
    .ifNotExists()
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('job_id', text, (c) => c.notNull())
    .addColumn('type', text, (c) => c.notNull())
    .addColumn('data', text, (c) => c.notNull())
    .addColumn('created_at', text, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('job_events_by_job').ifNotExists().on('job_events').columns(['job_id', 'id']).execute();
  await db.schema
    .createTable('webhook_deliveries')
    .ifNotExists()
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('job_id', text, (c) => c.notNull())
    .addColumn('event_id', 'integer', (c) => c.notNull())
    .addColumn('url', text, (c) => c.notNull())
    .addColumn('payload', text, (c) => c.notNull())
    .addColumn('status', text, (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('next_attempt_at', text, (c) => c.notNull())
    .addColumn('last_error', text)
    .addColumn('created_at', text, (c) => c.notNull())
    .addColumn('delivered_at', text)
    .execute();
  await db.schema
    .createIndex('webhook_deliveries_due')
    .ifNotExists()
    .on('webhook_deliveries')
    .columns(['status', 'next_attempt_at'])
    .execute();
  await db.schema
    .createTable('webhook_attempts')
    .ifNotExists()
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('delivery_id', 'integer', (c) => c.notNull())
    .addColumn('attempted_at', text, (c) => c.notNull())
    .addColumn('status_code', 'integer')
    .addColumn('error', text)
    .addColumn('duration_ms', 'integer', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('idempotency_keys')
    .ifNotExists()
    .addColumn('account_id', text, (c) => c.notNull())
    .addColumn('key', text, (c) => c.notNull())
    .addColumn('request_hash', text, (c) => c.notNull())
    .addColumn('job_id', text, (c) => c.notNull())
    .addColumn('created_at', text, (c) => c.notNull())
    .addPrimaryKeyConstraint('idempotency_pk', ['account_id', 'key'])
    .execute();
}
