// The service's log: what an operator follows, from a real `serve` (JSON lines on stderr by
// default: a job's life, its webhooks, a cancel; LOG_LEVEL), and the pure pieces (a stored
// event to its log line, a record as text).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { textLine } from '../src/cli/logger.ts';
import type { JobEvent } from '../src/jobs/database.ts';
import { logLineOf } from '../src/jobs/job-log.ts';
import { webhookReceiver } from './helpers.ts';
import { api, dataFolder, type ServeChild, serve, waitForJob, waitUntil } from './service-helpers.ts';

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

/** A red movie of `seconds`, 160x90. */
function redMovie(seconds: number, callbackUrl?: string) {
  return {
    kind: 'movie',
    projectId: 'proj_abc123',
    ...(callbackUrl && { callbackUrl }),
    movie: {
      width: 160,
      height: 90,
      fps: 25,
      scenes: [{ id: 's', duration: seconds, bgColor: '#ff0000', layers: [] }],
    },
  };
}

async function submit(server: ServeChild, key: string, body: unknown): Promise<string> {
  const res = await api(server.url, key, '/v1/render/jobs', { method: 'POST', json: body });
  assert.equal(res.status, 202);
  return ((await res.json()) as { jobId: string }).jobId;
}

/** The JSON records `serve` logged so far about a job (all of them, without `jobId`). */
function recordsOf(server: ServeChild, jobId?: string): Array<Record<string, unknown>> {
  return server
    .output()
    .split('\n')
    .filter((line) => line.startsWith('{"level"'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((r) => jobId === undefined || r.jobId === jobId);
}

test('`serve` logs a job from submit to done as JSON lines on stderr: submitted, started, each phase, done with its seconds; its webhook delivered; a cancel', async () => {
  const data = await dataFolder();
  const server = await serve(data.dir);
  const hook = await webhookReceiver(data.webhookSecret);
  const jobId = await submit(server, data.key, redMovie(0.4, `${hook.url}/hook`));
  await waitForJob(server.url, data.key, jobId);
  const records = recordsOf(server, jobId);
  const told = records.map((r) => (r.msg === 'job phase' ? `phase ${r.phase}` : r.msg));
  assert.deepEqual(told.slice(0, 2), ['job submitted', 'job started']);
  assert.ok(told.includes('phase rendering') && told.includes('phase uploading'), told.join(', '));
  const end = records.find((r) => r.msg === 'job done');
  assert.ok(end && Number(end.seconds) > 0, 'the end says how long the job took');
  // the webhook of each event, the final one included: delivered, and logged so
  const deadline = Date.now() + 10_000;
  const logged = () => recordsOf(server, jobId).filter((r) => r.msg === 'webhook delivered' && r.status === 200);
  while (!hook.deliveries.some((d) => d.body.status === 'done') || logged().length < hook.deliveries.length) {
    assert.ok(Date.now() < deadline, `each delivery logged: ${JSON.stringify(recordsOf(server, jobId))}`);
    await new Promise((r) => setTimeout(r, 100));
  }

  const long = await submit(server, data.key, redMovie(60));
  await waitUntil(server.url, data.key, long, (j) => j.status === 'running', 'running');
  assert.equal((await api(server.url, data.key, `/v1/jobs/${long}/cancel`, { method: 'POST' })).status, 200);
  // the log is another pipe than the answer: it may come a moment later
  const until = Date.now() + 10_000;
  let cancelled: Record<string, unknown> | undefined;
  while (!(cancelled = recordsOf(server, long).find((r) => r.msg === 'job cancelled')) && Date.now() < until)
    await new Promise((r) => setTimeout(r, 100));
  assert.ok(cancelled && Number(cancelled.seconds) > 0, JSON.stringify(recordsOf(server, long)));
});

test('LOG_LEVEL=warn (the variable): a failed job is logged with its code, and nothing at info', async () => {
  const data = await dataFolder();
  const server = await serve(data.dir, { env: { LOG_LEVEL: 'warn' } });
  const body = redMovie(0.4);
  body.movie.scenes[0].layers = [{ id: 'gone', type: 'image', source: 'http://127.0.0.1:9/gone.png' }] as never;
  const jobId = await submit(server, data.key, body);
  assert.equal((await waitForJob(server.url, data.key, jobId)).status, 'failed');
  const records = recordsOf(server);
  assert.deepEqual(
    records.filter((r) => r.jobId === jobId).map((r) => [r.msg, r.code]),
    [['job failed', 'SOURCE_UNAVAILABLE']],
  );
  assert.deepEqual(
    records.filter((r) => Number(r.level) < 40),
    [],
    'nothing below warn',
  );
});
