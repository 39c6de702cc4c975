// Every setting of `reelsmith serve` and `reelsmith worker` in one place: its flag, the
// environment variable that stands in for it, its default and how its text is read.
// Commander resolves them once, at start (a flag over its variable over the default), and
// lists the variables in --help; a test checks the README's settings tables against these.
import { availableParallelism } from 'node:os';
import { InvalidArgumentError, Option } from 'commander';
import { DEFAULT_PLANS_FILE } from '../api/plans.ts';
import { DEFAULT_MIN_FREE_BYTES } from '../jobs/disk-space.ts';
import { MINIMAL_RENDER_REQUEST } from '../jobs/request-example.ts';
import { integer } from './options.ts';

export const MiB = 1024 * 1024;

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export const LOG_FORMATS = ['json', 'text'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** The settings `serve` resolves, as its action receives them. */
export interface ServeSettings {
  data: string;
  port: number;
  host: string;
  publicUrl?: string;
  plans: string;
  workers?: number;
  allowPrivateNetworks?: boolean;
  projectId: string;
  log?: boolean;
  logLevel: string;
  logFormat: LogFormat;
  metricsToken?: string;
  minFreeDisk: number;
  corsOrigin: string[];
  storage?: string;
  database?: string;
  json?: boolean;
}

/** The settings `worker` resolves. */
export interface WorkerSettings {
  data: string;
  database: string;
  storage: string;
  concurrency: number;
  cores: number;
  allowPrivateNetworks?: boolean;
  logLevel: string;
  logFormat: LogFormat;
  json?: boolean;
}

/** The data folder: every service command has it. */
export function dataSetting(): Option {
  return new Option('--data <dir>', 'data folder (SQLite, outputs, caches)').env('REELSMITH_DATA').default('./data');
}

/** The plans config: `serve` and `accounts create` read it. */
export function plansSetting(): Option {
  return new Option('--plans <file>', 'plans config')
    .env('REELSMITH_PLANS')
    .default(DEFAULT_PLANS_FILE, "the package's config/plans.json");
}

export function serveSettings(): Option[] {
  return [
    new Option('-p, --port <n>', 'port to listen on').env('PORT').default(8080).argParser(integer(0, 65535)),
    new Option('--host <address>', 'address to listen on').env('REELSMITH_HOST').default('0.0.0.0'),
    new Option(
      '--public-url <url>',
      'URL clients reach this service at, for outputUrl (default http://localhost:<port>)',
    ).env('REELSMITH_PUBLIC_URL'),
    plansSetting(),
    new Option('--workers <n>', 'scene workers shared by all jobs (default: CPU cores, at least 2)')
      .env('REELSMITH_WORKERS')
      .argParser(integer(1, 256)),
    // its variable also takes a comma list of CIDRs, so it is read by networkPolicy, not here
    new Option(
      '--allow-private-networks',
      'let media and callback URLs reach private and loopback addresses (env: REELSMITH_ALLOW_PRIVATE_NETWORKS, 1 or a comma list of CIDRs)',
    ),
    // the id the seed's API document uses in its examples, so they (and the docs' "Try it
    // out") work here as written, with only the host and the key changed
    new Option('--project-id <id>', "id of the project made on an empty data folder's first start")
      .env('REELSMITH_PROJECT_ID')
      .default(MINIMAL_RENDER_REQUEST.projectId),
    new Option('--log', 'log every request too (signed file URLs without their query)').env('REELSMITH_LOG'),
    ...logSettings(),
    new Option(
      '--metrics-token <token>',
      'GET /metrics needs Authorization: Bearer <token> (none: open; the variable keeps it out of ps)',
    ).env('REELSMITH_METRICS_TOKEN'),
    new Option('--min-free-disk <MiB>', "refuse new jobs (507) while the data folder's disk has less free")
      .env('REELSMITH_MIN_FREE_DISK_MB')
      .default(DEFAULT_MIN_FREE_BYTES / MiB)
      .argParser(integer(0, 1024 * 1024)),
    new Option(
      '--cors-origin <origin>',
      'let web pages on this origin call the API (repeat it or give a comma list; * for any; none: CORS off)',
    )
      .env('REELSMITH_CORS_ORIGIN')
      .default([], 'none')
      .argParser(corsOrigins),
    storageSetting('(default: the data folder)'),
    databaseSetting(
      'distributed mode: jobs wait there for `reelsmith worker` processes; needs --storage (default: SQLite in the data folder)',
    ),
  ];
}

/** `reelsmith worker`: the database and bucket its API nodes use, and what it runs at once. */
export function workerSettings(): Option[] {
  return [
    new Option('--data <dir>', "this worker's own folder (work files, fetched sources, copies of cached scenes)")
      .env('REELSMITH_DATA')
      .default('./worker-data'),
    databaseSetting('the database the API nodes use').makeOptionMandatory(),
    storageSetting('(the bucket the API nodes use; scene cache and outputs)').makeOptionMandatory(),
    new Option('--concurrency <n>', 'jobs this worker runs at once')
      .env('REELSMITH_CONCURRENCY')
      .default(1)
      .argParser(integer(1, 64)),
    new Option('--cores <n>', "CPU cores the jobs' scene encoders share (as many encoders at once, at least 2)")
      .env('REELSMITH_CORES')
      .default(availableParallelism(), "this machine's")
      .argParser(integer(1, 256)),
    new Option(
      '--allow-private-networks',
      'let media URLs reach private and loopback addresses (env: REELSMITH_ALLOW_PRIVATE_NETWORKS, 1 or a comma list of CIDRs)',
    ),
    ...logSettings(),
  ];
}

function logSettings(): Option[] {
  return [
    new Option('--log-level <level>', 'least severe log records written (stderr)')
      .env('LOG_LEVEL')
      .default('info')
      .choices(LOG_LEVELS),
    new Option('--log-format <format>', 'log records as JSON lines, or as text for a person')
      .env('LOG_FORMAT')
      .default('json')
      .choices(LOG_FORMATS),
  ];
}

function storageSetting(what: string): Option {
  return new Option(
    '--storage <url>',
    `where outputs go: s3://bucket/prefix, reached with S3_ENDPOINT, S3_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and S3_FORCE_PATH_STYLE from the environment; outputUrl is then a presigned link ${what}`,
  ).env('STORAGE_URL');
}

/** The shared Postgres database of distributed mode. */
export function databaseSetting(what: string): Option {
  return new Option('--database <url>', `postgres://user@host:port/db: ${what}`)
    .env('DATABASE_URL')
    .argParser(postgresUrl);
}

function postgresUrl(value: string): string {
  const url = URL.canParse(value) ? new URL(value) : undefined;
  if (!url || !/^postgres(ql)?:$/.test(url.protocol))
    throw new InvalidArgumentError(`${value} is not a Postgres URL: expected postgres://user@host:port/database`);
  return value;
}

function corsOrigins(value: string, previous: string[] = []): string[] {
  return [
    ...previous,
    ...value
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .map(corsOrigin),
  ];
}

function corsOrigin(value: string): string {
  if (value === '*') return value;
  const url = URL.canParse(value) ? new URL(value) : undefined;
  // an origin's URL is the origin and '/': no user, path, query or fragment
  if (!url || !/^https?:$/.test(url.protocol) || url.href !== `${url.origin}/`)
    throw new InvalidArgumentError(
      `${value} is not an origin: give the scheme, host and port only, e.g. https://app.example.com`,
    );
  return url.origin;
}
