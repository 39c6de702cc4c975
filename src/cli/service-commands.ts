// `reelsmith serve` and `reelsmith worker`, and the admin commands that manage accounts,
// projects and keys in a data folder or the shared database: `accounts create`,
// `projects create`, `keys create`.
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { loadPlans } from '../api/plans.ts';
import { MINIMAL_RENDER_REQUEST } from '../jobs/request-example.ts';
import type { RenderService } from '../jobs/index.ts';
import type { S3Storage } from '../storage/index.ts';
import { CliError } from './cli-error.ts';
import { networkPolicy } from './options.ts';
import {
  databaseSetting,
  dataSetting,
  MiB,
  plansSetting,
  type JobLimitSettings,
  type ServeSettings,
  serveSettings,
  type WorkerSettings,
  workerSettings,
} from './serve-settings.ts';
import { jsonOption, print } from './output.ts';

interface DataOptions {
  data: string;
  database?: string;
  json?: boolean;
}

/** The data folder (or the shared database), and --json: every admin command has them. */
const dataOption = (cmd: Command) =>
  cmd
    .addOption(dataSetting())
    .addOption(databaseSetting("the distributed mode's database, instead of the data folder's"))
    .addOption(jsonOption());

/**
 * Runs an admin command on the data folder's service. The database must exist unless `init`
 * is given: an admin command run in the wrong folder would otherwise make a new, empty one
 * there and report success.
 */
async function withService<T>(
  opts: DataOptions & { init?: boolean },
  fn: (service: RenderService) => Promise<T>,
): Promise<T> {
  const { createPrivately, databaseFile, RenderService } = await import('../jobs/index.ts');
  const dataDir = resolve(opts.data);
  if (!opts.database && !opts.init && !existsSync(databaseFile(dataDir)))
    throw new CliError(
      `no Reelsmith database in ${dataDir} (looked for ${databaseFile(dataDir)}): give --data the folder \`reelsmith serve\` uses, ` +
        `or create a new database there with \`reelsmith accounts create --init --data ${opts.data}\``,
    );
  createPrivately();
  const service = await RenderService.open({ dataDir, database: opts.database, publicUrl: 'http://localhost' });
  try {
    return await fn(service);
  } finally {
    await service.close();
  }
}

export function serviceCommands(program: Command): void {
  const serve = program
    .command('serve')
    .description(
      'run the render API (embedded mode: SQLite and local disk under --data; with --database and --storage, an API node of the distributed mode)',
    )
    .addOption(dataSetting())
    .addOption(jsonOption());
  for (const setting of serveSettings()) serve.addOption(setting);
  serve.action(async (opts: ServeSettings) => {
    const { port, corsOrigin: cors } = opts;
    const [{ buildServer }, { createPrivately, RenderService }] = await Promise.all([
      import('../api/server.ts'),
      import('../jobs/index.ts'),
    ]);
    const network = await networkPolicy(opts);
    const plans = loadPlans(opts.plans);
    if (opts.database && opts.storage === undefined)
      throw new CliError(
        '--database needs --storage s3://bucket/prefix (STORAGE_URL): outputs must be where every API node can reach them',
      );
    const dataDir = resolve(opts.data);
    // nothing in the data folder is touched before the port is known to be free and the folder is ours;
    // an API node of the distributed mode keeps nothing there, so several may share one
    await checkPortFree(port, opts.host);
    createPrivately();
    if (!opts.database) await claimDataFolder(dataDir);
    const logger = (await import('./logger.ts')).createLogger(opts.logLevel, opts.logFormat);
    const storage = opts.storage === undefined ? undefined : await objectStorage(opts.storage);
    await applyJobLimits(opts);
    const service = await RenderService.open({
      dataDir,
      publicUrl: opts.publicUrl ?? `http://localhost:${port}`,
      network,
      workers: opts.workers,
      minFreeBytes: opts.minFreeDisk * MiB,
      workDiskBytes: opts.jobDisk * MiB,
      logger,
      storage,
      database: opts.database,
    });
    const app = await buildServer({
      service,
      plans,
      accessLog: opts.log ? logger : undefined,
      metricsToken: opts.metricsToken || undefined,
      corsOrigins: cors,
    });
    // listen before recovering: a server that cannot listen must not sweep or run anything;
    // jobs submitted meanwhile wait in the queue until recovery is done
    const address = await app.listen({ port, host: opts.host }).catch(async (err: NodeJS.ErrnoException) => {
      await service.close();
      throw err.code === 'EADDRINUSE' ? portInUse(port, opts.host) : err;
    });
    if (!opts.publicUrl) service.setPublicUrl(`http://localhost:${new URL(address).port}`);
    drainOnSignal(opts, 'unfinished jobs go back to the queue', async () => {
      await service.drain();
      await app.close();
      await service.close();
      storage?.close();
    });
    const first = await bootstrap(service, opts.projectId);
    const resumed = await service.recover();
    // an API node keeps nothing in a data folder: it names where its state is (no credentials)
    const where = opts.database ? { database: databaseName(opts.database), storage: opts.storage } : { dataDir };
    const whereText = opts.database
      ? `API node: database ${where.database}, storage ${opts.storage}`
      : `data: ${dataDir}`;
    print(
      opts,
      { event: 'listening', url: address, ...where, resumed, ...(first && { firstStart: first }) },
      `Reelsmith listening on ${address} (${whereText}${resumed ? `, resumed ${resumed} unfinished job(s)` : ''})` +
        (first ? firstStartText(first, service.options.publicUrl) : ''),
    );
  });

  const worker = program
    .command('worker')
    .description(
      'render jobs of the distributed mode: takes them from --database, keeps scenes and outputs in --storage',
    )
    .addOption(jsonOption());
  for (const setting of workerSettings()) worker.addOption(setting);
  worker.action(async (opts: WorkerSettings) => {
    const { createPrivately, leasesOf, RenderWorker } = await import('../jobs/index.ts');
    const network = await networkPolicy(opts);
    const dataDir = resolve(opts.data);
    createPrivately();
    await claimDataFolder(dataDir);
    const logger = (await import('./logger.ts')).createLogger(opts.logLevel, opts.logFormat);
    const storage = await objectStorage(opts.storage);
    await applyJobLimits(opts);
    const renderWorker = await RenderWorker.open({
      database: opts.database,
      storage,
      workDir: dataDir,
      concurrency: opts.concurrency,
      cores: opts.cores,
      network,
      logger,
      workDiskBytes: opts.jobDisk * MiB,
      leases: leasesOf(opts.leaseSeconds, opts.leaseTries),
    });
    drainOnSignal(opts, 'its jobs go back to the queue', async () => {
      await renderWorker.close();
      storage.close();
    });
    await renderWorker.start();
    print(
      opts,
      { event: 'working', worker: renderWorker.name, concurrency: opts.concurrency, cores: opts.cores },
      `Reelsmith worker ${renderWorker.name} taking jobs (${opts.concurrency} at once, ${opts.cores} cores; work folder ${dataDir})`,
    );
  });

  const accounts = program.command('accounts').description('manage accounts');
  dataOption(
    accounts
      .command('create')
      .description('create an account')
      .option('--name <name>', 'account name', 'account')
      .option('--plan <plan>', 'plan id from the plans config', 'pro')
      .addOption(plansSetting())
      .option('--init', 'create the database when the data folder has none (else that is refused)'),
  ).action(async (opts: DataOptions & { name: string; plan: string; plans: string; init?: boolean }) => {
    if (!(opts.plan in loadPlans(opts.plans)))
      throw new CliError(`--plan must be one of ${Object.keys(loadPlans(opts.plans)).join(', ')}`);
    const account = await withService(opts, (s) => s.createAccount({ name: opts.name, plan: opts.plan }));
    print(
      opts,
      { accountId: account.id, name: account.name, plan: account.plan },
      `account ${account.id} (${account.name}, plan ${account.plan})`,
    );
  });

  const projects = program.command('projects').description('manage projects');
  dataOption(
    projects
      .command('create')
      .description('create a project in an account')
      .requiredOption('--account <id>', 'account id')
      .option('--name <name>', 'project name', 'project')
      .option('--id <id>', 'project id (default: a new proj_...)'),
  ).action(async (opts: DataOptions & { account: string; name: string; id?: string }) => {
    const project = await withService(opts, (s) =>
      s.createProject({ accountId: opts.account, name: opts.name, id: opts.id }),
    ).catch((err: Error) => {
      throw new CliError(err.message);
    });
    print(
      opts,
      {
        projectId: project.id,
        accountId: project.account_id,
        name: project.name,
        webhookSecret: project.webhook_secret,
      },
      `project ${project.id} (${project.name})\nwebhook secret: ${project.webhook_secret}`,
    );
  });

  const keys = program.command('keys').description('manage API keys');
  dataOption(
    keys
      .command('create')
      .description('create an API key for an account (shown once)')
      .requiredOption('--account <id>', 'account id')
      .option('--test', 'a vs_test_ key'),
  ).action(async (opts: DataOptions & { account: string; test?: boolean }) => {
    const key = await withService(opts, (s) =>
      s.createKey({ accountId: opts.account, environment: opts.test ? 'test' : 'prod' }),
    ).catch((err: Error) => {
      throw new CliError(err.message);
    });
    print(
      opts,
      { keyId: key.id, accountId: key.accountId, key: key.key },
      `key ${key.id} for ${key.accountId} (shown only once):\n${key.key}`,
    );
  });
  dataOption(
    keys
      .command('revoke')
      .description('revoke an API key by its id (key_...)')
      .argument('<keyId>', 'the key id keys create printed'),
  ).action(async (keyId: string, opts: DataOptions) => {
    const revoked = await withService(opts, (s) => s.revokeKey(keyId));
    if (!revoked) throw new CliError(`no active key ${keyId}`);
    print(opts, { keyId, revoked: true }, `key ${keyId} revoked`);
  });
}

/** SIGTERM or SIGINT (once): says it is draining and what becomes of the work, runs `drain`, exits 0. */
function drainOnSignal(opts: { json?: boolean }, what: string, drain: () => Promise<void>): void {
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    print(opts, { event: 'draining', signal }, `${signal}: draining (${what})`);
    await drain();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

/** Makes the data folder this process's alone (a second server or worker on it is refused, naming it), and private. */
async function claimDataFolder(dataDir: string): Promise<void> {
  const { DataFolderInUse, keepPrivate, lockDataFolder } = await import('../jobs/index.ts');
  try {
    lockDataFolder(dataDir);
  } catch (err) {
    throw err instanceof DataFolderInUse ? new CliError(err.message) : err;
  }
  await keepPrivate(dataDir);
}

/** On an empty data folder or database: one account on the self-hosted plan, one project, one key. */
async function bootstrap(service: RenderService, projectId: string) {
  const first = await service.createFirstAccount({ name: 'default', plan: 'unlimited', projectId });
  if (!first) return undefined;
  const { account, project, key } = first;
  return { accountId: account.id, plan: account.plan, projectId: project.id, key: key.key };
}

/** A Postgres URL without its credentials: host, port and database. */
export function databaseName(url: string): string {
  const { host, pathname } = new URL(url);
  return `${host}${pathname}`;
}

/** What the first start made, with the seed's minimal curl example, host and key filled in. */
function firstStartText(first: NonNullable<Awaited<ReturnType<typeof bootstrap>>>, base: string): string {
  return `

First start: created account ${first.accountId} (plan ${first.plan}), project ${first.projectId} and this API key.
It is shown only once:

  ${first.key}

Try it:

curl -X POST ${base}/v1/render/jobs \\
-H "x-api-key: ${first.key}" \\
-H "Content-Type: application/json" \\
-d '${JSON.stringify({ ...MINIMAL_RENDER_REQUEST, projectId: first.projectId })}'

then: curl -H "x-api-key: ${first.key}" ${base}/v1/jobs/<jobId>
`;
}

/** The bucket `--storage` names, checked before anything starts (a wrong bucket or key is refused here, not at a job's end). */
async function objectStorage(url: string): Promise<S3Storage> {
  const storageModule = await import('../storage/index.ts');
  let config: ReturnType<typeof storageModule.resolveStorageConfig>;
  try {
    config = storageModule.resolveStorageConfig({ ...process.env, STORAGE_URL: url });
  } catch (err) {
    throw new CliError((err as Error).message); // it names --storage and the setting that is wrong
  }
  if (config.kind !== 's3') throw new CliError('--storage (STORAGE_URL): expected s3://bucket/prefix');
  const storage = new storageModule.S3Storage(config);
  await storage.check().catch((err: Error) => {
    storage.close();
    throw new CliError(`--storage ${url}: ${err.message}`);
  });
  return storage;
}

/** Fails at once when `port` is taken, before the data folder is touched (port 0: the system picks a free one). */
async function checkPortFree(port: number, host: string): Promise<void> {
  if (port === 0) return;
  const probe = createServer();
  await new Promise<void>((done, fail) => {
    probe.once('error', (err: NodeJS.ErrnoException) => fail(err.code === 'EADDRINUSE' ? portInUse(port, host) : err));
    probe.listen({ port, host, exclusive: true }, () => probe.close(() => done()));
  });
}

function portInUse(port: number, host: string): CliError {
  return new CliError(`port ${port} on ${host} is in use (another server?); nothing was started`);
}

/**
 * What one job may take of this process, set once at start: the text threads and their
 * limits, each ffmpeg's and ffprobe's address space, the probes run at once (the disk a
 * job's work files may take goes with each job).
 */
async function applyJobLimits(opts: JobLimitSettings): Promise<void> {
  const { setProcessLimits, setTextLimits } = await import('../render/index.ts');
  setTextLimits({
    threads: opts.textThreads,
    drawSeconds: opts.textTimeLimit,
    threadHeapMb: opts.textThreadMemory,
    fontBytes: opts.fontCache * MiB,
  });
  setProcessLimits({
    ffmpegBytes: opts.ffmpegMemory * MiB,
    ffprobeBytes: opts.ffprobeMemory * MiB,
    probesAtOnce: opts.probes,
  });
}
