// Secrets at rest and in logs: after a real `reelsmith serve --log` has run a job with media
// and a callback, every folder in its data folder is 0700 and every file 0600 (an older
// release's readable folder included); the access log never holds a signed URL's query;
// /metrics answers only the metrics token when one is set.
import assert from 'node:assert/strict';
import { chmod, readdir, lstat } from 'node:fs/promises';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { loggedUrl } from '../src/api/access-log.ts';
import { api, dataFolder, exampleAssets, serve, startService, waitForJob } from './service-helpers.ts';

/** Every folder and file under `dir` (itself included, as '.') with its permission bits in octal. */
async function modes(dir: string): Promise<Array<{ path: string; mode: string; folder: boolean }>> {
  const paths = ['.', ...(await readdir(dir, { recursive: true })).map(String)];
  return Promise.all(
    paths.map(async (path) => {
      const info = await lstat(join(dir, path));
      return { path, mode: (info.mode & 0o777).toString(8), folder: info.isDirectory() };
    }),
  );
}

test('loggedUrl drops the query of signed file URLs only', () => {
  assert.equal(
    loggedUrl('/v1/files/outputs/job_1/output.mp4?expires=1700000000&signature=abc'),
    '/v1/files/outputs/job_1/output.mp4?(redacted)',
  );
  assert.equal(loggedUrl('/v1/files/outputs/job_1/output.mp4'), '/v1/files/outputs/job_1/output.mp4');
  assert.equal(loggedUrl('/v1/jobs?limit=5'), '/v1/jobs?limit=5');
});

test("a used data folder is 0700 folders and 0600 files (an older release's 0755/0644 fixed at start); the access log has no signed query; metrics need the token", async () => {
  const assets = await exampleAssets();
  const data = await dataFolder();
  // as the previous release left it: readable by everyone
  for (const { path, folder } of await modes(data.dir)) await chmod(join(data.dir, path), folder ? 0o755 : 0o644);

  const deliveries: string[] = [];
  const receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c));
    req.on('end', () => {
      deliveries.push((JSON.parse(body) as { status: string }).status);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  after(() => new Promise<void>((r) => receiver.close(() => r())));
  const callbackUrl = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hook`;

  const server = await serve(data.dir, { args: ['--log'], env: { REELSMITH_METRICS_TOKEN: 'metrics-secret' } });
  const body = {
    kind: 'movie',
    projectId: 'proj_abc123',
    callbackUrl,
    movie: {
      width: 320,
      height: 240,
      fps: 30,
      scenes: [
        {
          id: 's',
          duration: 1,
          layers: [
            {
              id: 'logo',
              type: 'image',
              source: `${assets.url}/brand/logo-white.png`,
              position: { x: 10, y: 10 },
              size: { width: 200, height: 60 },
            },
          ],
        },
      ],
    },
  };
  const res = await api(server.url, data.key, '/v1/render/jobs', { method: 'POST', json: body });
  assert.equal(res.status, 202);
  const job = await waitForJob(server.url, data.key, ((await res.json()) as { jobId: string }).jobId);
  assert.equal(job.status, 'done', JSON.stringify(job.error));
  assert.equal((await fetch(job.outputUrl)).status, 200);
  const deadline = Date.now() + 20_000;
  while (!deliveries.includes('done')) {
    assert.ok(Date.now() < deadline, `the callback got no done event (${deliveries})`);
    await sleep(50);
  }

  const found = await modes(data.dir);
  const paths = found.map((f) => f.path);
  for (const name of [
    'reelsmith.db',
    'reelsmith.db-wal',
    'reelsmith.db-shm',
    'secret',
    'reelsmith.lock',
    'reelsmith.pid',
  ])
    assert.ok(paths.includes(name), `${name} is in ${paths}`);
  for (const folder of ['sources/', 'scene-cache/proj_abc123/', 'storage/outputs/'])
    assert.ok(
      paths.some((p) => p.startsWith(folder)),
      `files under ${folder}: ${paths}`,
    );
  assert.deepEqual(
    found.filter((f) => f.mode !== (f.folder ? '700' : '600')),
    [],
    'every folder 0700, every file 0600',
  );

  // the access log saw the file request, without its query
  assert.match(server.output(), /\/v1\/files\/outputs\/job_\w+\/output\.mp4\?\(redacted\)/);
  assert.doesNotMatch(server.output(), /signature=/);

  // REELSMITH_METRICS_TOKEN: only the bearer of the token reads the metrics
  const noToken = await fetch(`${server.url}/metrics`);
  assert.equal(noToken.status, 401);
  assert.equal(((await noToken.json()) as { error: { code: string } }).error.code, 'UNAUTHORIZED');
  const withToken = await fetch(`${server.url}/metrics`, { headers: { authorization: 'Bearer metrics-secret' } });
  assert.equal(withToken.status, 200);
  assert.match(await withToken.text(), /reelsmith_jobs\{status="done"\} 1/);
});

test('metrics: open without a token; with one, 401 in the API error shape for a missing or wrong token', async () => {
  const open = await startService();
  assert.equal((await fetch(`${open.url}/metrics`)).status, 200);

  const locked = await startService({ metricsToken: 't0ken' });
  for (const authorization of [undefined, 'Bearer wrong', 't0ken', 'Basic dDBrZW4=', 'Bearer t0ken0']) {
    const res = await fetch(`${locked.url}/metrics`, { headers: authorization ? { authorization } : {} });
    assert.equal(res.status, 401, `Authorization: ${authorization}`);
    assert.equal(res.headers.get('www-authenticate'), 'Bearer');
    const body = (await res.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'UNAUTHORIZED');
    assert.match(body.error.message, /Authorization: Bearer/);
  }
  const res = await fetch(`${locked.url}/metrics`, { headers: { authorization: 'Bearer t0ken' } });
  assert.equal(res.status, 200);
  assert.match(await res.text(), /reelsmith_http_requests_total/);
});
