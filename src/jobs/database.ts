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
  sql,
} from 'kysely';
import type { DeliveryStatus } from './job-state.ts';
import { followDatabaseClock } from './clock.ts';
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
  /** Times its lease lapsed and another worker took it over (see leases.ts). */
  lease_losses: number;
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

/** Requests counted against one rate-limit key (an account) in its current window. */
export interface RequestCountRow {
  key: string;
  count: number;
  /** When the window ends (ISO): a request after it starts a new one. */
  window_end: string;
}

/** Distributed mode: one scene of a job to render, leased by the worker rendering it. */
export interface SceneTaskRow {
  job_id: string;
  scene_index: number;
  cache_key: string;
  state: SceneTaskState;
  lease_owner: string | null;
  lease_until: string | null;
  /** Why it failed, as the job will say. */
  error: string | null;
  created_at: string;
  /** Frames its worker has encoded so far, for the job's progress. */
  frames_done: number;
  /** Times its lease lapsed and another worker took it over. */
  lease_losses: number;
}

export type SceneTaskState = 'queued' | 'running' | 'done' | 'failed';

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
  request_counts: RequestCountRow;
  scene_tasks: SceneTaskRow;
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
 * A transaction left open this long by its process is ended by Postgres (its session closed,
 * its row locks released): a process stopped mid-transaction (blocked, SIGSTOPped, its
 * machine frozen) must not hold a job's row, which other workers' claims skip (SKIP LOCKED)
 * and a cancel waits for. Our transactions take milliseconds.
 */
export const IDLE_TRANSACTION_MS = 10_000;

/**
 * A Postgres database (`postgres://user@host:port/db`; `?options=-c search_path=...` picks
 * a schema). Several processes may open it at once: the migrations run once among them.
 * `idleTransactionMs`: see IDLE_TRANSACTION_MS (a worker's is at most half its lease, so
 * a stopped worker's job can be taken over once its lease lapses).
 */
export async function openPostgres(url: string, idleTransactionMs = IDLE_TRANSACTION_MS): Promise<Database> {
  // a database that does not answer fails a request within seconds instead of holding it
  const pool = new pg.Pool({ connectionString: url, max: 10, connectionTimeoutMillis: 5_000 });
  // a connection dropping (Postgres restarting, the network) must not end the process: the
  // pool hears it for idle clients; a client in use reports it to its query under way too,
  // but also emits it, which would be an unhandled 'error' event. The pool drops dead clients.
  pool.on('error', () => {});
  pool.on('connect', (client) => {
    client.on('error', () => {});
    // queued before the client's first query (a client runs its queries in order)
    client
      .query(`set idle_in_transaction_session_timeout = ${Math.max(1, Math.round(idleTransactionMs))}`)
      .catch(() => {});
  });
  const db = new Kysely<Tables>({ dialect: new PostgresDialect({ pool }) });
  // the Migrator's own lock lives in a table it must first create, which processes starting
  // together on a new database race for: they take turns on an advisory lock instead
  await db.connection().execute(async (connection) => {
    await sql`select pg_advisory_lock(${MIGRATION_LOCK})`.execute(connection);
    try {
      await migrateToLatest(connection, 'postgres');
    } finally {
      await sql`select pg_advisory_unlock(${MIGRATION_LOCK})`.execute(connection);
    }
  });
  // leases and retries are stamped on the database's clock, whatever this machine's says
  await followDatabaseClock(db, () => pool.ending);
  return db;
}

/** The advisory lock migrations are applied under (any number; this one is "reel" in ASCII). */
const MIGRATION_LOCK = 0x7265656c;

/**
 * Whether an error says the database cannot be reached now (refused, dropped, shutting down,
 * starting up), as opposed to a query that failed: the API answers 503 with Retry-After.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  const { code, message } = (err ?? {}) as { code?: string; message?: string };
  if (code && (UNREACHABLE_CODES.has(code) || code.startsWith('08') || code.startsWith('57P'))) return true;
  return /^Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/.test(
    message ?? '',
  );
}

/** Socket errors; Postgres's class 08 (connection exception) and 57P (shutdown, starting up) are matched by prefix. */
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND']);

/**
 * Whether a text can be stored, so a lookup by it can find anything: Postgres's text holds
 * no NUL character (and refuses a query that has one), so an id or name with one is none.
 */
export function isStorableText(text: string): boolean {
  return !text.includes('\u0000');
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
