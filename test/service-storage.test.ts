// `serve --storage s3://bucket/prefix`: outputs go into an S3-compatible bucket (s3rver on
// loopback) and outputUrl is a presigned link to them that plain HTTP fetches; a bucket that
// is not there stops the start with exit 2, naming it.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { cli, probe, s3Server, tempDir } from './helpers.ts';
import { api, dataFolder, serve, waitForJob } from './service-helpers.ts';

test('outputs go to the bucket under the prefix, and outputUrl is a presigned link to a playable MP4', async () => {
  const s3 = await s3Server();
  const env = { ...s3.settings, STORAGE_URL: `s3://${s3.bucket}/renders` };
  const data = await dataFolder();
  const server = await serve(data.dir, { env });
  const res = await api(server.url, data.key, '/v1/render/jobs', {
    method: 'POST',
    json: {
      kind: 'movie',
      projectId: 'proj_abc123',
      movie: { width: 160, height: 90, fps: 25, scenes: [{ id: 's', duration: 0.8, bgColor: '#00ff00', layers: [] }] },
    },
  });
  assert.equal(res.status, 202);
  const { jobId } = (await res.json()) as { jobId: string };
  const job = await waitForJob(server.url, data.key, jobId);
  assert.equal(job.status, 'done', JSON.stringify(job.error));
  const link = new URL(job.outputUrl as string);
  assert.equal(link.origin, s3.endpoint);
  assert.equal(link.pathname, `/${s3.bucket}/renders/outputs/${jobId}/output.mp4`);
  assert.ok(link.searchParams.has('X-Amz-Signature'), 'a presigned link');
  assert.ok(
    s3.requests.some((r) => r.startsWith(`PUT /${s3.bucket}/renders/outputs/${jobId}/output.mp4`)),
    s3.requests.join('\n'),
  );
  const download = await fetch(link);
  assert.equal(download.status, 200);
  const file = join(await tempDir(), 'out.mp4');
  await writeFile(file, Buffer.from(await download.arrayBuffer()));
  assert.equal((await probe(file)).video.nb_read_frames, '20');
});

test('a bucket that does not exist stops the start with exit 2, naming it; nothing listens', async () => {
  const s3 = await s3Server();
  const data = await dataFolder();
  const started = await cli(['serve', '--data', data.dir, '--port', '0', '--storage', 's3://no-such-bucket/x'], {
    env: s3.settings,
    timeoutMs: 30_000,
  });
  assert.equal(started.code, 2, started.stderr);
  assert.match(started.stderr, /--storage s3:\/\/no-such-bucket\/x: .*no-such-bucket/);
});
