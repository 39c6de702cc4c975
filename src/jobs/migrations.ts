// The job store's schema as versioned migrations, one set for SQLite and Postgres, applied
// in order by Kysely's Migrator at start (it records them in `kysely_migration` and holds a
// lock while it works, so two processes starting together apply each once). Never edit a
// migration that has shipped: add the next one.
//
// Data folders from before migrations existed hold these tables already, without the
// record: the first migration creates only what is missing, so it brings them under
// version control as they are, and the second adds what such a folder may lack.
import { Migrator, sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';

/** Which SQL the store speaks: the embedded file or a shared server. */
export type DatabaseKind = 'sqlite' | 'postgres';

const text = 'text' as const;
/** Seconds and progress; SQLite gives this REAL affinity, Postgres a float8. */
const real = 'double precision' as const;

// biome-ignore lint/suspicious/noExplicitAny: a migration runs on the database as it was then, not on today's types
type AnyDatabase = Kysely<any>;

/** An integer key the database numbers itself. */
function autoId(kind: DatabaseKind) {
  return kind === 'postgres' ? ('serial' as const) : ('integer' as const);
}

/**
 * `schema`: Postgres, the schema the connection works in. Kysely's introspection lists the
 * tables of every schema in the database, so a lookup by name must name it too.
 */
function migrations(kind: DatabaseKind, schema?: string): Record<string, Migration> {
  const id = autoId(kind);
  const autoIncrement = kind === 'sqlite';
  return {
    '0001-tables': {
      async up(db: AnyDatabase) {
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
          .addColumn('progress', real, (c) => c.notNull())
          .addColumn('request', text, (c) => c.notNull())
          .addColumn('seconds', real, (c) => c.notNull())
          .addColumn('workers', 'integer', (c) => c.notNull())
          .addColumn('callback_url', text)
          .addColumn('error_code', text)
          .addColumn('error_message', text)
          .addColumn('output_key', text)
          .addColumn('media_data', text)
          .addColumn('created_at', text, (c) => c.notNull())
          .addColumn('started_at', text)
          .addColumn('updated_at', text, (c) => c.notNull())
          .addColumn('finished_at', text)
          .execute();
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
          .addColumn('id', id, (c) => (autoIncrement ? c.primaryKey().autoIncrement() : c.primaryKey()))
          .addColumn('job_id', text, (c) => c.notNull())
          .addColumn('type', text, (c) => c.notNull())
          .addColumn('data', text, (c) => c.notNull())
          .addColumn('created_at', text, (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex('job_events_by_job')
          .ifNotExists()
          .on('job_events')
          .columns(['job_id', 'id'])
          .execute();
        await db.schema
          .createTable('webhook_deliveries')
          .ifNotExists()
          .addColumn('id', id, (c) => (autoIncrement ? c.primaryKey().autoIncrement() : c.primaryKey()))
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
          .addColumn('id', id, (c) => (autoIncrement ? c.primaryKey().autoIncrement() : c.primaryKey()))
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
      },
    },
    '0002-job-warnings': {
      async up(db: AnyDatabase) {
        // the release that added warnings made the column without a migration record
        const jobs = (await db.introspection.getTables()).find(
          (t) => t.name === 'jobs' && (schema === undefined || t.schema === schema),
        );
        if (!jobs?.columns.some((c) => c.name === 'warnings'))
          await db.schema.alterTable('jobs').addColumn('warnings', text).execute();
      },
    },
    '0003-one-delivery-per-event': {
      async up(db: AnyDatabase) {
        // Several nodes feed the same job's events to the outbox: the index makes a second
        // enqueue of an event a no-op. Duplicates from before cannot be told apart (same
        // event, same payload): the first recorded is kept, the rest go with their attempts.
        const duplicates = db
          .selectFrom('webhook_deliveries as d')
          .select('d.id')
          .where((eb) =>
            eb.exists(
              eb
                .selectFrom('webhook_deliveries as k')
                .select('k.id')
                .whereRef('k.job_id', '=', 'd.job_id')
                .whereRef('k.event_id', '=', 'd.event_id')
                .whereRef('k.id', '<', 'd.id'),
            ),
          );
        await db.deleteFrom('webhook_attempts').where('delivery_id', 'in', duplicates).execute();
        await db.deleteFrom('webhook_deliveries').where('id', 'in', duplicates).execute();
        await db.schema
          .createIndex('webhook_deliveries_one_per_event')
          .unique()
          .on('webhook_deliveries')
          .columns(['job_id', 'event_id'])
          .execute();
      },
    },
    '0004-job-leases': {
      async up(db: AnyDatabase) {
        // distributed mode: which worker runs a job, and until when its lease holds
        await db.schema.alterTable('jobs').addColumn('lease_owner', text).execute();
        await db.schema.alterTable('jobs').addColumn('lease_until', text).execute();
      },
    },
    '0005-request-counts': {
      async up(db: AnyDatabase) {
        // distributed mode: the plan's requests per minute, counted for all API nodes together
        await db.schema
          .createTable('request_counts')
          .addColumn('key', text, (c) => c.primaryKey())
          .addColumn('count', 'integer', (c) => c.notNull())
          .addColumn('window_end', text, (c) => c.notNull())
          .execute();
      },
    },
    '0006-scene-tasks': {
      async up(db: AnyDatabase) {
        // distributed mode: a job's uncached scenes, each rendered by whichever worker leases it
        await db.schema
          .createTable('scene_tasks')
          .addColumn('job_id', text, (c) => c.notNull())
          .addColumn('scene_index', 'integer', (c) => c.notNull())
          .addColumn('cache_key', text, (c) => c.notNull())
          .addColumn('state', text, (c) => c.notNull())
          .addColumn('lease_owner', text)
          .addColumn('lease_until', text)
          .addColumn('error', text)
          .addColumn('created_at', text, (c) => c.notNull())
          .addPrimaryKeyConstraint('scene_tasks_pk', ['job_id', 'scene_index'])
          .execute();
        await db.schema
          .createIndex('scene_tasks_by_state')
          .on('scene_tasks')
          .columns(['state', 'created_at'])
          .execute();
      },
    },
    '0007-scene-task-frames': {
      async up(db: AnyDatabase) {
        // a scene rendered on another worker shows its frames in the job's progress
        await db.schema
          .alterTable('scene_tasks')
          .addColumn('frames_done', 'integer', (c) => c.notNull().defaultTo(0))
          .execute();
      },
    },
    '0008-lease-losses': {
      async up(db: AnyDatabase) {
        // a job or scene task whose leases lapsed too often (its workers stopped answering) ends
        for (const table of ['jobs', 'scene_tasks'])
          await db.schema
            .alterTable(table)
            .addColumn('lease_losses', 'integer', (c) => c.notNull().defaultTo(0))
            .execute();
      },
    },
    '0009-active-jobs': {
      async up(db: AnyDatabase) {
        // every worker looks for work among the active jobs every few seconds: they are found
        // without reading the finished ones (300,000 of them: 94 ms a claim without, 11 ms with)
        await db.schema
          .createIndex('jobs_active')
          .on('jobs')
          .column('created_at')
          .where(sql<boolean>`status in ('queued', 'running')`)
          .execute();
      },
    },
  };
}

/** Names of every migration, in the order they apply. */
export const MIGRATION_NAMES = Object.keys(migrations('sqlite'));

/** Brings the database's schema to the latest version; fails naming the migration that could not apply. */
export async function migrateToLatest(db: AnyDatabase, kind: DatabaseKind): Promise<void> {
  // Postgres: another schema of the database (another installation's, or a test's) holding
  // Kysely's tables must not be taken for this one's
  const schema =
    kind === 'postgres'
      ? ((await sql<{ schema: string | null }>`select current_schema() as schema`.execute(db)).rows[0]?.schema ??
        undefined)
      : undefined;
  const provider: MigrationProvider = { getMigrations: async () => migrations(kind, schema) };
  const { error, results } = await new Migrator({ db, provider, migrationTableSchema: schema }).migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    throw new Error(
      `the job database could not be migrated${failed ? ` (${failed})` : ''}: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
}
