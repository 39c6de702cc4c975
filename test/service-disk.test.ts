// A full disk, for real: the data folder is a small tmpfs (we run as root, CI too) filled
// with a ballast file. A submit then answers 507 INSUFFICIENT_STORAGE and stores nothing; a job
// rendering when the disk fills fails cleanly and returns its minutes; a job's end that cannot
// be written is written once there is room again, by the same running server.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, writeSync } from 'node:fs';
import { mkdtemp, readdir, rm, statfs } from 'node:fs/promises';
import { createServer, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { isDiskFull } from '../src/media/index.ts';
import { retryDelayMs, untilStored } from '../src/jobs/store-retry.ts';
import { FfmpegError } from '../src/media/index.ts';
import {
  api,
  dataFolder,
  exampleAssets,
  footageMovie,
  seedMinimalBody,
  serve,
  startService,
  waitForJob,
  waitUntil,
} from './service-helpers.ts';

/** A tmpfs of `mib` MiB mounted on a new temp folder, unmounted when the file's tests end. */
async function mountTmpfs(mib: number): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'reelsmith-tmpfs-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${mib}m,mode=0700`, 'tmpfs', dir]);
  after(async () => {
    execFileSync('umount', ['-l', dir]);
    await rm(dir, { recursive: true, force: true });
  });
  return dir;
}

const cannotMount = await mountTmpfs(1).then(
  () => false,
  (err: Error) => `cannot mount a tmpfs here (${err.message.split('\n')[0]}): these tests need root`,
);

/** Writes a file into `dir` until the disk is full; returns it (remove it to free the space). */
async function fillDisk(dir: string): Promise<string> {
  const path = join(dir, 'ballast');
  const fd = openSync(path, 'a');
  try {
    for (const size of [1024 * 1024, 4096, 1]) {
      const chunk = Buffer.alloc(size, 1);
      try {
        for (;;) writeSync(fd, chunk);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
      }
    }
  } finally {
    closeSync(fd);
  }
  assert.equal((await statfs(dir)).bavail, 0, 'the disk is full');
  return path;
}

async function usage(base: string, key: string) {
  const body = (await (await api(base, key, '/v1/usage')).json()) as {
    month: { minutes: number };
    activeJobs: { count: number };
  };
  return { minutes: body.month.minutes, activeJobs: body.activeJobs.count };
}

async function jobIds(base: string, key: string): Promise<string[]> {
  const { jobs } = (await (await api(base, key, '/v1/jobs?limit=100')).json()) as { jobs: Array<{ jobId: string }> };
  return jobs.map((j) => j.jobId);
}

async function expect507(res: Response) {
  const body = (await res.json()) as { error: { code: string; message: string } };
  assert.equal(res.status, 507, JSON.stringify(body));
  assert.equal(body.error.code, 'INSUFFICIENT_STORAGE');
  assert.match(body.error.message, /out of disk space.*nothing was saved/);
}

const mib = 1024 * 1024;

test('isDiskFull: ENOSPC, SQLITE_FULL, ffmpeg\'s "No space left on device", also as a cause; nothing else', () => {
  const coded = (code: string, message = 'x') => Object.assign(new Error(message), { code });
  assert.equal(isDiskFull(coded('ENOSPC', 'ENOSPC: no space left on device, write')), true);
  assert.equal(isDiskFull(coded('EDQUOT')), true);
  assert.equal(isDiskFull(coded('SQLITE_FULL', 'database or disk is full')), true);
  assert.equal(
    isDiskFull(
      new FfmpegError(
        'ffmpeg exited with 1: Conversion failed!',
        'av_interleaved_write_frame(): No space left on device\nConversion failed!',
      ),
    ),
    true,
  );
  assert.equal(isDiskFull(new Error('render failed', { cause: coded('ENOSPC') })), true);
  assert.equal(isDiskFull(coded('SQLITE_ERROR', 'cannot rollback - no transaction is active')), false);
  assert.equal(
    isDiskFull(
      new FfmpegError(
        'ffmpeg exited with 1: Invalid data found when processing input',
        'Invalid data found when processing input',
      ),
    ),
    false,
  );
  assert.equal(isDiskFull('No space left on device'), false, 'only errors');
});

test('a store write is retried after 250 ms, 500 ms, ... at most 10 s apart, and no more once stopped', async () => {
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 10].map(retryDelayMs), [250, 500, 1000, 2000, 4000, 8000, 10_000, 10_000]);
  let tries = 0;
  const waits: number[] = [];
  const flaky = async () => {
    if (++tries < 3) throw new Error(`full ${tries}`);
    return 'written';
  };
  assert.equal(await untilStored(flaky, new AbortController().signal, (_err, ms) => waits.push(ms)), 'written');
  assert.deepEqual(waits, [250, 500]);
  const stopped = AbortSignal.abort();
  await assert.rejects(
    untilStored(
      () => Promise.reject(new Error('still full')),
      stopped,
      () => assert.fail('no wait once stopped'),
    ),
    /still full/,
  );
});

test('a submit while the disk has less free than the minimum: 507 INSUFFICIENT_STORAGE, nothing stored or reserved', {
  skip: cannotMount,
}, async () => {
  const dir = await mountTmpfs(32);
  const svc = await startService({ dataDir: dir, minFreeBytes: 64 * mib });
  const t = await svc.tenant('pro', 'proj_abc123');
  await expect507(await api(svc.url, t.key, '/v1/render/jobs', { method: 'POST', json: seedMinimalBody }));
  assert.deepEqual(await jobIds(svc.url, t.key), []);
  assert.deepEqual(await usage(svc.url, t.key), { minutes: 0, activeJobs: 0 });
});

test('a submit at 0 bytes free (the store write fails): 507, nothing half-written; with room again the same server takes and renders a job', {
  skip: cannotMount,
}, async () => {
  const dir = await mountTmpfs(48);
  const svc = await startService({ dataDir: dir, minFreeBytes: 0 });
  const t = await svc.tenant('pro', 'proj_abc123');
  const ballast = await fillDisk(dir);
  await expect507(await api(svc.url, t.key, '/v1/render/jobs', { method: 'POST', json: seedMinimalBody }));
  assert.deepEqual(await jobIds(svc.url, t.key), []);
  assert.deepEqual(await usage(svc.url, t.key), { minutes: 0, activeJobs: 0 });

  await rm(ballast);
  const res = await api(svc.url, t.key, '/v1/render/jobs', { method: 'POST', json: seedMinimalBody });
  assert.equal(res.status, 202);
  const { jobId } = (await res.json()) as { jobId: string };
  const job = await waitForJob(svc.url, t.key, jobId, 120_000);
  assert.equal(job.status, 'done', JSON.stringify(job.error));
  assert.deepEqual(await jobIds(svc.url, t.key), [jobId]);
});

test('the disk fills while a job renders: failed INSUFFICIENT_STORAGE, minutes returned, not active, its work removed', {
  skip: cannotMount,
}, async () => {
  const assets = await exampleAssets();
  const dir = await mountTmpfs(96);
  const svc = await startService({ dataDir: dir, minFreeBytes: mib });
  const t = await svc.tenant('pro', 'proj_abc123');
  const res = await api(svc.url, t.key, '/v1/render/jobs', {
    method: 'POST',
    json: footageMovie(`${assets.url}/footage/city.mp4`, 'full', 4, 2.5),
  });
  assert.equal(res.status, 202);
  const { jobId } = (await res.json()) as { jobId: string };
  await waitUntil(
    svc.url,
    t.key,
    jobId,
    (j) => j.phase === 'rendering' && j.scenes.some((s: { state: string }) => s.state === 'rendering'),
    'rendering',
    60_000,
  );
  assert.deepEqual(await usage(svc.url, t.key), { minutes: 0.167, activeJobs: 1 }, 'the running job holds 10 s');

  const ballast = await fillDisk(dir);
  // the job fails on its own; if even its end cannot be written, its work folder is gone by then and space comes back
  const workDir = join(dir, 'work', jobId);
  for (;;) {
    const job = (await (await api(svc.url, t.key, `/v1/jobs/${jobId}`)).json()) as { status: string };
    if (job.status === 'failed' || !(await readdir(join(dir, 'work')).then((names) => names.includes(jobId)))) break;
    await sleep(100);
  }
  await rm(ballast);
  const job = await waitForJob(svc.url, t.key, jobId, 60_000);
  assert.equal(job.status, 'failed');
  assert.equal(job.error.code, 'INSUFFICIENT_STORAGE');
  assert.match(job.error.message, /ran out of disk space/);
  assert.doesNotMatch(job.error.message, new RegExp(dir), 'no server path in the message');
  assert.deepEqual(
    await usage(svc.url, t.key),
    { minutes: 0, activeJobs: 0 },
    'its minutes are returned and it is no longer active',
  );
  assert.deepEqual(await readdir(join(dir, 'work')), [], `its work folder ${workDir} is removed`);
  const cached = await readdir(join(dir, 'scene-cache', 'proj_abc123')).catch(() => [] as string[]);
  assert.deepEqual(
    cached.filter((n) => n.startsWith('.tmp-')),
    [],
    'no half-rendered scene workspace is left',
  );

  // the server goes on: a new job renders
  const next = await api(svc.url, t.key, '/v1/render/jobs', { method: 'POST', json: seedMinimalBody });
  assert.equal(next.status, 202);
  const done = await waitForJob(svc.url, t.key, ((await next.json()) as { jobId: string }).jobId, 120_000);
  assert.equal(done.status, 'done', JSON.stringify(done.error));
});

test("a job's end that cannot be written (disk full) is written by the same server once there is room", {
  skip: cannotMount,
}, async () => {
  const dir = await mountTmpfs(48);
  const data = await dataFolder(dir);
  // a media server that holds the source request until the disk is full, then answers 404
  let answer: ((res: ServerResponse) => void) | undefined;
  const held = new Promise<ServerResponse>((resolve) => (answer = resolve));
  const media = createServer((_req, res) => answer!(res));
  await new Promise<void>((r) => media.listen(0, '127.0.0.1', r));
  after(() => new Promise<void>((r) => media.close(() => r())));
  const source = `http://127.0.0.1:${(media.address() as { port: number }).port}/logo.png`;

  const server = await serve(data.dir, { args: ['--min-free-disk', '0'] });
  const body = {
    kind: 'movie',
    projectId: 'proj_abc123',
    movie: {
      width: 320,
      height: 240,
      fps: 30,
      scenes: [
        {
          id: 's',
          duration: 1,
          layers: [{ id: 'logo', type: 'image', source, position: { x: 0, y: 0 }, size: { width: 320, height: 240 } }],
        },
      ],
    },
  };
  const res = await api(server.url, data.key, '/v1/render/jobs', { method: 'POST', json: body });
  assert.equal(res.status, 202);
  const { jobId } = (await res.json()) as { jobId: string };
  const request = await held;
  const ballast = await fillDisk(dir);
  request.writeHead(404).end('not found');

  // the log (JSON lines on stderr) says so, with the real error, not "cannot rollback"
  const failedWrites = () =>
    server
      .output()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((r) => r.jobId === jobId && r.msg === 'cannot record its end; trying again');
  const deadline = Date.now() + 30_000;
  while (failedWrites().length === 0) {
    assert.ok(Date.now() < deadline, `no failed write of the job's end:\n${server.output()}`);
    await sleep(100);
  }
  assert.equal(failedWrites()[0].error, 'database or disk is full');
  await rm(ballast);
  const job = await waitForJob(server.url, data.key, jobId, 30_000);
  assert.equal(job.status, 'failed');
  assert.equal(job.error.code, 'SOURCE_UNAVAILABLE', 'the job ends with its own error');
  assert.deepEqual(await usage(server.url, data.key), { minutes: 0, activeJobs: 0 });
});
