// The job store's tables, typed for Kysely, and opening them: SQLite (a file in the data
// folder) for embedded mode, Postgres for distributed mode, either schema brought up to date
// by migrations.ts. Timestamps are ISO-8601 strings, JSON columns are text.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import {
  Kysely,
  PostgresAdapter,
  PostgresDialect,
  SqliteDialect,
  SqliteDriver,
  type DatabaseConnection,
  type Driver,
  type Generated,
  type Selectable,
} from 'kysely';
import type { DeliveryStatus } from './job-state.ts';
import { type DatabaseKind, migrateToLatest } from './migrations.ts';

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
  /** Distributed mode: the worker running the job, and until when (ISO) its lease holds. */
  lease_owner: string | null;
  lease_until: string | null;
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
  status: DeliveryStatus;
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
  await migrateToLatest(db, 'sqlite');
  return db;
}

/**
 * A Postgres database (`postgres://user@host:port/db`; `?options=-c search_path=...` picks
 * a schema). Several processes may open it at once: the migrations run once among them.
 */
export async function openPostgres(url: string): Promise<Database> {
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  // a connection dropping (Postgres restarting, the network) must not end the process: the
  // pool hears it for idle clients; a client in use reports it to its query under way too,
  // but also emits it, which would be an unhandled 'error' event. The pool drops dead clients.
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  const db = new Kysely<Tables>({ dialect: new PostgresDialect({ pool }) });
  await migrateToLatest(db, 'postgres');
  return db;
}

/** Which engine a database (or a transaction on it) runs on. */
export function kindOf(db: Kysely<Tables>): DatabaseKind {
  return db.getExecutor().adapter instanceof PostgresAdapter ? 'postgres' : 'sqlite';
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
