// `npm run bench:scale [-- --jobs 12] [--movie text|footage] [--json]`: how the distributed
// mode's throughput grows with workers, on this machine. One API node (`reelsmith serve
// --database --storage`), a fresh Postgres schema and an S3 server; a batch of identical-size
// but distinct jobs (5 s 640x360, each with its own text, so the scene cache saves nothing)
// rendered by ONE `reelsmith worker` and then a new batch by TWO (each --cores 1
// --concurrency 1), timed from the first submit to the last job done. Per job: the workers'
// CPU (node, and the ffmpegs they ran), their peak memory and the bytes they wrote, and the
// CPU of the API node, of Postgres and of this process (the S3 server and the client).
// Two movies: `text` (text on a colour: still pictures, which the engine encodes once) and
// `footage` (the same over a 960x540 video: every frame decoded, scaled and encoded).
// Every process it starts is stopped at the end, also on a failure or Ctrl-C.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Movie } from '../src/movie/index.ts';
import { foreignCpuShare } from './cpu-share.ts';
import { mediaHost, postgresBackends, postgresSchema, type Service, s3Server } from './local-services.ts';
import { bytesWritten, cpuSeconds, peakRss } from './proc-usage.ts';
import { type Running, reelsmith, start, stopAll } from './reelsmith-process.ts';
import { describeMachine } from './report.ts';
import { sampleTreeRss } from './rss.ts';

const MOVIES = ['text', 'footage'] as const;
type MovieKind = (typeof MOVIES)[number];
/** The example footage: 8 s of 960x540 H.264, so a 5 s layer can start up to 3 s in. */
const FOOTAGE = fileURLToPath(new URL('../examples/assets/city.mp4', import.meta.url));
/** A batch still running after this is reported as stuck. */
const BATCH_TIMEOUT_MS = 15 * 60_000;
const POLL_MS = 250;

const { values } = parseArgs({
  options: { jobs: { type: 'string', default: '12' }, movie: { type: 'string' }, json: { type: 'boolean' } },
});
const JOBS = Number(values.jobs);
if (!Number.isInteger(JOBS) || JOBS < 1 || JOBS > 100) throw new Error('--jobs: a whole number, 1..100');
if (values.movie !== undefined && !MOVIES.includes(values.movie as MovieKind))
  throw new Error(`--movie: ${MOVIES.join(' or ')}`);
const kinds: MovieKind[] = values.movie ? [values.movie as MovieKind] : [...MOVIES];
/** Progress goes to stderr, so that with --json stdout is the one JSON line. */
const say = (line: string) => process.stderr.write(`${line}\n`);

interface Batch {
  movie: MovieKind;
  workers: number;
  jobs: number;
  /** Jobs each worker claimed. */
  jobsByWorker: number[];
  wallSeconds: number;
  jobsPerMinute: number;
  /** Means per job. */
  perJob: {
    workerCpuSeconds: { node: number; ffmpeg: number };
    apiCpuSeconds: number;
    postgresCpuSeconds: number;
    /** This process: the S3 server, submits and polls. */
    s3AndClientCpuSeconds: number;
    writtenBytes: number;
    cancelledWriteBytes: number;
  };
  /** Bytes, the largest of the workers: a worker's VmHWM, and its ffmpegs' summed RSS at one moment. */
  peakRss: { worker: number; ffmpeg: number };
  /** Share of the machine's CPU that other processes used during the batch. */
  othersCpuShare: number;
}

const services: Service<unknown>[] = [];
const root = await mkdtemp(join(tmpdir(), 'reelsmith-scale-'));
let cleaning: Promise<void> | undefined;
const cleanUp = () =>
  (cleaning ??= (async () => {
    await stopAll();
    for (const service of services.reverse()) await service.stop().catch((error: Error) => say(error.message));
    await rm(root, { recursive: true, force: true });
  })());
for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
] as const)
  process.once(signal, () => {
    say(`${signal}: stopping every process started`);
    void cleanUp().finally(() => process.exit(code));
  });

try {
  const machine = await describeMachine();
  const database = track(await postgresSchema());
  const s3 = track(await s3Server(join(root, 's3')));
  const media = track(await mediaHost([FOOTAGE]));
  const env = s3.env;
  const storage = `s3://${s3.bucket}/reelsmith`;
  const shared = ['--database', database.url, '--storage', storage];

  const apiData = join(root, 'api');
  const admin = ['--database', database.url, '--data', apiData];
  const { accountId } = await reelsmith(['accounts', 'create', '--plan', 'unlimited', '--name', 'scale', ...admin]);
  const { projectId } = await reelsmith(['projects', 'create', '--account', accountId, ...admin]);
  const { key } = await reelsmith(['keys', 'create', '--account', accountId, ...admin]);
  const api = await start(
    ['serve', '--data', apiData, '--port', '0', '--host', '127.0.0.1', '--log-level', 'warn', ...shared],
    env,
  );
  const client = jobsClient(api.started.url as string, key, projectId);

  const batches: Batch[] = [];
  for (const movie of kinds)
    for (const workers of [1, 2]) {
      const tag = `${movie} x${workers}`;
      const bodies = Array.from({ length: JOBS }, (_, i) =>
        movieOf(movie, `${tag} #${i + 1}`, i, media.urlOf(FOOTAGE)),
      );
      batches.push(await runBatch({ movie, workers, tag, bodies, client, api, schema: database.schema, env, shared }));
    }

  const ratios = Object.fromEntries(
    kinds.map((movie) => {
      const [one, two] = [1, 2].map((n) => batches.find((b) => b.movie === movie && b.workers === n)!);
      return [movie, two.jobsPerMinute / one.jobsPerMinute];
    }),
  );
  if (values.json) console.log(JSON.stringify({ machine, jobs: JOBS, batches, twoOverOneWorker: ratios }));
  else console.log(report(batches, ratios, machine));
} finally {
  await cleanUp();
}

function track<T>(service: Service<T>): T {
  services.push(service);
  return service.value;
}

/** A movie of `kind` whose text is `label` (so its scene is its own) and background its own colour. */
function movieOf(kind: MovieKind, label: string, i: number, footage: string): Movie {
  const text = [
    {
      id: 'title',
      type: 'text' as const,
      text: `Reelsmith at scale\n${label}`,
      fontSize: 44,
      fontWeight: 'bold' as const,
      position: { x: 40, y: 50 },
      size: { width: 560, height: 140 },
      zIndex: 1,
    },
    {
      id: 'caption',
      type: 'text' as const,
      text: `one of ${JOBS} distinct jobs`,
      startTime: 2.5,
      fontSize: 24,
      backgroundColor: '#00000080',
      position: { x: 40, y: 250 },
      size: { width: 560, height: 50 },
      zIndex: 1,
    },
  ];
  const video = { id: 'footage', type: 'video' as const, source: footage, trimStart: i % 4, mute: true };
  return {
    width: 640,
    height: 360,
    fps: 30,
    scenes: [
      {
        id: 'card',
        duration: 5,
        bgColor: `#${((i * 2654435761) % 0xffffff).toString(16).padStart(6, '0')}`,
        layers: kind === 'footage' ? [video, ...text] : text,
      },
    ],
  };
}

function jobsClient(base: string, key: string, projectId: string) {
  const call = async (path: string, body?: unknown) => {
    const res = await fetch(base + path, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { 'x-api-key': key, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = (await res.json()) as Record<string, any>;
    if (!res.ok) throw new Error(`${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  return {
    submit: async (movie: Movie) =>
      (await call('/v1/render/jobs', { kind: 'movie', projectId, movie })).jobId as string,
    /** The project's newest jobs (a batch is submitted after the previous one ended, so it is all here). */
    newest: async () => (await call(`/v1/jobs?projectId=${projectId}&limit=100`)).jobs as Record<string, any>[],
  };
}

interface BatchSetup {
  movie: MovieKind;
  workers: number;
  tag: string;
  bodies: Movie[];
  client: ReturnType<typeof jobsClient>;
  api: Running;
  schema: string;
  env: NodeJS.ProcessEnv;
  shared: string[];
}

async function runBatch(setup: BatchSetup): Promise<Batch> {
  const { movie, workers: count, tag, bodies, client, api, schema } = setup;
  say(`${tag}: starting ${count} worker(s)`);
  const workers = await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const data = join(root, `worker-${movie}-${count}-${i}`);
      await mkdir(data);
      const args = ['--data', data, '--cores', '1', '--concurrency', '1', '--allow-private-networks'];
      return start(['worker', ...args, '--log-level', 'info', ...setup.shared], setup.env);
    }),
  );
  try {
    const pids = workers.map((w) => w.pid);
    const ffmpegRss = pids.map((pid) => sampleTreeRss(pid, 100, false));
    const workerCpu = pids.map(cpuSeconds);
    const workerIo = pids.map(bytesWritten);
    const apiCpu = cpuSeconds(api.pid);
    const benchCpu = cpuSeconds(process.pid);
    const postgres = await postgresCpu(schema);
    const othersShare = foreignCpuShare(() => [process.pid, api.pid, ...pids]);

    const submitted = Date.now();
    const ids = new Set(await Promise.all(bodies.map((body) => client.submit(body))));
    const jobs = await waitForBatch(ids, workers, client, tag);
    const lastDone = Math.max(...jobs.map((job) => Date.parse(job.finishedAt)));
    const postgresSeconds = (await postgresCpu(schema)).since(postgres);
    const share = othersShare(postgresSeconds);

    const cpu = pids.map((pid, i) => minus(cpuSeconds(pid), workerCpu[i]));
    const io = pids.map((pid, i) => minus(bytesWritten(pid), workerIo[i]));
    const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
    const wallSeconds = (lastDone - submitted) / 1000;
    const n = jobs.length;
    return {
      movie,
      workers: count,
      jobs: n,
      jobsByWorker: workers.map((w) => w.log().filter((line) => line.includes('"msg":"job claimed"')).length),
      wallSeconds,
      jobsPerMinute: (n / wallSeconds) * 60,
      perJob: {
        workerCpuSeconds: { node: sum(cpu.map((c) => c.own)) / n, ffmpeg: sum(cpu.map((c) => c.children)) / n },
        apiCpuSeconds: total(minus(cpuSeconds(api.pid), apiCpu)) / n,
        postgresCpuSeconds: postgresSeconds / n,
        s3AndClientCpuSeconds: total(minus(cpuSeconds(process.pid), benchCpu)) / n,
        writtenBytes: sum(io.map((b) => b.written)) / n,
        cancelledWriteBytes: sum(io.map((b) => b.cancelled)) / n,
      },
      peakRss: {
        worker: Math.max(...pids.map(peakRss)),
        ffmpeg: Math.max(...ffmpegRss.map((sampler) => sampler.stop())),
      },
      othersCpuShare: share,
    };
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
  }
}

/** Polls the batch until every job has ended; fails if one did not end done, or a worker exited. */
async function waitForBatch(
  ids: Set<string>,
  workers: Running[],
  client: ReturnType<typeof jobsClient>,
  tag: string,
): Promise<Record<string, any>[]> {
  const deadline = Date.now() + BATCH_TIMEOUT_MS;
  let reported = -1;
  for (;;) {
    const jobs = (await client.newest()).filter((job) => ids.has(job.jobId));
    const ended = jobs.filter((job) => ['done', 'failed', 'cancelled'].includes(job.status));
    if (ended.length !== reported) say(`${tag}: ${(reported = ended.length)}/${ids.size} done`);
    const bad = ended.find((job) => job.status !== 'done');
    if (bad) throw new Error(`${tag}: job ${bad.jobId} ended ${bad.status}: ${JSON.stringify(bad.error)}`);
    if (ended.length === ids.size) return ended;
    const dead = workers.find((w) => w.child.exitCode !== null || w.child.signalCode !== null);
    if (dead) throw new Error(`${tag}: a worker exited mid-batch:\n${dead.log().slice(-20).join('\n')}`);
    if (Date.now() > deadline) throw new Error(`${tag}: ${ended.length}/${ids.size} done after ${BATCH_TIMEOUT_MS} ms`);
    await sleep(POLL_MS);
  }
}

/** CPU seconds of the schema's Postgres connections; `since` counts a connection opened meanwhile from zero. */
async function postgresCpu(schema: string) {
  const seconds = new Map<number, number>();
  for (const pid of await postgresBackends(schema)) {
    try {
      seconds.set(pid, total(cpuSeconds(pid)));
    } catch {
      // the connection closed meanwhile
    }
  }
  return {
    seconds,
    since: (before: { seconds: Map<number, number> }) =>
      [...seconds].reduce((sum, [pid, now]) => sum + now - (before.seconds.get(pid) ?? 0), 0),
  };
}

function total(cpu: { own: number; children: number }): number {
  return cpu.own + cpu.children;
}

function minus<T extends { [K in keyof T]: number }>(after: T, before: T): T {
  const keys = Object.keys(after) as Array<keyof T>;
  return Object.fromEntries(keys.map((k) => [k, after[k] - before[k]])) as T;
}

function report(
  batches: Batch[],
  ratios: Record<string, number>,
  machine: Awaited<ReturnType<typeof describeMachine>>,
) {
  const MB = (bytes: number) => `${Math.round(bytes / 1e6)} MB`;
  const s = (seconds: number) => `${seconds.toFixed(2)} s`;
  const rows = batches.map((b) => {
    const { perJob: p } = b;
    return [
      b.movie,
      String(b.workers),
      `${b.jobs} (${b.jobsByWorker.join(' + ')})`,
      `${b.wallSeconds.toFixed(1)} s`,
      b.jobsPerMinute.toFixed(1),
      `${s(p.workerCpuSeconds.node + p.workerCpuSeconds.ffmpeg)} (${s(p.workerCpuSeconds.node)} + ${s(p.workerCpuSeconds.ffmpeg)})`,
      `${MB(b.peakRss.worker + b.peakRss.ffmpeg)} (${MB(b.peakRss.worker)} + ${MB(b.peakRss.ffmpeg)})`,
      `${(p.writtenBytes / 1e6).toFixed(2)} MB (${(p.cancelledWriteBytes / 1e6).toFixed(2)} MB)`,
      `${s(p.apiCpuSeconds)} / ${s(p.postgresCpuSeconds)} / ${s(p.s3AndClientCpuSeconds)}`,
      `${(b.othersCpuShare * 100).toFixed(0)}%`,
    ];
  });
  const header = [
    'movie',
    'workers',
    'jobs (by worker)',
    'first submit to last done',
    'jobs/min',
    'worker CPU per job (node + ffmpeg)',
    'peak RSS of a worker (node + its ffmpegs)',
    'written per job (of it cancelled)',
    'CPU per job: API / Postgres / S3 + client',
    'other processes',
  ];
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [
    `\n## Scale: distributed mode, ${JOBS} jobs of a 5 s 640x360 movie, workers --cores 1 --concurrency 1\n`,
    [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n'),
    '',
    ...Object.entries(ratios).map(
      ([movie, ratio]) => `${movie}: two workers / one worker = ${ratio.toFixed(2)}x jobs/min`,
    ),
    '',
    `Machine: ${machine.cpu}, ${machine.cores} cores; ${machine.ffmpeg}; Node ${machine.node}. ` +
      '"other processes": the share of all CPU time used by processes other than these (the API node, the workers and ' +
      "their ffmpegs, this schema's Postgres connections, this process); written: /proc/<pid>/io write_bytes of the " +
      'workers and the ffmpegs they ran; cancelled: bytes of files removed before they reached the disk.',
  ].join('\n');
}
