// Load test of the API (embedded mode, real HTTP): 200 submits and 2000 status polls from
// concurrent clients. Prints counts by status, latency percentiles of GET /v1/jobs/{id},
// and checks that no request got a 5xx and that a plan's rate limit holds under load.
// Run: npm run bench:load
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildServer } from '../src/api/server.ts';
import { loadPlans } from '../src/api/plans.ts';
import { RenderService } from '../src/jobs/index.ts';

const SUBMITS = 200;
const POLLS = 2000;
const CLIENTS = 20;
const LIMITED_RPM = 30;

const dataDir = await mkdtemp(join(tmpdir(), 'reelsmith-load-'));
const base = loadPlans();
const plans = {
  ...base,
  load: { ...base.unlimited, requestsPerMinute: 100_000 },
  limited: { ...base.pro, requestsPerMinute: LIMITED_RPM },
};
const service = await RenderService.open({ dataDir, publicUrl: 'http://127.0.0.1' });
const app = await buildServer({ service, plans });
const url = await app.listen({ port: 0, host: '127.0.0.1' });
await service.recover();

async function tenant(plan: string) {
  const account = await service.createAccount({ name: plan, plan });
  const project = await service.createProject({ accountId: account.id, name: plan });
  return { key: (await service.createKey({ accountId: account.id })).key, projectId: project.id };
}

const movie = (i: number) => ({
  width: 160,
  height: 90,
  fps: 30,
  scenes: [
    {
      id: 's',
      duration: 0.5,
      bgColor: `#${((i * 2654435761) % 0xffffff).toString(16).padStart(6, '0')}`,
      layers: [{ id: 't', type: 'text', text: `job ${i}`, fontSize: 20 }],
    },
  ],
});

const statuses = new Map<number, number>();
const count = (status: number) => statuses.set(status, (statuses.get(status) ?? 0) + 1);

async function request(key: string, path: string, body?: unknown): Promise<{ status: number; ms: number; json: any }> {
  const started = performance.now();
  const res = await fetch(url + path, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'x-api-key': key, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json();
  count(res.status);
  return { status: res.status, ms: performance.now() - started, json };
}

/** Runs `n` calls of `fn` with `clients` in flight at once. */
async function concurrently(n: number, clients: number, fn: (i: number) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < n) await fn(next++);
    }),
  );
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};

try {
  const main = await tenant('load');
  const started = performance.now();
  const jobIds: string[] = [];
  const submitMs: number[] = [];
  await concurrently(SUBMITS, CLIENTS, async (i) => {
    const r = await request(main.key, '/v1/render/jobs', { kind: 'movie', projectId: main.projectId, movie: movie(i) });
    submitMs.push(r.ms);
    if (r.status === 202) jobIds.push(r.json.jobId);
  });
  const pollMs: number[] = [];
  await concurrently(POLLS, CLIENTS, async (i) => {
    const r = await request(main.key, `/v1/jobs/${jobIds[i % jobIds.length]}`);
    pollMs.push(r.ms);
  });
  const loadSeconds = (performance.now() - started) / 1000;

  // a plan's limit holds while the service is busy: exactly LIMITED_RPM requests pass in the window
  const limited = await tenant('limited');
  let passed = 0;
  let limitedCount = 0;
  await concurrently(LIMITED_RPM * 2, 10, async () => {
    const r = await request(limited.key, '/v1/usage');
    if (r.status === 200) passed++;
    if (r.status === 429) limitedCount++;
  });

  const fiveXx = [...statuses].filter(([s]) => s >= 500).reduce((a, [, n]) => a + n, 0);
  console.log(`\n## API load (embedded, ${CLIENTS} concurrent clients)\n`);
  console.log('| measure | value |\n|---|---|');
  console.log(`| submits accepted (202) | ${jobIds.length} of ${SUBMITS} |`);
  console.log(
    `| POST /v1/render/jobs latency p50 / p99 | ${percentile(submitMs, 50).toFixed(1)} / ${percentile(submitMs, 99).toFixed(1)} ms |`,
  );
  console.log(`| GET /v1/jobs/{id} polls | ${pollMs.length} |`);
  console.log(
    `| GET /v1/jobs/{id} latency p50 / p95 / p99 | ${percentile(pollMs, 50).toFixed(1)} / ${percentile(pollMs, 95).toFixed(1)} / ${percentile(pollMs, 99).toFixed(1)} ms |`,
  );
  console.log(`| submits + polls wall time | ${loadSeconds.toFixed(1)} s (renders running meanwhile) |`);
  console.log(
    `| responses by status | ${[...statuses]
      .sort()
      .map(([s, n]) => `${s}: ${n}`)
      .join(', ')} |`,
  );
  console.log(`| 5xx responses | ${fiveXx} |`);
  console.log(`| rate limit ${LIMITED_RPM}/min under load | ${passed} passed, ${limitedCount} got 429 |`);
  const ok = fiveXx === 0 && passed === LIMITED_RPM && limitedCount === LIMITED_RPM && jobIds.length === SUBMITS;
  console.log(ok ? '\nPASS: no 5xx, every submit accepted, rate limit held' : '\nFAIL: see the table');
  process.exitCode = ok ? 0 : 1;
} finally {
  await app.close();
  await service.close();
  await rm(dataDir, { recursive: true, force: true });
}
