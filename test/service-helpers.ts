// Starting the real service for a test: a temp data folder, SQLite, a real HTTP port,
// and an account/project/key on the plan the test asks for; or `reelsmith serve` and the
// admin commands as child processes, as an operator runs them.
//
// With REELSMITH_TEST_MODE=distributed, startService starts the distributed mode instead:
// this API node on a fresh Postgres schema and an S3 server, and two `reelsmith worker`
// processes that render its jobs; and cliDeployment deploys an API node and a worker from the
// CLI. The conformance files (api-contract, service-events, service-durability, client) run
// in both modes with the same assertions.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, watch } from 'node:fs';
import { copyFile, mkdir, readdir, stat } from 'node:fs/promises';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { buildServer, type ConnectionTimeouts } from '../src/api/server.ts';
import { loadPlans, type Plans } from '../src/api/plans.ts';
import { RenderService, type ServiceOptions } from '../src/jobs/index.ts';
import { MINIMAL_RENDER_REQUEST } from '../src/jobs/request-example.ts';
import { treeRss } from '../bench/rss.ts';
import { mediaServer, postgresSchema, s3Server, s3Storage, tempDir } from './helpers.ts';

/** Which mode startService starts: `embedded` (default) or `distributed`. */
export const TEST_MODE = process.env.REELSMITH_TEST_MODE === 'distributed' ? 'distributed' : 'embedded';

export interface TestService {
  url: string;
  service: RenderService;
  plans: Plans;
  dataDir: string;
  /** Makes an account on `plan` with a project (optionally with a given id) and a key. */
  tenant(
    plan?: string,
    projectId?: string,
  ): Promise<{ accountId: string; projectId: string; key: string; webhookSecret: string }>;
  close(): Promise<void>;
}

/**
 * Plans of config/plans.json plus "free-api": the Free limits with API access, so the daily cap
 * can be reached; and "fuzz": no minutes at all, so a body that passes every check is refused
 * with 402 and never renders.
 */
export function testPlans(): Plans {
  const plans = loadPlans();
  return {
    ...plans,
    'free-api': { ...plans.free, name: 'Free (API)', apiAccess: true },
    fuzz: { ...plans.pro, name: 'Fuzz', monthlyMinutes: 0, concurrentJobs: null, requestsPerMinute: 1_000_000 },
  };
}

export async function startService(
  options: Partial<ServiceOptions> & {
    plans?: Plans;
    heartbeatMs?: number;
    bodyLimit?: number;
    timeouts?: Partial<ConnectionTimeouts>;
    metricsToken?: string;
    recover?: boolean;
  } = {},
): Promise<TestService> {
  const dataDir = options.dataDir ?? (await tempDir('reelsmith-service-'));
  const plans = options.plans ?? testPlans();
  // the workers fetch the media: they get the network policy asked for; a test that names its
  // own database is given that one, and no workers
  const privateNetworks = options.network ? options.network.allowPrivateNetworks === true : true;
  const shared =
    TEST_MODE === 'distributed' && !options.database ? await distributedBackend(dataDir, privateNetworks) : undefined;
  const service = await RenderService.open({
    dataDir,
    publicUrl: 'http://placeholder',
    network: { allowPrivateNetworks: true },
    workers: 2,
    webhookRetryScale: 0.01,
    ...(shared && { database: shared.database, storage: shared.storage }),
    ...options,
  });
  const app = await buildServer({
    service,
    plans,
    heartbeatMs: options.heartbeatMs,
    bodyLimit: options.bodyLimit,
    timeouts: options.timeouts,
    metricsToken: options.metricsToken,
  });
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  service.setPublicUrl(address);
  // recover: false leaves it to the test, as between `serve`'s listen and the end of its recovery
  if (options.recover !== false) await service.recover();
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await app.close();
    await service.close();
  };
  after(close);
  return {
    url: address,
    service,
    plans,
    dataDir,
    async tenant(plan = 'pro', projectId?: string) {
      const account = await service.createAccount({ name: 'test', plan });
      const project = await service.createProject({ accountId: account.id, name: 'test', id: projectId });
      const { key } = await service.createKey({ accountId: account.id });
      return { accountId: account.id, projectId: project.id, key, webhookSecret: project.webhook_secret };
    },
    close,
  };
}

/** A distributed deployment's shared state: one Postgres schema and one bucket. */
export interface Backend {
  database: string;
  storage: ReturnType<typeof s3Storage>;
  /** `worker` settings as environment variables. */
  env: NodeJS.ProcessEnv;
  stopStorage(): Promise<void>;
}

/** A fresh schema and bucket: the state every process of one deployment shares; `route` changes how they reach the database. */
export async function sharedBackend(route = (url: string) => url): Promise<Backend> {
  const [schema, s3] = await Promise.all([postgresSchema(), s3Server()]);
  const storageUrl = `s3://${s3.bucket}/reelsmith`;
  return {
    database: route(schema.url),
    storage: s3Storage(storageUrl, s3.settings),
    env: { ...s3.settings, STORAGE_URL: storageUrl, DATABASE_URL: route(schema.url) },
    stopStorage: s3.stop,
  };
}

/** One database and bucket per data folder: a service started again on the same folder is a restarted API node. */
const backends = new Map<string, Promise<Backend>>();

function distributedBackend(dataDir: string, privateNetworks: boolean): Promise<Backend> {
  let backend = backends.get(dataDir);
  if (!backend) {
    backend = (async () => {
      const shared = await sharedBackend();
      await startWorkers(shared.env, 2, privateNetworks ? ['--allow-private-networks'] : []);
      return shared;
    })();
    backends.set(dataDir, backend);
  }
  return backend;
}

/** `reelsmith worker` processes on the backend, stopped (SIGTERM, then SIGKILL) when the test file ends. */
export async function startWorkers(env: NodeJS.ProcessEnv, count: number, args: string[] = []): Promise<WorkerChild[]> {
  return Promise.all(Array.from({ length: count }, () => spawnWorker(env, args)));
}

export interface WorkerChild {
  child: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** One `reelsmith worker` (2 jobs at once, 1 core), its folder a new temp one. */
export async function spawnWorker(env: NodeJS.ProcessEnv, args: string[] = []): Promise<WorkerChild> {
  const dir = await tempDir('reelsmith-worker-');
  const child = spawn(
    process.execPath,
    [
      CLI,
      'worker',
      '--data',
      dir,
      '--cores',
      '1',
      '--concurrency',
      '2',
      '--log-level',
      process.env.REELSMITH_TEST_WORKER_LOG ? 'info' : 'warn',
      ...args,
    ],
    { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c));
  child.stderr!.on('data', (c: Buffer) => (output += c));
  // REELSMITH_TEST_WORKER_LOG=1 shows the workers' logs
  if (process.env.REELSMITH_TEST_WORKER_LOG) child.stderr!.pipe(process.stderr);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  liveWorkers.add(child);
  void exited.then(() => liveWorkers.delete(child));
  after(async () => {
    if (!running(child)) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  });
  // ready once it says it takes jobs (its bucket checked, the database migrated, listening)
  const deadline = Date.now() + 60_000;
  while (!output.includes('taking jobs')) {
    if (child.exitCode !== null) throw new Error(`worker exited ${child.exitCode}:\n${output}`);
    if (Date.now() > deadline) throw new Error(`worker did not start:\n${output}`);
    await sleep(50);
  }
  return { child, output: () => output, exited };
}

/** Workers still running: a test process that exits without its after hooks (a failed top-level await) takes them along. */
const liveWorkers = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of liveWorkers) child.kill('SIGKILL');
});

/** Submits a render request to a service; its jobId, once answered 202. */
export async function submitJob(svc: { url: string }, key: string, body: Record<string, unknown>): Promise<string> {
  const res = await api(svc.url, key, '/v1/render/jobs', { method: 'POST', json: body });
  const reply = (await res.json()) as { jobId: string };
  assert.equal(res.status, 202, JSON.stringify(reply));
  return reply.jobId;
}

/** fetch with the API key. */
export function api(base: string, key: string | undefined, path: string, init: RequestInit & { json?: unknown } = {}) {
  const headers = new Headers(init.headers);
  if (key !== undefined) headers.set('x-api-key', key);
  if (init.json !== undefined) headers.set('content-type', 'application/json');
  return fetch(base + path, {
    ...init,
    headers,
    body: init.json !== undefined ? JSON.stringify(init.json) : init.body,
  });
}

/** The one error shape: { error: { code, message, details? } } and nothing else. Returns `error`. */
export function assertErrorShape(value: unknown, code?: string): Record<string, any> {
  assert.ok(
    typeof value === 'object' && value !== null && !Array.isArray(value),
    `an object: ${JSON.stringify(value)}`,
  );
  assert.deepEqual(Object.keys(value), ['error'], JSON.stringify(value));
  const error = (value as Record<string, any>).error as Record<string, any>;
  assert.ok(typeof error === 'object' && error !== null && !Array.isArray(error));
  for (const k of Object.keys(error))
    assert.ok(['code', 'message', 'details'].includes(k), `unexpected error field ${k}`);
  assert.equal(typeof error.code, 'string');
  assert.match(error.code, /^[A-Z][A-Z_]+$/);
  assert.equal(typeof error.message, 'string');
  assert.ok(error.message.length > 0);
  if (code !== undefined) assert.equal(error.code, code, JSON.stringify(value));
  return error;
}

/** Polls a job until it reaches a final status. */
export async function waitForJob(
  base: string,
  key: string,
  jobId: string,
  timeoutMs = 60_000,
): Promise<Record<string, any>> {
  const deadline = Date.now() + timeoutMs;
  // polls back off (100 ms up to 1 s), so a slow job on a loaded machine does not spend a small plan's requests per minute
  for (let wait = 100; ; wait = Math.min(1000, wait * 2)) {
    const job = (await (await api(base, key, `/v1/jobs/${jobId}`)).json()) as Record<string, any>;
    if (['done', 'failed', 'cancelled'].includes(job.status)) return job;
    if (Date.now() > deadline) throw new Error(`job ${jobId} still ${job.status}/${job.phase} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, wait));
  }
}

/** The seed's minimal request body, verbatim (projectId proj_abc123): the one the docs' "Try it out" sends. */
export const seedMinimalBody = MINIMAL_RENDER_REQUEST;

// ---------------------------------------------------------------------------------------
// The CLI and the server as child processes.

const root = join(import.meta.dirname, '..');
const CLI = join(root, 'bin/reelsmith.js');
const exec = promisify(execFile);

/** An admin command (`accounts create ... --json`) run as a child process; its JSON output. */
export async function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Record<string, any>> {
  const { stdout } = await exec(process.execPath, [CLI, ...args], { cwd: root, env: { ...process.env, ...env } });
  return JSON.parse(stdout) as Record<string, any>;
}

/** A data folder (`dir`, or a new temp one) with a Pro account, project proj_abc123 and a key, made with the CLI. */
export async function dataFolder(dir?: string, env: NodeJS.ProcessEnv = {}): Promise<{ dir: string } & CliTenant> {
  dir ??= await tempDir('reelsmith-data-');
  return { dir, ...(await cliTenant(['--data', dir], ['--init'], env)) };
}

interface CliTenant {
  key: string;
  accountId: string;
  projectId: string;
  webhookSecret: string;
}

/** A Pro account, a project (proj_abc123 unless told) and a key, made with the admin commands in the store `where` names (`--data dir`, `--database url`). */
async function cliTenant(
  where: string[],
  init: string[],
  env: NodeJS.ProcessEnv,
  projectId = 'proj_abc123',
): Promise<CliTenant> {
  const account = await cli(['accounts', 'create', ...init, '--plan', 'pro', ...where, '--json'], env);
  const project = await cli(
    ['projects', 'create', '--account', account.accountId, '--id', projectId, ...where, '--json'],
    env,
  );
  const key = await cli(['keys', 'create', '--account', account.accountId, ...where, '--json'], env);
  return {
    key: key.key,
    accountId: account.accountId,
    projectId: project.projectId,
    webhookSecret: project.webhookSecret,
  };
}

/**
 * The service deployed from the CLI as an operator deploys it, with a tenant made by the admin
 * commands (see cliTenant). Embedded: `serve` on a data folder, rendering its jobs itself.
 * Distributed (REELSMITH_TEST_MODE=distributed): an API node (`serve --database --storage`)
 * and one `reelsmith worker`, on a fresh schema and bucket.
 */
export interface CliDeployment extends CliTenant {
  url: string;
  /** The embedded mode's data folder. */
  dataDir?: string;
  /** The process that answers the API (embedded: it also renders). */
  readonly api: ServeChild;
  /** The process that renders the jobs. */
  readonly renderer: ServeChild | WorkerChild;
  /** Every process of it (embedded: the one). */
  readonly processes: Array<ServeChild | WorkerChild>;
  /** Starts again what has ended: `serve` on the same data folder and port; a new worker. */
  restart(): Promise<void>;
  /** The project's committed scene-cache entries, each with a stamp that changes if it is written again. */
  sceneEntries(): Promise<Record<string, string>>;
  /** Watches the project's scene cache from now on; `stop` names the entries rendered since. */
  watchSceneRenders(): { stop(): string[] };
  /** Another account (Pro), with a project of its own and a key, made with the admin commands. */
  anotherTenant(): Promise<CliTenant>;
}

export async function cliDeployment(env: NodeJS.ProcessEnv = {}): Promise<CliDeployment> {
  return TEST_MODE === 'distributed' ? distributedDeployment(env) : embeddedDeployment(env);
}

/** Whether a child process has not ended yet. */
function running(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/** Project ids of the further tenants a deployment makes. */
let tenants = 0;
const anotherProjectId = () => `proj_other${++tenants}`;

async function embeddedDeployment(env: NodeJS.ProcessEnv): Promise<CliDeployment> {
  const data = await dataFolder(undefined, env);
  const port = await freePort();
  let server = await serve(data.dir, { env, port });
  const projectCache = join(data.dir, 'scene-cache', data.projectId);
  const committed = async () => (await readdir(projectCache).catch(() => [])).filter((n) => !n.startsWith('.tmp-'));
  return {
    ...data,
    url: server.url,
    dataDir: data.dir,
    get api() {
      return server;
    },
    get renderer() {
      return server;
    },
    get processes() {
      return [server];
    },
    async restart() {
      if (!running(server.child)) server = await serve(data.dir, { env, port });
    },
    anotherTenant: () => cliTenant(['--data', data.dir], [], env, anotherProjectId()),
    async sceneEntries() {
      const stamps: Record<string, string> = {};
      for (const entry of await committed()) {
        const files = await readdir(join(projectCache, entry));
        const mtimes = await Promise.all(
          files.map(async (f) => `${f}@${(await stat(join(projectCache, entry, f))).mtimeMs}`),
        );
        stamps[entry] = mtimes.sort().join(' ');
      }
      return stamps;
    },
    // every scene render starts in a fresh `.tmp-` workspace of the project's cache
    watchSceneRenders() {
      const workspaces = new Set<string>();
      mkdirSync(projectCache, { recursive: true });
      const before = new Set(readdirSync(projectCache));
      const watcher = watch(projectCache, { persistent: false }, (_type, name) => {
        if (name?.startsWith('.tmp-') && !before.has(name)) workspaces.add(name);
      });
      return {
        stop() {
          watcher.close();
          return [...workspaces];
        },
      };
    },
  };
}

async function distributedDeployment(env: NodeJS.ProcessEnv): Promise<CliDeployment> {
  const [{ url: database }, s3] = await Promise.all([postgresSchema(), s3Server()]);
  const storageUrl = `s3://${s3.bucket}/reelsmith`;
  const shared = { ...env, ...s3.settings, DATABASE_URL: database, STORAGE_URL: storageUrl };
  const storage = s3Storage(storageUrl, s3.settings);
  const tenant = await cliTenant([], [], shared);
  const apiDir = await tempDir('reelsmith-api-node-');
  const port = await freePort();
  const startApi = () => serve(apiDir, { env: shared, port });
  const startWorker = () => spawnWorker(shared, ['--concurrency', '1', '--allow-private-networks']);
  let api = await startApi();
  let worker = await startWorker();
  // an entry is committed by its playlist.json, put last: `PUT /<bucket>/reelsmith/scene-cache/<project>/<entry>/...`
  const entryPut = new RegExp(`^PUT /${s3.bucket}/reelsmith/scene-cache/${tenant.projectId}/([^/]+)/([^?]+)`);
  const entryPuts = (from: number) =>
    s3.requests.slice(from).flatMap((request, i) => {
      const m = entryPut.exec(request);
      return m ? [{ entry: m[1], file: m[2], at: from + i }] : [];
    });
  return {
    ...tenant,
    url: api.url,
    get api() {
      return api;
    },
    get renderer() {
      return worker;
    },
    get processes() {
      return [api, worker];
    },
    async restart() {
      if (!running(api.child)) api = await startApi();
      if (!running(worker.child)) worker = await startWorker();
    },
    anotherTenant: () => cliTenant([], [], shared, anotherProjectId()),
    async sceneEntries() {
      const stamps: Record<string, string> = {};
      for (const put of entryPuts(0)) if (put.file === 'playlist.json') stamps[put.entry] = `put #${put.at}`;
      // a put cut short by a kill committed nothing
      for (const entry of Object.keys(stamps))
        if (!(await storage.stat(`scene-cache/${tenant.projectId}/${entry}/playlist.json`))) delete stamps[entry];
      return stamps;
    },
    watchSceneRenders() {
      const from = s3.requests.length;
      return { stop: () => [...new Set(entryPuts(from).map((p) => p.entry))] };
    },
  };
}

export async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

export interface ServeChild {
  url: string;
  child: ChildProcess;
  /** stdout and stderr so far. */
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface ServeOptions {
  port?: number;
  /** More `serve` options. */
  args?: string[];
  env?: NodeJS.ProcessEnv;
}

/**
 * `reelsmith serve --data dir` on 127.0.0.1 (2 workers, private networks allowed), started
 * but not waited for; SIGKILLed when the test that started it ends, if still running.
 */
export async function spawnServe(dir: string, options: ServeOptions = {}): Promise<ServeChild> {
  const port = options.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const args = [
    'serve',
    '--data',
    dir,
    '--port',
    String(port),
    '--host',
    '127.0.0.1',
    '--public-url',
    url,
    '--workers',
    '2',
    '--allow-private-networks',
    ...(options.args ?? []),
  ];
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: root,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  after(() => void (running(child) && child.kill('SIGKILL')));
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c));
  child.stderr.on('data', (c: Buffer) => (output += c));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return { url, child, output: () => output, exited };
}

/** `spawnServe`, ready once it says it listens (after resuming unfinished jobs) and /healthz answers. */
export async function serve(dir: string, options: ServeOptions = {}): Promise<ServeChild> {
  const server = await spawnServe(dir, options);
  // generous: on a loaded 2-core machine, loading the CLI through tsx alone can take many seconds
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (server.child.exitCode !== null) throw new Error(`serve exited ${server.child.exitCode}:\n${server.output()}`);
    const ok =
      server.output().includes('Reelsmith listening on') &&
      (await fetch(`${server.url}/healthz`).then(
        (r) => r.ok,
        () => false,
      ));
    if (ok) return server;
    if (Date.now() > deadline) throw new Error(`serve did not start:\n${server.output()}`);
    await sleep(100);
  }
}

/** Seconds from now until a download link expires: this service's signed link (`expires`) or a bucket's presigned one. */
export function linkLifetime(url: string): number {
  const params = new URL(url).searchParams;
  const presigned = params.get('X-Amz-Date');
  if (!presigned) return Number(params.get('expires')) - Date.now() / 1000;
  const signedAt = Date.parse(presigned.replace(/^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/, '$1-$2-$3T$4:$5:$6Z'));
  return (signedAt - Date.now()) / 1000 + Number(params.get('X-Amz-Expires'));
}

/** The phases a job went through, in order, from its progress stream (a replay, for a finished job). */
export async function phasesOf(base: string, key: string, jobId: string): Promise<string[]> {
  const log = await (await api(base, key, `/v1/jobs/${jobId}/progress`)).text();
  return [...log.matchAll(/event: phase\ndata: (.*)\n/g)].map((m) => (JSON.parse(m[1]) as { phase: string }).phase);
}

/** Polls a job until `ready(job)` (5 times a second: long waits stay under the Pro plan's 600 requests a minute); fails if the job ends first. */
export async function waitUntil(
  base: string,
  key: string,
  jobId: string,
  ready: (job: Record<string, any>) => boolean,
  what: string,
  timeoutMs = 30_000,
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = (await (await api(base, key, `/v1/jobs/${jobId}`)).json()) as Record<string, any>;
    if (ready(job)) return job;
    if (['done', 'failed', 'cancelled'].includes(job.status))
      throw new Error(`job ended ${job.status} before ${what}: ${JSON.stringify(job)}`);
    if (Date.now() > deadline) throw new Error(`no ${what} after ${timeoutMs} ms: ${JSON.stringify(job)}`);
    await sleep(200);
  }
}

/** The shipped example assets served over HTTP under the seed's paths (footage/, audio/, brand/). */
export async function exampleAssets(): Promise<{ url: string }> {
  const dir = await tempDir('reelsmith-assets-');
  await Promise.all(
    [
      ['city.mp4', 'footage'],
      ['upbeat.mp3', 'audio'],
      ['logo-white.png', 'brand'],
    ].map(async ([name, folder]) => {
      await mkdir(join(dir, folder), { recursive: true });
      await copyFile(join(root, 'examples/assets', name), join(dir, folder, name));
    }),
  );
  return mediaServer(dir);
}

/** Text on a colour: `scenes` scenes (default 640x360, 1 s each, a label; or `layers` in each). */
export function textMovie(
  projectId: string,
  tag: string,
  scenes: number,
  options: { seconds?: number; width?: number; height?: number; layers?: unknown[] } = {},
) {
  const { seconds = 1, width = 640, height = 360, layers } = options;
  return {
    kind: 'movie',
    projectId,
    movie: {
      width,
      height,
      fps: 30,
      scenes: Array.from({ length: scenes }, (_, i) => ({
        id: `${tag}_${i}`,
        duration: seconds,
        bgColor: '#203040',
        layers: layers ?? [{ id: 'label', type: 'text', text: `${tag} ${i + 1}`, fontSize: 40 }],
      })),
    },
  };
}

/**
 * Scenes of footage (the video at `source`, one second further into it each scene) on a
 * canvas (default 1080p), one after another (one worker), long enough to be mid-render after ~2 s.
 */
export function footageMovie(
  source: string,
  tag: string,
  scenes: number,
  seconds: number,
  canvas = { width: 1920, height: 1080 },
) {
  return {
    kind: 'movie',
    projectId: 'proj_abc123',
    renderOptions: { requestedConcurrency: 1 },
    movie: {
      ...canvas,
      fps: 30,
      scenes: Array.from({ length: scenes }, (_, i) => ({
        id: `${tag}_${i}`,
        duration: seconds,
        bgColor: '#000000',
        layers: [
          { id: 'footage', type: 'video', source, trimStart: i, position: { x: 0, y: 0 }, size: canvas, mute: true },
          {
            id: 'label',
            type: 'text',
            text: `${tag} scene ${i + 1}`,
            fontSize: 60,
            color: '#ffffff',
            position: { x: 80, y: 80 },
            size: { width: canvas.width / 2, height: 100 },
          },
        ],
      })),
    },
  };
}

/** What a service did while watched: /readyz latencies and the peak memory of its processes. */
export interface ServiceWatch {
  /** Median and largest /readyz latency, ms, how many were asked, and how many got no answer (a connection refused or reset). */
  readyz: { median: number; max: number; count: number; unanswered: number };
  /** Largest sum of VmRSS over the processes and their children (ffmpeg, ffprobe), bytes. */
  peakRss: number;
}

/**
 * Asks `url`/readyz every 100 ms (one at a time: a request that hangs is one long latency)
 * and sums the memory of `pids` and their children every 50 ms, until stopped.
 */
export function watchService(url: string, pids: number[]): { stop(): Promise<ServiceWatch> } {
  const latencies: number[] = [];
  let unanswered = 0;
  let peakRss = 0;
  let watching = true;
  const memory = setInterval(() => {
    peakRss = Math.max(
      peakRss,
      pids.reduce((sum, pid) => sum + treeRss(pid), 0),
    );
  }, 50);
  const asking = (async () => {
    while (watching) {
      const started = performance.now();
      await fetch(`${url}/readyz`).then(
        (r) => r.arrayBuffer(),
        () => unanswered++,
      );
      latencies.push(performance.now() - started);
      await sleep(100);
    }
  })();
  return {
    async stop() {
      watching = false;
      clearInterval(memory);
      await asking;
      const sorted = [...latencies].sort((a, b) => a - b);
      return {
        readyz: {
          median: sorted[Math.floor(sorted.length / 2)] ?? 0,
          max: sorted.at(-1) ?? 0,
          count: sorted.length,
          unanswered,
        },
        peakRss,
      };
    },
  };
}
