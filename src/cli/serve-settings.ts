// Every setting of `reelsmith serve` and `reelsmith worker` in one place: its flag, the
// environment variable that stands in for it, its default and how its text is read.
// Commander resolves them once, at start (a flag over its variable over the default), and
// lists the variables in --help; a test checks the README's settings tables against these.
import { availableParallelism } from 'node:os';
import { InvalidArgumentError, Option } from 'commander';
import { DEFAULT_PLANS_FILE } from '../api/plans.ts';
import { DEFAULT_MIN_FREE_BYTES } from '../jobs/disk-space.ts';
import { DEFAULT_LEASE_SECONDS, DEFAULT_LEASE_TRIES } from '../jobs/leases.ts';
import { defaultProcessLimits } from '../media/process-limits.ts';
import { DEFAULT_TEXT_LIMITS } from '../render/text-limits.ts';
import { DEFAULT_WORK_DISK_BYTES } from '../render/work-budget.ts';
import { MINIMAL_RENDER_REQUEST } from '../jobs/request-example.ts';
import { integer } from './options.ts';

export const MiB = 1024 * 1024;

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export const LOG_FORMATS = ['json', 'text'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** What one job may take of the process that runs it: `serve` and `worker` both have these. */
export interface JobLimitSettings {
  jobDisk: number;
  textThreads: number;
  textTimeLimit: number;
  textThreadMemory: number;
  fontCache: number;
  ffmpegMemory: number;
  ffprobeMemory: number;
  probes: number;
}

/** The settings `serve` resolves, as its action receives them. */
export interface ServeSettings extends JobLimitSettings {
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
export interface WorkerSettings extends JobLimitSettings {
  leaseSeconds: number;
  leaseTries: number;
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
    ...jobLimitSettings(),
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
    ...jobLimitSettings(),
    new Option(
      '--lease-seconds <s>',
      "a claim on a job or scene task lapses this long after its worker's last renewal (renewed every quarter of it)",
    )
      .env('REELSMITH_LEASE_SECONDS')
      .default(DEFAULT_LEASE_SECONDS)
      .argParser(integer(2, 3600)),
    new Option(
      '--lease-tries <n>',
      'lapses after which a job or scene task fails (RENDER_FAILED) instead of being taken over again',
    )
      .env('REELSMITH_LEASE_TRIES')
      .default(DEFAULT_LEASE_TRIES)
      .argParser(integer(1, 100)),
  ];
}

/**
 * What one job may take of the process that runs it (issue 16): the text threads, how long
 * and how much memory a text layer may take, the fontUrl fonts kept, each ffmpeg's and
 * ffprobe's address space, the probes run at once, and the disk of a job's work files.
 */
function jobLimitSettings(): Option[] {
  const processLimits = defaultProcessLimits();
  return [
    new Option(
      '--job-disk <MiB>',
      "a job's work files (fitted pictures, text rasters) at most; past it the job fails naming the layer",
    )
      .env('REELSMITH_JOB_DISK_MB')
      .default(DEFAULT_WORK_DISK_BYTES / MiB)
      .argParser(integer(16, 1024 * 1024)),
    new Option('--text-threads <n>', 'worker threads that lay out and draw text layers and read fontUrl fonts')
      .env('REELSMITH_TEXT_THREADS')
      .default(DEFAULT_TEXT_LIMITS.threads, '2 (1 on one core)')
      .argParser(integer(1, 64)),
    new Option(
      '--text-time-limit <s>',
      'one text layer laid out and drawn (its font read) at most; past it the layer fails',
    )
      .env('REELSMITH_TEXT_TIME_LIMIT_SECONDS')
      .default(DEFAULT_TEXT_LIMITS.drawSeconds)
      .argParser(integer(1, 3600)),
    new Option(
      '--text-thread-memory <MiB>',
      "a text thread's JavaScript heap at most; a text that needs more fails its layer",
    )
      .env('REELSMITH_TEXT_THREAD_MEMORY_MB')
      .default(DEFAULT_TEXT_LIMITS.threadHeapMb)
      .argParser(integer(16, 64 * 1024)),
    new Option(
      '--font-cache <MiB>',
      'fontUrl fonts kept for later layers (their files), least recently used dropped first',
    )
      .env('REELSMITH_FONT_CACHE_MB')
      .default(DEFAULT_TEXT_LIMITS.fontBytes / MiB)
      .argParser(integer(0, 64 * 1024)),
    new Option('--ffmpeg-memory <MiB>', "each ffmpeg's address space at most (RLIMIT_AS)")
      .env('REELSMITH_FFMPEG_MEMORY_MB')
      .default(processLimits.ffmpegBytes / MiB, '4 GiB and 1 GiB a core, at least 8 GiB')
      .argParser(integer(512, 1024 * 1024)),
    new Option(
      '--ffprobe-memory <MiB>',
      "each ffprobe's address space at most (RLIMIT_AS); a source that needs more fails SOURCE_TOO_LARGE",
    )
      .env('REELSMITH_FFPROBE_MEMORY_MB')
      .default(processLimits.ffprobeBytes / MiB)
      .argParser(integer(512, 1024 * 1024)),
    new Option('--probes <n>', 'sources probed at once, all jobs together')
      .env('REELSMITH_PROBES')
      .default(processLimits.probesAtOnce, 'the CPU cores, at least 2')
      .argParser(integer(1, 256)),
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
