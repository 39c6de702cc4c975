// One server per data folder, and a server that cannot listen touches nothing: real
// `reelsmith serve` child processes. A second server on a folder in use exits 2 naming the
// folder and the holder's pid while the first renders on; a SIGKILLed server's lock is taken
// over at once; admin commands work beside a running server; a server whose port is taken
// exits before it locks, sweeps, recovers or renders anything; a job submitted while the
// server recovers waits for the recovery.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { listFiles, tempDir } from './helpers.ts';
import {
  api,
  cli,
  dataFolder,
  exampleAssets,
  footageMovie,
  seedMinimalBody,
  serve,
  spawnServe,
  startService,
  waitForJob,
  waitUntil,
} from './service-helpers.ts';

const assets = await exampleAssets();

/** Submits a few seconds of footage and waits until it renders. */
async function renderingJob(base: string, key: string, tag: string): Promise<string> {
  const res = await api(base, key, '/v1/render/jobs', {
    method: 'POST',
    json: footageMovie(`${assets.url}/footage/city.mp4`, tag, 3, 2),
  });
  assert.equal(res.status, 202);
  const { jobId } = (await res.json()) as { jobId: string };
  await waitUntil(base, key, jobId, (j) => j.phase === 'rendering', 'rendering', 60_000);
  return jobId;
}

test('a second serve on a data folder in use exits 2 naming the folder and the pid; the first renders on; admin commands still work', async () => {
  const data = await dataFolder();
  const first = await serve(data.dir);
  const jobId = await renderingJob(first.url, data.key, 'lock');

  const second = await spawnServe(data.dir);
  const exit = await second.exited;
  assert.deepEqual(exit, { code: 2, signal: null }, second.output());
  assert.match(
    second.output(),
    new RegExp(`data folder ${data.dir} is in use by another Reelsmith server \\(pid ${first.child.pid}\\)`),
  );
  assert.doesNotMatch(second.output(), /listening/);

  // an admin command beside the running server: its key works on that server at once
  const key = await cli(['keys', 'create', '--account', data.accountId, '--data', data.dir, '--json']);
  assert.equal((await api(first.url, key.key, '/v1/usage')).status, 200);

  const job = await waitForJob(first.url, data.key, jobId, 120_000);
  assert.equal(job.status, 'done', JSON.stringify(job.error));

  // a killed server's lock dies with it: the next start takes the folder at once
  first.child.kill('SIGKILL');
  await first.exited;
  const again = await serve(data.dir);
  assert.equal((await api(again.url, data.key, '/v1/usage')).status, 200);
});

test('a serve whose port is taken exits non-zero and leaves no trace; the server on that port renders its job to done', async () => {
  const data = await dataFolder();
  const first = await serve(data.dir);
  const jobId = await renderingJob(first.url, data.key, 'port');
  const port = Number(new URL(first.url).port);

  // a new folder is not even made
  const fresh = join(await tempDir(), 'data');
  const onFresh = await spawnServe(fresh, { port });
  assert.deepEqual(await onFresh.exited, { code: 2, signal: null }, onFresh.output());
  assert.match(onFresh.output(), new RegExp(`port ${port} on 127.0.0.1 is in use`));
  await assert.rejects(stat(fresh), { code: 'ENOENT' });

  // a folder that a killed server left with leftovers keeps them all: no sweep, no recovery, no new file
  const other = await dataFolder();
  await mkdir(join(other.dir, 'work', 'job_left'), { recursive: true });
  await writeFile(join(other.dir, 'work', 'job_left', 'audio.m4a'), 'half');
  await mkdir(join(other.dir, 'scene-cache', 'proj_abc123', '.tmp-left'), { recursive: true });
  const before = await listFiles(other.dir);
  const onOther = await spawnServe(other.dir, { port });
  assert.deepEqual(await onOther.exited, { code: 2, signal: null }, onOther.output());
  assert.deepEqual(await listFiles(other.dir), before);

  const job = await waitForJob(first.url, data.key, jobId, 120_000);
  assert.equal(job.status, 'done', JSON.stringify(job.error));
});

test('a job submitted after listen but before recovery has finished waits for it (never started, never swept), then renders', async () => {
  const svc = await startService({ recover: false });
  const t = await svc.tenant('pro', 'proj_abc123');
  const res = await api(svc.url, t.key, '/v1/render/jobs', { method: 'POST', json: seedMinimalBody });
  assert.equal(res.status, 202);
  const { jobId } = (await res.json()) as { jobId: string };
  // a started job is planning within moments; this one stays queued with nothing on disk
  await sleep(1500);
  const waiting = (await (await api(svc.url, t.key, `/v1/jobs/${jobId}`)).json()) as { status: string; phase: string };
  assert.deepEqual([waiting.status, waiting.phase], ['queued', 'queued']);
  assert.equal(existsSync(join(svc.dataDir, 'work', jobId)), false);

  assert.equal(await svc.service.recover(), 1, 'recovery picks the waiting job up');
  const job = await waitForJob(svc.url, t.key, jobId, 120_000);
  assert.equal(job.status, 'done', JSON.stringify(job.error));
});
