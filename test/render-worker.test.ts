// A distributed worker keeps taking jobs: one that is busy when a job is queued (or when it
// looks for work) claims that job once its own run ends; its log names it and says how long
// each job took. Real Postgres, S3 server, HTTP.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import pino from 'pino';
import { RenderWorker } from '../src/jobs/index.ts';
import { postgresSchema, s3Server, s3Storage, tempDir } from './helpers.ts';
import { api, startService, textMovie, waitForJob, waitUntil } from './service-helpers.ts';

test('a worker with one slot, busy when the next job is queued, renders that job after its own; it logs each end with its seconds', async () => {
  const [{ url: database }, s3] = await Promise.all([postgresSchema(), s3Server()]);
  const storage = s3Storage(`s3://${s3.bucket}/reelsmith`, s3.settings);
  const { url, tenant } = await startService({ database, storage });
  const { key, projectId } = await tenant('unlimited');
  const records: Array<Record<string, unknown>> = [];
  const worker = await RenderWorker.open({
    logger: pino({ level: 'info' }, { write: (line: string) => records.push(JSON.parse(line)) }),
    name: 'worker-a',
    database,
    storage,
    workDir: await tempDir('reelsmith-worker-'),
    concurrency: 1,
    cores: 1,
  });
  try {
    await worker.start();
    const submit = async (tag: string, scenes: number) => {
      const res = await api(url, key, '/v1/render/jobs', {
        method: 'POST',
        json: textMovie(projectId, tag, scenes),
      });
      assert.equal(res.status, 202);
      return ((await res.json()) as { jobId: string }).jobId;
    };
    const first = await submit('first', 12);
    await waitUntil(url, key, first, (job) => job.status === 'running', 'the first job running');
    const second = await submit('second', 1);
    assert.equal((await waitForJob(url, key, first)).status, 'done');
    assert.equal((await waitForJob(url, key, second, 30_000)).status, 'done');
    const ends = records.filter((r) => r.msg === 'job done');
    assert.deepEqual(
      ends.map((r) => [r.jobId, r.worker]).sort(),
      [
        [first, 'worker-a'],
        [second, 'worker-a'],
      ].sort(),
    );
    for (const end of ends) assert.ok(Number(end.seconds) > 0, `how long it took: ${JSON.stringify(end)}`);
  } finally {
    await worker.close();
  }
});
