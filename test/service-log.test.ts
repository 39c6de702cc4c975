// The service's log: what an operator follows, from a real `serve` (JSON lines on stderr by
// default), and the pure pieces (a stored event to its log line, a record as text).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { textLine } from '../src/cli/logger.ts';
import type { JobEvent } from '../src/jobs/database.ts';
import { logLineOf } from '../src/jobs/job-log.ts';
import { api, dataFolder, serve, waitForJob } from './service-helpers.ts';

const event = (type: string, data: unknown): JobEvent => ({
  id: 1,
  job_id: 'job_1',
  type,
  data: JSON.stringify(data),
  created_at: '2026-11-27T00:00:00Z',
});

test('a stored event as its log line: each phase, the end with its code and seconds, never a progress tick', () => {
  assert.deepEqual(logLineOf(event('phase', { phase: 'rendering' })), {
    level: 'info',
    msg: 'job phase',
    fields: { jobId: 'job_1', phase: 'rendering' },
  });
  assert.deepEqual(logLineOf(event('failed', { error: { code: 'SOURCE_UNAVAILABLE' } }), 4.25), {
    level: 'warn',
    msg: 'job failed',
    fields: { jobId: 'job_1', code: 'SOURCE_UNAVAILABLE', seconds: 4.25 },
  });
  assert.deepEqual(logLineOf(event('done', {}), 1.23456), {
    level: 'info',
    msg: 'job done',
    fields: { jobId: 'job_1', seconds: 1.235 },
  });
  assert.equal(logLineOf(event('progress', { progress: 0.5 })), undefined);
});

test('a record as text: time, level, message, then its fields', () => {
  const line = textLine(
    JSON.stringify({
      level: 30,
      time: Date.UTC(2026, 10, 27, 12, 0, 1, 234),
      msg: 'job done',
      jobId: 'job_1',
      seconds: 4.2,
    }),
  );
  assert.equal(line, '12:00:01.234 INFO job done jobId=job_1 seconds=4.2');
});

test('`serve` logs a job from submit to done as JSON lines on stderr: submitted, started, each phase, done with its seconds', async () => {
  const data = await dataFolder();
  const server = await serve(data.dir);
  const res = await api(server.url, data.key, '/v1/render/jobs', {
    method: 'POST',
    json: {
      kind: 'movie',
      projectId: 'proj_abc123',
      movie: { width: 160, height: 90, fps: 25, scenes: [{ id: 's', duration: 0.4, bgColor: '#ff0000', layers: [] }] },
    },
  });
  assert.equal(res.status, 202);
  const { jobId } = (await res.json()) as { jobId: string };
  await waitForJob(server.url, data.key, jobId);
  const records = server
    .output()
    .split('\n')
    .filter((line) => line.startsWith('{"level"'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((r) => r.jobId === jobId);
  const told = records.map((r) => (r.msg === 'job phase' ? `phase ${r.phase}` : r.msg));
  assert.deepEqual(told.slice(0, 2), ['job submitted', 'job started']);
  assert.ok(told.includes('phase rendering') && told.includes('phase uploading'), told.join(', '));
  assert.equal(told.at(-1), 'job done');
  assert.ok(Number(records.at(-1)!.seconds) > 0, 'the end says how long the job took');
});
