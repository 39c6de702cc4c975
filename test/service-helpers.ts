// Starting the real service for a test: a temp data folder, SQLite, a real HTTP port,
// and an account/project/key on the plan the test asks for.
import { after } from 'node:test';
import assert from 'node:assert/strict';
import { buildServer, type ConnectionTimeouts } from '../src/api/server.ts';
import { loadPlans, type Plans } from '../src/api/plans.ts';
import { RenderService, type ServiceOptions } from '../src/jobs/index.ts';
import { tempDir } from './helpers.ts';

export interface TestService {
  url: string;
  service: RenderService;
  plans: Plans;
  dataDir: string;
  /** Makes an account on `plan` with a project (optionally with a given id) and a key. */
  tenant(plan?: string, projectId?: string): Promise<{ accountId: string; projectId: string; key: string; webhookSecret: string }>;
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
  options: Partial<ServiceOptions> & { plans?: Plans; heartbeatMs?: number; bodyLimit?: number; timeouts?: Partial<ConnectionTimeouts> } = {},
): Promise<TestService> {
  const dataDir = options.dataDir ?? (await tempDir('reelsmith-service-'));
  const plans = options.plans ?? testPlans();
  const service = await RenderService.open({ dataDir, publicUrl: 'http://placeholder', network: { allowPrivateNetworks: true }, workers: 2, webhookRetryScale: 0.01, ...options });
  const app = await buildServer({ service, plans, heartbeatMs: options.heartbeatMs, bodyLimit: options.bodyLimit, timeouts: options.timeouts });
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  service.setPublicUrl(address);
  await service.recover();
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
      const account = await service.accounts.createAccount({ name: 'test', plan });
      const project = await service.accounts.createProject({ accountId: account.id, name: 'test', id: projectId });
      const { key } = await service.accounts.createKey({ accountId: account.id });
      return { accountId: account.id, projectId: project.id, key, webhookSecret: project.webhook_secret };
    },
    close,
  };
}

/** fetch with the API key. */
export function api(base: string, key: string | undefined, path: string, init: RequestInit & { json?: unknown } = {}) {
  const headers = new Headers(init.headers);
  if (key !== undefined) headers.set('x-api-key', key);
  if (init.json !== undefined) headers.set('content-type', 'application/json');
  return fetch(base + path, { ...init, headers, body: init.json !== undefined ? JSON.stringify(init.json) : init.body });
}

/** The one error shape: { error: { code, message, details? } } and nothing else. Returns `error`. */
export function assertErrorShape(value: unknown, code?: string): Record<string, any> {
  assert.ok(typeof value === 'object' && value !== null && !Array.isArray(value), `an object: ${JSON.stringify(value)}`);
  assert.deepEqual(Object.keys(value), ['error'], JSON.stringify(value));
  const error = (value as Record<string, any>).error as Record<string, any>;
  assert.ok(typeof error === 'object' && error !== null && !Array.isArray(error));
  for (const k of Object.keys(error)) assert.ok(['code', 'message', 'details'].includes(k), `unexpected error field ${k}`);
  assert.equal(typeof error.code, 'string');
  assert.match(error.code, /^[A-Z][A-Z_]+$/);
  assert.equal(typeof error.message, 'string');
  assert.ok(error.message.length > 0);
  if (code !== undefined) assert.equal(error.code, code, JSON.stringify(value));
  return error;
}

/** Polls a job until it reaches a final status. */
export async function waitForJob(base: string, key: string, jobId: string, timeoutMs = 60_000): Promise<Record<string, any>> {
  const deadline = Date.now() + timeoutMs;
  // polls back off (100 ms up to 1 s), so a slow job on a loaded machine does not spend a small plan's requests per minute
  for (let wait = 100; ; wait = Math.min(1000, wait * 2)) {
    const job = (await (await api(base, key, `/v1/jobs/${jobId}`)).json()) as Record<string, any>;
    if (['done', 'failed', 'cancelled'].includes(job.status)) return job;
    if (Date.now() > deadline) throw new Error(`job ${jobId} still ${job.status}/${job.phase} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, wait));
  }
}

/** The seed's minimal request body, verbatim (projectId proj_abc123). */
export const seedMinimalBody = {
  kind: 'movie',
  projectId: 'proj_abc123',
  movie: {
    width: 1920,
    height: 1080,
    fps: 30,
    scenes: [
      {
        id: 'scene_1',
        duration: 5,
        bgColor: '#1a1a2e',
        layers: [
          { id: 'headline', type: 'text', text: 'Hello from the API', startTime: 0, duration: 5, zIndex: 1, position: { x: 360, y: 460 }, size: { width: 1200, height: 160 }, fontSize: 80, fontWeight: 'bold', color: '#ffffff', textAlign: 'center' },
        ],
      },
    ],
  },
};
