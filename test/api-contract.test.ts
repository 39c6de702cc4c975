// The HTTP contract of ../shared/seed/render-api.md, over real HTTP against the real service:
// every error code of the seed's table from exactly the condition it names, the job's life as
// GET /v1/jobs/{id} shows it, signed output URLs, idempotency, quota reservation under
// parallel submits, cancellation, listing, the docs and health endpoints, and fuzzed bodies
// that must always get a 4xx error in the one error shape (or a 202), never a 5xx.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import type { Plans } from '../src/api/plans.ts';
import { ffmpegChildren, media, mediaServer, probe, tempDir } from './helpers.ts';
import {
  api,
  assertErrorShape,
  linkLifetime,
  seedMinimalBody,
  startService,
  TEST_MODE,
  testPlans,
  waitForJob,
} from './service-helpers.ts';

type Json = Record<string, any>;

// ---------------------------------------------------------------------------------------
// One service for the whole file, on the configured plans plus a few made for the tests.

const base = testPlans();
const plans: Plans = {
  ...base,
  /** 1 render minute a month, no concurrency cap: the monthly quota is the only limit in play. */
  'tiny-month': { ...base.pro, name: 'Tiny month', monthlyMinutes: 1, dailyMinutes: null, concurrentJobs: null },
  /** Exactly ten 6 s jobs fit in the month; many requests a minute, no concurrency cap. */
  edge: {
    ...base.pro,
    name: 'Edge',
    monthlyMinutes: 1,
    dailyMinutes: null,
    concurrentJobs: null,
    requestsPerMinute: 10_000,
  },
  /** Three requests a minute. */
  'rate-3': { ...base.pro, name: 'Rate 3', requestsPerMinute: 3 },
  /** Roomy: no concurrency cap, for listing many jobs. */
  roomy: { ...base.unlimited, name: 'Roomy' },
};

const dir = await tempDir('reelsmith-api-contract-');
const files = await mediaServer(dir);
await media.video(join(dir, 'clip.mp4'), 'green', 320, 180, 20, { silent: true });
const svc = await startService({ plans });
const url = svc.url;

// ---------------------------------------------------------------------------------------
// Movies and requests

/** A 320x180 movie of plain-colour scenes of these durations. */
function colourMovie(durations: number[], options: { width?: number; height?: number; fps?: number } = {}) {
  return {
    width: options.width ?? 320,
    height: options.height ?? 180,
    fps: options.fps ?? 30,
    scenes: durations.map((duration, i) => ({ id: `scene_${i}`, duration, bgColor: i % 2 ? '#204060' : '#602040' })),
  };
}

/** A small captioned movie: two 0.5 s scenes at 320x180. */
function tinyMovie(caption = 'Hello') {
  return {
    width: 320,
    height: 180,
    fps: 30,
    scenes: [
      {
        id: 'intro',
        duration: 0.5,
        bgColor: '#1a1a2e',
        layers: [{ id: 'headline', type: 'text', text: caption, fontSize: 24 }],
      },
      { id: 'outro', duration: 0.5, bgColor: '#0f172a' },
    ],
  };
}

/** A movie that renders for a long time: one 20 s scene with a video layer filling the frame. */
function slowMovie(width = 1920, height = 1080) {
  return {
    width,
    height,
    fps: 30,
    scenes: [
      {
        id: 'long',
        duration: 20,
        layers: [{ id: 'clip', type: 'video', source: `${files.url}/clip.mp4`, mute: true }],
      },
    ],
  };
}

const body = (projectId: string, movie: unknown, extra: Json = {}) => ({ kind: 'movie', projectId, movie, ...extra });

const submit = (key: string, json: unknown, headers: Record<string, string> = {}) =>
  api(url, key, '/v1/render/jobs', { method: 'POST', json, headers });

/** Submits and expects 202; returns the job id. */
async function accepted(key: string, json: unknown, headers: Record<string, string> = {}): Promise<string> {
  const res = await submit(key, json, headers);
  const text = await res.text();
  assert.equal(res.status, 202, text);
  const reply = JSON.parse(text) as Json;
  assert.match(reply.jobId, /^job_[0-9a-f]{12}$/);
  return reply.jobId as string;
}

/** Reads a response that must be this error; returns its `error` object. */
async function expectError(res: Response, status: number, code: string): Promise<Json> {
  const text = await res.text();
  assert.equal(res.status, status, `${res.status} ${text.slice(0, 500)}`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  return assertErrorShape(JSON.parse(text), code);
}

async function getJob(key: string, jobId: string): Promise<Json> {
  const res = await api(url, key, `/v1/jobs/${jobId}`);
  assert.equal(res.status, 200);
  return (await res.json()) as Json;
}

async function usage(key: string): Promise<Json> {
  const res = await api(url, key, '/v1/usage');
  assert.equal(res.status, 200);
  return (await res.json()) as Json;
}

/** Cancels jobs (no effect on finished ones) and waits until each is final. */
async function settle(key: string, jobIds: string[]): Promise<Json[]> {
  await Promise.all(
    jobIds.map(async (id) => assert.equal((await api(url, key, `/v1/jobs/${id}`, { method: 'DELETE' })).status, 200)),
  );
  return Promise.all(jobIds.map((id) => waitForJob(url, key, id, 20_000)));
}

async function until(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) assert.fail(`timed out waiting until ${what}`);
    await sleep(25);
  }
}

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;

// ---------------------------------------------------------------------------------------
// A finished job, made once and shared by the tests that read one.

let doneJob: Promise<{ key: string; projectId: string; jobId: string; job: Json }> | undefined;
function finishedJob() {
  doneJob ??= (async () => {
    const t = await svc.tenant('pro');
    const jobId = await accepted(t.key, body(t.projectId, tinyMovie()));
    const job = await waitForJob(url, t.key, jobId, 30_000);
    assert.equal(job.status, 'done', JSON.stringify(job));
    return { key: t.key, projectId: t.projectId, jobId, job };
  })();
  return doneJob;
}

// ---------------------------------------------------------------------------------------

describe('errors: each code of the seed table, from exactly its condition', () => {
  test('INVALID_MOVIE_JSON 400: details list every problem with its JSON path', async () => {
    const t = await svc.tenant('pro');
    const bad = {
      kind: 'film',
      projectId: t.projectId,
      renderOptions: { qualityPreset: 'warp' },
      movie: {
        width: 320,
        height: 180,
        fps: 30,
        scenes: [
          {
            id: 'a',
            duration: 0,
            bgColor: 'blue-ish',
            layers: [
              { type: 'text', text: 'no id' },
              { id: 'pic', type: 'image' },
            ],
          },
          { id: 'a', duration: 2 },
        ],
      },
    };
    const error = await expectError(await submit(t.key, bad), 400, 'INVALID_MOVIE_JSON');
    assert.ok(Array.isArray(error.details), 'details is a list');
    for (const p of error.details as Json[]) {
      assert.deepEqual(Object.keys(p).sort(), ['message', 'path']);
      assert.equal(typeof p.message, 'string');
      assert.match(p.path, /^(\(body\)|[A-Za-z_]\w*)(\.[A-Za-z_$][\w$]*|\[\d+\])*$/, `path ${p.path}`);
    }
    const byPath = new Map((error.details as Json[]).map((p) => [p.path as string, p.message as string]));
    for (const path of [
      'kind',
      'renderOptions.qualityPreset',
      'movie.scenes[0].duration',
      'movie.scenes[0].bgColor',
      'movie.scenes[0].layers[0].id',
      'movie.scenes[0].layers[1].source',
      'movie.scenes[1].id',
    ]) {
      assert.ok(byPath.has(path), `${path} is reported; got ${JSON.stringify(error.details)}`);
    }
    assert.match(byPath.get('movie.scenes[0].duration')!, /greater than 0/);
    assert.match(byPath.get('movie.scenes[0].layers[0].id')!, /required/);
    assert.match(byPath.get('movie.scenes[0].bgColor')!, /blue-ish/);
    // each problem once
    assert.equal(
      new Set((error.details as Json[]).map((p) => `${p.path}\0${p.message}`)).size,
      (error.details as Json[]).length,
    );

    // a body with no movie at all
    const noMovie = await expectError(
      await submit(t.key, { kind: 'movie', projectId: t.projectId }),
      400,
      'INVALID_MOVIE_JSON',
    );
    assert.deepEqual(noMovie.details, [{ path: 'movie', message: 'is required' }]);
    // not an object
    const list = await expectError(await submit(t.key, [seedMinimalBody]), 400, 'INVALID_MOVIE_JSON');
    assert.deepEqual(list.details, [{ path: '(body)', message: 'must be a JSON object' }]);
    // empty scenes
    const empty = await expectError(await submit(t.key, body(t.projectId, { scenes: [] })), 400, 'INVALID_MOVIE_JSON');
    assert.ok((empty.details as Json[]).some((p) => p.path === 'movie.scenes'));
  });

  test('INVALID_MOVIE_JSON 400 also for a body that is not JSON', async () => {
    const t = await svc.tenant('pro');
    for (const text of ['{"kind": "movie", "projectId": ', 'kind=movie', '{"a":1}}', '']) {
      const res = await api(url, t.key, '/v1/render/jobs', {
        method: 'POST',
        body: text,
        headers: { 'content-type': 'application/json' },
      });
      await expectError(res, 400, 'INVALID_MOVIE_JSON');
    }
  });

  test('PLAN_RESOLUTION_EXCEEDED 400 above 1920x1080 on Pro; 1080x1920 portrait is allowed', async () => {
    const t = await svc.tenant('pro');
    for (const [width, height] of [
      [2560, 1440],
      [1922, 1080],
      [1920, 1082],
      [1080, 1922],
      [3840, 16],
    ]) {
      const error = await expectError(
        await submit(t.key, body(t.projectId, colourMovie([1], { width, height }))),
        400,
        'PLAN_RESOLUTION_EXCEEDED',
      );
      assert.match(error.message, new RegExp(`${width}x${height}`));
      assert.match(error.message, /1920x1080/);
    }
    const portrait = await accepted(t.key, body(t.projectId, colourMovie([1], { width: 1080, height: 1920 })));
    const [job] = await settle(t.key, [portrait]);
    assert.ok(['cancelled', 'done'].includes(job.status));
  });

  test("PLAN_RESOLUTION_EXCEEDED 400 for a layer box over twice the plan's maximum, naming the layer; twice is allowed", async () => {
    const t = await svc.tenant('pro');
    const boxed = (width: number, height: number) => {
      const movie = colourMovie([0.2]);
      const text = { id: 'wall', type: 'text', text: 'x', size: { width, height }, position: { x: -100, y: -100 } };
      return body(t.projectId, { ...movie, scenes: [{ ...movie.scenes[0], layers: [text] }] });
    };
    for (const [width, height] of [
      [16384, 16384],
      [3842, 2160],
      [2160, 3842],
    ]) {
      const error = await expectError(await submit(t.key, boxed(width, height)), 400, 'PLAN_RESOLUTION_EXCEEDED');
      assert.match(
        error.message,
        new RegExp(`layer "wall" \\(movie\\.scenes\\[0\\]\\.layers\\[0\\]\\) is ${width}x${height}`),
      );
      assert.match(error.message, /3840x2160/);
    }
    const [job] = await settle(t.key, [await accepted(t.key, boxed(2160, 3840))]);
    assert.ok(['cancelled', 'done'].includes(job.status));
  });

  test('PLAN_DURATION_EXCEEDED 400 above 10 min in total on Pro; exactly 10 min is allowed', async () => {
    const t = await svc.tenant('pro');
    const error = await expectError(
      await submit(t.key, body(t.projectId, colourMovie([301, 301]))),
      400,
      'PLAN_DURATION_EXCEEDED',
    );
    assert.match(error.message, /602/);
    assert.match(error.message, /10 min/);
    // each scene alone is fine: it is the total that counts
    const tenMinutes = await accepted(t.key, body(t.projectId, colourMovie([300, 300])));
    await settle(t.key, [tenMinutes]);
    assert.equal((await usage(t.key)).month.minutes, 0, 'the cancelled job gave its 10 minutes back');
  });

  test('UNAUTHORIZED 401: missing, empty, wrong and revoked keys', async () => {
    const t = await svc.tenant('pro');
    const valid = body(t.projectId, tinyMovie());
    const revoked = await svc.service.createKey({ accountId: t.accountId });
    assert.ok(await svc.service.revokeKey(revoked.id));
    for (const key of [undefined, '', 'vs_prod_not_a_real_key', `${t.key}x`, revoked.key]) {
      await expectError(await submit(key as string, valid), 401, 'UNAUTHORIZED');
      await expectError(await api(url, key, '/v1/jobs'), 401, 'UNAUTHORIZED');
      await expectError(await api(url, key, '/v1/usage'), 401, 'UNAUTHORIZED');
      await expectError(await api(url, key, '/v1/jobs/job_000000000000'), 401, 'UNAUTHORIZED');
    }
    assert.equal((await api(url, t.key, '/v1/jobs')).status, 200, 'the real key works');
  });

  test('RENDER_QUOTA_EXCEEDED 402 when a job would pass the monthly minutes; cancelling gives them back', async () => {
    const t = await svc.tenant('tiny-month'); // 1 minute a month
    const first = await accepted(t.key, body(t.projectId, colourMovie([50])));
    const error = await expectError(
      await submit(t.key, body(t.projectId, colourMovie([20]))),
      402,
      'RENDER_QUOTA_EXCEEDED',
    );
    assert.match(error.message, /month/);
    const fits = await accepted(t.key, body(t.projectId, colourMovie([10]))); // 50 + 10 = 60 s: exactly the limit
    await expectError(await submit(t.key, body(t.projectId, colourMovie([1]))), 402, 'RENDER_QUOTA_EXCEEDED');
    assert.equal((await usage(t.key)).month.minutes, 1);

    const jobs = await settle(t.key, [first, fits]);
    const kept = jobs.filter((j) => j.status === 'done').reduce((s, j) => s + j.mediaData.duration, 0);
    assert.equal(
      (await usage(t.key)).month.minutes,
      Math.round((kept / 60) * 1000) / 1000,
      'cancelled jobs hold no minutes',
    );
    if (kept === 0) {
      const again = await accepted(t.key, body(t.projectId, colourMovie([20])));
      await settle(t.key, [again]);
    }
  });

  test('RENDER_QUOTA_DAILY_EXCEEDED 402 when a job would pass the 5 daily minutes (Free limits with API access)', async () => {
    const t = await svc.tenant('free-api');
    // alone above the 5 min a day, well within the 30 a month and the 10 per job
    const alone = await expectError(
      await submit(t.key, body(t.projectId, colourMovie([301]))),
      402,
      'RENDER_QUOTA_DAILY_EXCEEDED',
    );
    assert.match(alone.message, /midnight UTC/);
    // 4.5 minutes rendered today (1 fps keeps it cheap), then 31 s more would pass the cap
    const big = await accepted(t.key, body(t.projectId, colourMovie([270], { fps: 1 })));
    const done = await waitForJob(url, t.key, big, 30_000);
    assert.equal(done.status, 'done', JSON.stringify(done.error));
    const day = (await usage(t.key)).day;
    assert.deepEqual([day.minutes, day.limit], [4.5, 5]);
    await expectError(
      await submit(t.key, body(t.projectId, colourMovie([31], { fps: 1 }))),
      402,
      'RENDER_QUOTA_DAILY_EXCEEDED',
    );
    const last = await accepted(t.key, body(t.projectId, colourMovie([30], { fps: 1 }))); // exactly 5 min
    await settle(t.key, [last]);
  });

  test('FORBIDDEN 403: the Free plan has no API access', async () => {
    const t = await svc.tenant('free');
    const error = await expectError(await submit(t.key, body(t.projectId, tinyMovie())), 403, 'FORBIDDEN');
    assert.match(error.message, /Pro/);
    assert.equal((await api(url, t.key, '/v1/usage')).status, 200, 'the key itself is valid');
    assert.deepEqual((await (await api(url, t.key, '/v1/jobs')).json()).jobs, [], 'nothing was queued');
  });

  test('CONCURRENCY_LIMIT_EXCEEDED 409: Free allows one job at a time', async () => {
    const t = await svc.tenant('free-api');
    const running = await accepted(t.key, body(t.projectId, slowMovie(320, 180)));
    const error = await expectError(
      await submit(t.key, body(t.projectId, tinyMovie())),
      409,
      'CONCURRENCY_LIMIT_EXCEEDED',
    );
    assert.match(error.message, /1 job/);
    assert.ok(['queued', 'running'].includes((await getJob(t.key, running)).status));
    assert.equal((await usage(t.key)).activeJobs.count, 1);
    await settle(t.key, [running]);

    // ten at once: exactly one gets the slot
    const burst = await Promise.all(Array.from({ length: 10 }, () => submit(t.key, body(t.projectId, tinyMovie()))));
    const replies = await Promise.all(burst.map(async (r) => ({ status: r.status, json: (await r.json()) as Json })));
    assert.deepEqual(replies.map((r) => r.status).sort(), [202, ...Array(9).fill(409)]);
    for (const r of replies.filter((x) => x.status === 409)) assertErrorShape(r.json, 'CONCURRENCY_LIMIT_EXCEEDED');
    await settle(
      t.key,
      replies.filter((r) => r.status === 202).map((r) => r.json.jobId),
    );
  });

  test("RATE_LIMITED 429 with Retry-After past the plan's requests per minute", async () => {
    const t = await svc.tenant('rate-3');
    const other = await svc.tenant('rate-3');
    for (let i = 0; i < 3; i++) assert.equal((await api(url, t.key, '/v1/usage')).status, 200);
    const res = await api(url, t.key, '/v1/usage');
    const retryAfter = res.headers.get('retry-after');
    await expectError(res, 429, 'RATE_LIMITED');
    assert.ok(retryAfter !== null, 'a Retry-After header');
    assert.ok(Number(retryAfter) > 0 && Number(retryAfter) <= 60, `Retry-After: ${retryAfter}`);
    await expectError(await submit(t.key, body(t.projectId, tinyMovie())), 429, 'RATE_LIMITED');
    assert.equal((await api(url, other.key, '/v1/usage')).status, 200, 'the limit is per account');
  });

  test("PRESET_NOT_ALLOWED 403: turbo (or more workers than the plan's presets) on Pro", async () => {
    const t = await svc.tenant('pro');
    const movie = colourMovie([1]);
    const error = await expectError(
      await submit(t.key, body(t.projectId, movie, { renderOptions: { qualityPreset: 'turbo' } })),
      403,
      'PRESET_NOT_ALLOWED',
    );
    assert.match(error.message, /stable, balanced, fast/);
    await expectError(
      await submit(t.key, body(t.projectId, movie, { renderOptions: { requestedConcurrency: 6 } })),
      403,
      'PRESET_NOT_ALLOWED',
    );
    assert.deepEqual((await (await api(url, t.key, '/v1/jobs')).json()).jobs, [], 'nothing was queued');
  });

  test("404 for a projectId the key's account does not own", async () => {
    const a = await svc.tenant('pro');
    const b = await svc.tenant('pro');
    const error = await expectError(await submit(a.key, body(b.projectId, tinyMovie())), 404, 'NOT_FOUND');
    assert.match(error.message, new RegExp(b.projectId));
    await expectError(
      await submit(
        a.key,
        body(
          a.projectId.replace(/.$/, (c) => (c === '0' ? '1' : '0')),
          tinyMovie(),
        ),
      ),
      404,
      'NOT_FOUND',
    );
    assert.deepEqual((await (await api(url, b.key, '/v1/jobs')).json()).jobs, [], "nothing was queued in B's project");
  });

  test("another tenant's job is 404 on GET, /progress, DELETE and /cancel, and stays as it was", async () => {
    const owner = await finishedJob();
    const stranger = await svc.tenant('pro');
    const id = owner.jobId;
    await expectError(await api(url, stranger.key, `/v1/jobs/${id}`), 404, 'NOT_FOUND');
    await expectError(await api(url, stranger.key, `/v1/jobs/${id}/progress`), 404, 'NOT_FOUND');
    await expectError(await api(url, stranger.key, `/v1/jobs/${id}`, { method: 'DELETE' }), 404, 'NOT_FOUND');
    await expectError(await api(url, stranger.key, `/v1/jobs/${id}/cancel`, { method: 'POST' }), 404, 'NOT_FOUND');
    await expectError(await api(url, stranger.key, `/v1/jobs/${id}/webhooks`), 404, 'NOT_FOUND');
    await expectError(await api(url, stranger.key, '/v1/jobs/job_000000000000'), 404, 'NOT_FOUND');
    assert.ok(
      !(await (await api(url, stranger.key, '/v1/jobs')).json()).jobs.some((j: Json) => j.jobId === id),
      "not in the stranger's list",
    );
    assert.equal((await getJob(owner.key, id)).status, 'done');

    // and a job that is still running is not cancelled by a stranger
    const running = await accepted(owner.key, body(owner.projectId, slowMovie(320, 180)));
    await expectError(await api(url, stranger.key, `/v1/jobs/${running}`, { method: 'DELETE' }), 404, 'NOT_FOUND');
    await expectError(await api(url, stranger.key, `/v1/jobs/${running}/cancel`, { method: 'POST' }), 404, 'NOT_FOUND');
    assert.ok(['queued', 'running'].includes((await getJob(owner.key, running)).status));
    await settle(owner.key, [running]);
  });
});

describe('jobs', () => {
  test('202 { jobId, status: "queued" } for the seed\'s minimal request, verbatim', async () => {
    const t = await svc.tenant('pro', 'proj_abc123');
    const res = await submit(t.key, seedMinimalBody);
    assert.equal(res.status, 202);
    const reply = (await res.json()) as Json;
    assert.deepEqual(Object.keys(reply).sort(), ['jobId', 'status']);
    assert.match(reply.jobId, /^job_[0-9a-f]{12}$/);
    assert.equal(reply.status, 'queued');

    const job = await getJob(t.key, reply.jobId);
    assert.equal(job.jobId, reply.jobId);
    assert.equal(job.projectId, 'proj_abc123');
    assert.ok(['queued', 'running'].includes(job.status));
    assert.ok(['queued', 'planning', 'dispatching', 'waiting', 'rendering'].includes(job.phase), job.phase);
    assert.ok(job.progress >= 0 && job.progress < 1);
    assert.match(job.createdAt, ISO);
    assert.equal(job.finishedAt, null);
    assert.deepEqual(
      job.scenes.map((s: Json) => [s.sceneId, s.frames]),
      [['scene_1', 150]],
    );
    assert.ok(!('outputUrl' in job) && !('error' in job));
    const [cancelled] = await settle(t.key, [reply.jobId]);
    assert.equal(cancelled.status, 'cancelled');
  });

  test('a finished job: fields, an MP4 at outputUrl with Range, signed links that cannot be tampered with', async () => {
    const { key, jobId, job } = await finishedJob();
    assert.equal(job.status, 'done');
    assert.equal(job.phase, 'done');
    assert.equal(job.progress, 1);
    for (const field of ['createdAt', 'startedAt', 'updatedAt', 'finishedAt']) assert.match(job[field], ISO, field);
    assert.ok(job.createdAt <= job.startedAt && job.startedAt <= job.finishedAt);
    assert.deepEqual(job.scenes, [
      { sceneId: 'intro', frames: 15, state: 'done' },
      { sceneId: 'outro', frames: 15, state: 'done' },
    ]);
    assert.ok(!('error' in job));
    const { bytes, ...media } = job.mediaData;
    assert.deepEqual(media, { duration: 1, width: 320, height: 180, fps: 30, frames: 30 });

    // the MP4
    const whole = await fetch(job.outputUrl);
    assert.equal(whole.status, 200);
    assert.equal(whole.headers.get('content-type'), 'video/mp4');
    assert.equal(whole.headers.get('accept-ranges'), 'bytes');
    const mp4 = Buffer.from(await whole.arrayBuffer());
    assert.equal(mp4.length, bytes);
    const file = join(dir, `${jobId}.mp4`);
    await writeFile(file, mp4);
    const info = await probe(file);
    assert.equal(info.video.codec_name, 'h264');
    assert.deepEqual([info.video.width, info.video.height, info.video.nb_read_frames], [320, 180, '30']);
    assert.equal(info.audio?.codec_name, 'aac');
    assert.ok(Math.abs(Number(info.format.duration) - 1) < 0.05, info.format.duration);

    assert.ok(Math.abs(linkLifetime(job.outputUrl) - 86_400) < 300, `the link lasts a day: ${job.outputUrl}`);

    // Range
    const part = await fetch(job.outputUrl, { headers: { range: 'bytes=0-99' } });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get('content-range'), `bytes 0-99/${bytes}`);
    assert.deepEqual(Buffer.from(await part.arrayBuffer()), mp4.subarray(0, 100));
    // object storage's links are the S3 server's: s3rver takes no suffix ranges and checks no
    // signatures (test/s3-storage.test.ts covers presigned links); the rest is our file route's
    if (TEST_MODE === 'distributed') return;
    const tail = await fetch(job.outputUrl, { headers: { range: 'bytes=-50' } });
    assert.equal(tail.status, 206);
    assert.equal(tail.headers.get('content-range'), `bytes ${bytes - 50}-${bytes - 1}/${bytes}`);
    assert.deepEqual(Buffer.from(await tail.arrayBuffer()), mp4.subarray(bytes - 50));
    const beyond = await fetch(job.outputUrl, { headers: { range: `bytes=${bytes}-` } });
    assert.equal(beyond.status, 416);
    assert.equal(beyond.headers.get('content-range'), `bytes */${bytes}`);
    await beyond.arrayBuffer();

    // tampered and expired links
    const link = new URL(job.outputUrl);
    const signature = link.searchParams.get('signature')!;
    const expires = Number(link.searchParams.get('expires'));
    const variant = (edit: (u: URL) => void) => {
      const u = new URL(link);
      edit(u);
      return u.toString();
    };
    const storageKey = decodeURIComponent(link.pathname.replace(/^\/v1\/files\//, ''));
    const expired = new URL(link);
    expired.search = new URL(await svc.service.outputUrl(storageKey, -10)).search;
    for (const bad of [
      variant((u) => u.searchParams.set('signature', signature.slice(0, -1) + (signature.endsWith('A') ? 'B' : 'A'))),
      variant((u) => u.searchParams.set('expires', String(expires + 3600))),
      variant((u) => u.searchParams.delete('signature')),
      variant((u) => (u.pathname = u.pathname.replace(jobId, 'job_000000000000'))),
      expired.toString(),
    ]) {
      await expectError(await fetch(bad), 403, 'INVALID_SIGNATURE');
    }

    // the event stream of a finished job replays it and ends with done
    const events = await (await api(url, key, `/v1/jobs/${jobId}/progress`)).text();
    assert.match(events, /event: done\n/);
    assert.ok(events.indexOf('event: phase') < events.indexOf('event: done'));
    const progress = [...events.matchAll(/^data: (.*)$/gm)].map((m) => (JSON.parse(m[1]) as Json).progress as number);
    assert.ok(progress.length >= 3);
    for (let i = 1; i < progress.length; i++)
      assert.ok(progress[i] >= progress[i - 1], `progress never decreases: ${progress}`);
    assert.equal(progress.at(-1), 1);

    // cancelling a finished job changes nothing
    const cancelDone = await api(url, key, `/v1/jobs/${jobId}`, { method: 'DELETE' });
    assert.equal(cancelDone.status, 200);
    assert.equal(((await cancelDone.json()) as Json).status, 'done');
    assert.equal((await fetch((await getJob(key, jobId)).outputUrl)).status, 200);
  });

  test('a source URL that 404s: failed with SOURCE_UNAVAILABLE naming the layer and the URL; its minutes are returned', async () => {
    const t = await svc.tenant('pro');
    const source = `${files.url}/missing.png`;
    const movie = tinyMovie();
    (movie.scenes[1] as Json).layers = [{ id: 'logo', type: 'image', source }];
    const jobId = await accepted(t.key, body(t.projectId, movie));
    const job = await waitForJob(url, t.key, jobId, 20_000);
    assert.equal(job.status, 'failed');
    assert.deepEqual(Object.keys(job.error).sort(), ['code', 'message']);
    assert.equal(job.error.code, 'SOURCE_UNAVAILABLE');
    assert.ok(job.error.message.includes('logo'), job.error.message);
    assert.ok(job.error.message.includes(source), job.error.message);
    assert.match(job.error.message, /404/);
    assert.equal(job.phase, 'planning', 'a failed job keeps the phase it stopped in');
    assert.match(job.finishedAt, ISO);
    assert.ok(!('outputUrl' in job) && !('mediaData' in job));
    assert.equal((await usage(t.key)).month.minutes, 0, 'a failed job holds no minutes');
  });

  test('Idempotency-Key: same key + same body is the same job; same key + another body is 422', async () => {
    const t = await svc.tenant('pro');
    const one = body(t.projectId, colourMovie([1]));
    const first = await accepted(t.key, one, { 'idempotency-key': 'order-1' });
    const again = await submit(t.key, one, { 'idempotency-key': 'order-1' });
    assert.equal(again.status, 202);
    const replay = (await again.json()) as Json;
    assert.equal(replay.jobId, first);
    assert.ok(['queued', 'running', 'done'].includes(replay.status));

    const error = await expectError(
      await submit(t.key, body(t.projectId, colourMovie([2])), { 'idempotency-key': 'order-1' }),
      422,
      'IDEMPOTENCY_KEY_REUSED',
    );
    assert.match(error.message, /Idempotency-Key/);
    const other = await accepted(t.key, one, { 'idempotency-key': 'order-2' });
    assert.notEqual(other, first);

    // the same key sent many times at once still makes one job
    const burst = await Promise.all(
      Array.from({ length: 10 }, () => submit(t.key, one, { 'idempotency-key': 'order-3' })),
    );
    const ids = await Promise.all(
      burst.map(async (r) => {
        assert.equal(r.status, 202);
        return ((await r.json()) as Json).jobId as string;
      }),
    );
    assert.equal(new Set(ids).size, 1);
    const listed = (await (await api(url, t.key, '/v1/jobs')).json()).jobs as Json[];
    assert.equal(listed.length, 3);
    await settle(t.key, [first, other, ids[0]]);
  });

  test('quota atomicity: 50 parallel submits at the edge never overspend; cancelling returns the minutes', async () => {
    const t = await svc.tenant('edge'); // 60 s a month: exactly ten 6 s jobs
    const request = body(t.projectId, colourMovie([6]));
    const replies = await Promise.all(Array.from({ length: 50 }, () => submit(t.key, request)));
    const bodies = await Promise.all(replies.map(async (r) => ({ status: r.status, json: (await r.json()) as Json })));
    const ok = bodies.filter((b) => b.status === 202);
    const refused = bodies.filter((b) => b.status === 402);
    assert.equal(ok.length, 10, JSON.stringify(bodies.filter((b) => b.status !== 402 && b.status !== 202)));
    assert.equal(refused.length, 40);
    for (const r of refused) assertErrorShape(r.json, 'RENDER_QUOTA_EXCEEDED');
    assert.equal(new Set(ok.map((b) => b.json.jobId)).size, 10);
    const u = await usage(t.key);
    assert.equal(u.month.minutes, 1);
    assert.equal(u.month.limit, 1);

    const jobs = await settle(
      t.key,
      ok.map((b) => b.json.jobId),
    );
    const kept = jobs.filter((j) => j.status === 'done').length;
    assert.ok(jobs.every((j) => ['done', 'cancelled'].includes(j.status)));
    assert.equal(
      (await usage(t.key)).month.minutes,
      Math.round(((kept * 6) / 60) * 1000) / 1000,
      'cancelled jobs gave their minutes back',
    );
    assert.ok(kept < 10, 'at least one job was cancelled while it held minutes');
  });

  test('cancelling a running 1080p render (DELETE and POST /cancel): cancelled within 2 s, no ffmpeg left', {
    skip: process.platform !== 'linux' && 'reads /proc',
  }, async () => {
    const t = await svc.tenant('pro');
    for (const how of ['DELETE', 'POST'] as const) {
      const jobId = await accepted(t.key, body(t.projectId, slowMovie()));
      let job: Json = {};
      await until(
        async () => {
          job = await getJob(t.key, jobId);
          assert.ok(!['done', 'failed', 'cancelled'].includes(job.status), JSON.stringify(job));
          return job.phase === 'rendering' && (await ffmpegChildren(process.pid)).length > 0;
        },
        20_000,
        'the job is encoding',
      );
      await sleep(300);
      assert.equal((await usage(t.key)).month.minutes, 0.333, 'the running job holds its 20 s');

      const started = performance.now();
      const res =
        how === 'DELETE'
          ? await api(url, t.key, `/v1/jobs/${jobId}`, { method: 'DELETE' })
          : await api(url, t.key, `/v1/jobs/${jobId}/cancel`, { method: 'POST' });
      assert.equal(res.status, 200);
      const reply = (await res.json()) as Json;
      let after: Json = reply;
      await until(
        async () => (after = await getJob(t.key, jobId)).status === 'cancelled',
        2000,
        `${how} cancelled the job`,
      );
      const took = performance.now() - started;
      assert.ok(took < 2000, `${how} took ${Math.round(took)} ms`);
      assert.equal(reply.status, 'cancelled', 'the reply already shows it cancelled');
      assert.match(after.finishedAt, ISO);
      assert.ok(!('outputUrl' in after));

      // embedded: the reply comes once the run has stopped; distributed: once the job is cancelled
      // in the store, its worker hearing it and stopping within the second that follows
      if (TEST_MODE === 'embedded') {
        const alive = (await ffmpegChildren(process.pid)).filter((p) => p.state !== 'Z');
        assert.deepEqual(alive, [], 'no ffmpeg still running');
      }
      await until(async () => (await ffmpegChildren(process.pid)).length === 0, 1000, 'every ffmpeg child reaped');
      assert.equal((await usage(t.key)).month.minutes, 0, 'its minutes are back');
      // cancelling again changes nothing
      const twice = await api(url, t.key, `/v1/jobs/${jobId}`, { method: 'DELETE' });
      assert.equal(twice.status, 200);
      assert.equal(((await twice.json()) as Json).status, 'cancelled');
    }
  });

  test('a valid text layer with a long unbroken word does not freeze the server while the job plans', async () => {
    const t = await svc.tenant('pro');
    const movie = colourMovie([0.5]);
    (movie.scenes[0] as Json).layers = [{ id: 'wall', type: 'text', text: 'a'.repeat(1300) }];
    const jobId = await accepted(t.key, body(t.projectId, movie));
    // /healthz, polled while the job plans: the longest wait between two answers
    let last = performance.now();
    let worst = 0;
    const deadline = last + 30_000;
    for (;;) {
      await (await fetch(`${url}/healthz`)).arrayBuffer();
      const now = performance.now();
      worst = Math.max(worst, now - last);
      last = now;
      const job = await getJob(t.key, jobId);
      if (
        !['queued', 'planning'].includes(job.phase) ||
        ['done', 'failed', 'cancelled'].includes(job.status) ||
        now > deadline
      )
        break;
      // within the plan's requests per minute: planning on the text threads may take a second or two
      await sleep(50);
    }
    await settle(t.key, [jobId]);
    assert.ok(worst < 1000, `the server did not answer for ${Math.round(worst)} ms`);
  });

  test('GET /v1/jobs: per project, newest first, cursor pagination; GET /v1/usage shape', async () => {
    const t = await svc.tenant('roomy');
    const second = await svc.service.createProject({ accountId: t.accountId, name: 'second' });
    const submitted: string[] = [];
    for (let i = 0; i < 5; i++) {
      submitted.push(await accepted(t.key, body(t.projectId, colourMovie([0.5 + i / 10]))));
      await sleep(3); // distinct createdAt
    }
    const elsewhere = await accepted(t.key, body(second.id, colourMovie([0.5])));

    const pages: Json[] = [];
    let cursor: string | null = null;
    do {
      const res = await api(
        url,
        t.key,
        `/v1/jobs?projectId=${t.projectId}&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      assert.equal(res.status, 200);
      const page = (await res.json()) as Json;
      pages.push(page);
      cursor = page.nextCursor;
      assert.ok(pages.length <= 5, 'pagination ends');
    } while (cursor !== null);
    assert.deepEqual(
      pages.map((p) => p.jobs.length),
      [2, 2, 1],
    );
    assert.equal(pages.at(-1)!.nextCursor, null);
    const listed = pages.flatMap((p) => p.jobs as Json[]);
    assert.deepEqual(
      listed.map((j) => j.jobId),
      [...submitted].reverse(),
      'newest first, no duplicates, none missing',
    );
    assert.ok(listed.every((j) => j.projectId === t.projectId));
    for (let i = 1; i < listed.length; i++) assert.ok(listed[i - 1].createdAt >= listed[i].createdAt);

    const all = (await (await api(url, t.key, '/v1/jobs')).json()) as Json;
    assert.deepEqual(
      all.jobs.map((j: Json) => j.jobId),
      [elsewhere, ...[...submitted].reverse()],
    );
    assert.equal(all.nextCursor, null);
    const other = (await (await api(url, t.key, `/v1/jobs?projectId=${second.id}`)).json()) as Json;
    assert.deepEqual(
      other.jobs.map((j: Json) => j.jobId),
      [elsewhere],
    );
    await expectError(await api(url, t.key, '/v1/jobs?cursor=not-a-cursor'), 400, 'INVALID_CURSOR');
    await expectError(await api(url, t.key, '/v1/jobs?limit=0'), 400, 'INVALID_REQUEST');

    const u = await usage(t.key);
    assert.deepEqual(Object.keys(u).sort(), ['accountId', 'activeJobs', 'day', 'month', 'plan']);
    assert.equal(u.accountId, t.accountId);
    assert.equal(u.plan.id, 'roomy');
    assert.equal(u.plan.name, 'Roomy');
    assert.equal(u.month.limit, null);
    assert.equal(u.day.limit, null);
    assert.equal(typeof u.month.minutes, 'number');
    assert.ok(u.month.minutes > 0 && u.day.minutes === u.month.minutes);
    assert.match(u.day.resetsAt, /T00:00:00\.000Z$/);
    assert.ok(Date.parse(u.day.resetsAt) > Date.now() && Date.parse(u.day.resetsAt) - Date.now() <= 86_400_000);
    assert.equal(typeof u.activeJobs.count, 'number');
    assert.equal(u.activeJobs.limit, null);
    await settle(t.key, [...submitted, elsewhere]);

    const pro = await usage((await svc.tenant('pro')).key);
    assert.deepEqual(
      { month: pro.month, day: { ...pro.day, resetsAt: 0 }, activeJobs: pro.activeJobs },
      {
        month: { minutes: 0, limit: 600 },
        day: { minutes: 0, limit: null, resetsAt: 0 },
        activeJobs: { count: 0, limit: 3 },
      },
    );
  });
});

describe('docs, health, metrics', () => {
  test('GET /v1/openapi.json lists the paths; /docs is HTML; /healthz; /metrics', async () => {
    const res = await fetch(`${url}/v1/openapi.json`);
    assert.equal(res.status, 200);
    const doc = (await res.json()) as Json;
    assert.match(doc.openapi, /^3\./);
    for (const [path, method] of [
      ['/v1/render/jobs', 'post'],
      ['/v1/jobs', 'get'],
      ['/v1/jobs/{jobId}', 'get'],
      ['/v1/jobs/{jobId}', 'delete'],
      ['/v1/jobs/{jobId}/cancel', 'post'],
      ['/v1/jobs/{jobId}/progress', 'get'],
      ['/v1/usage', 'get'],
    ]) {
      assert.ok(doc.paths?.[path]?.[method], `${method.toUpperCase()} ${path} is documented`);
    }
    assert.ok(doc.paths['/v1/render/jobs'].post.responses['202'], 'the 202 is documented');

    const docs = await fetch(`${url}/docs`);
    assert.equal(docs.status, 200);
    assert.match(docs.headers.get('content-type') ?? '', /text\/html/);
    assert.match(await docs.text(), /<html/i);

    const health = await fetch(`${url}/healthz`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { ok: true });

    const metrics = await fetch(`${url}/metrics`);
    assert.equal(metrics.status, 200);
    assert.match(metrics.headers.get('content-type') ?? '', /^text\/plain/);
    const text = await metrics.text();
    assert.match(text, /^# TYPE reelsmith_http_requests_total counter$/m);
    assert.match(text, /^reelsmith_http_requests_total\{[^}]*route="\/v1\/render\/jobs"[^}]*\} \d+/m);
  });
});

describe('fuzzing POST /v1/render/jobs', () => {
  /** A reply to a fuzzed body: 202 or a 4xx in the error shape, never a 5xx. */
  async function check(key: string, res: Response, acceptedIds: string[]): Promise<void> {
    const text = await res.text();
    assert.ok(
      res.status === 202 || (res.status >= 400 && res.status < 500),
      `status ${res.status}: ${text.slice(0, 300)}`,
    );
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    const json = JSON.parse(text) as Json;
    if (res.status === 202) {
      assert.match(json.jobId, /^job_[0-9a-f]{12}$/);
      acceptedIds.push(json.jobId);
      await api(url, key, `/v1/jobs/${json.jobId}`, { method: 'DELETE' });
      return;
    }
    const error = assertErrorShape(json);
    if (error.code === 'INVALID_MOVIE_JSON' && error.details !== undefined) {
      assert.ok(Array.isArray(error.details) && error.details.length > 0);
      for (const p of error.details as Json[])
        assert.ok(typeof p.path === 'string' && typeof p.message === 'string', JSON.stringify(p));
    }
  }

  const raw = (key: string, text: string, contentType = 'application/json') =>
    api(url, key, '/v1/render/jobs', { method: 'POST', body: text, headers: { 'content-type': contentType } });

  /** Values that break things: wrong types, huge and tiny numbers, long and odd strings, deep nesting. */
  const nasty: fc.Arbitrary<unknown> = fc.oneof(
    fc.anything({ maxDepth: 3 }),
    fc.jsonValue({ maxDepth: 3 }),
    fc.constantFrom(
      null,
      true,
      false,
      0,
      -0,
      -1,
      1e308,
      -1e308,
      5e-324,
      Number.MAX_SAFE_INTEGER,
      2 ** 53 + 1,
      0.1,
      '',
      ' ',
      '0',
      'true',
      'null',
      [],
      {},
      [[]],
      { '': '' },
    ),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.integer(),
    fc.string({ unit: 'grapheme', maxLength: 40 }),
    fc.string({ unit: 'binary', maxLength: 40 }),
    fc.nat({ max: 50_000 }).map((n) => 'x'.repeat(n)),
    fc.nat({ max: 2_000 }).map((n) => '😀'.repeat(n)),
    fc.integer({ min: 1, max: 2_000 }).map((depth) => {
      let v: unknown = 'deep';
      for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { a: v };
      return v;
    }),
    fc.integer({ min: -2, max: 4000 }),
    fc.integer({ min: 1, max: 4000 }).map((n) => n * 2),
    fc.double({ min: 0, max: 700, noNaN: true }),
    fc.constantFrom(
      'stable',
      'balanced',
      'fast',
      'turbo',
      'image',
      'audio',
      'bold',
      'center',
      'https://cdn.example.com/a.png',
    ),
    fc.constantFrom(
      '#fff',
      '#12345',
      'rgb(1,2,3)',
      'http://127.0.0.1:1/x.png',
      'ftp://example.com/a',
      'file:///etc/passwd',
      '../../etc/passwd',
      'job_000000000000',
      'proj_abc123',
      'turbo',
      'video',
      'text',
    ),
  );

  /** Every path of a JSON value: ['movie', 'scenes', 0, 'layers', 0, 'text'], ... */
  function paths(value: unknown, prefix: Array<string | number> = []): Array<Array<string | number>> {
    const out: Array<Array<string | number>> = [prefix];
    if (Array.isArray(value)) value.forEach((v, i) => void out.push(...paths(v, [...prefix, i])));
    else if (typeof value === 'object' && value !== null)
      for (const [k, v] of Object.entries(value)) out.push(...paths(v, [...prefix, k]));
    return out;
  }

  type Op = { at: number; kind: 'delete' | 'replace' | 'add'; value: unknown; name: string };
  const op: fc.Arbitrary<Op> = fc.record({
    at: fc.nat(),
    kind: fc.constantFrom('delete', 'replace', 'add'),
    value: nasty,
    name: fc.oneof(
      fc.string({ maxLength: 12 }),
      fc.constantFrom(
        'id',
        'duration',
        'layers',
        'source',
        'scenes',
        'width',
        'fps',
        '__proto__',
        'constructor',
        'renderOptions',
        'callbackUrl',
      ),
    ),
  });

  function mutate(seed: Json, ops: Op[]): unknown {
    let doc: unknown = structuredClone(seed);
    for (const { value: generated, ...o } of ops) {
      const value = structuredClone(generated); // later ops edit the document in place: leave fast-check's values alone
      const all = paths(doc);
      const path = all[o.at % all.length];
      if (path.length === 0) {
        doc = o.kind === 'delete' ? undefined : value;
        continue;
      }
      const parent = path.slice(0, -1).reduce<any>((v, k) => v[k], doc);
      const last = path.at(-1)!;
      if (o.kind === 'delete') {
        if (Array.isArray(parent)) parent.splice(last as number, 1);
        else delete parent[last];
      } else if (o.kind === 'replace') {
        parent[last] = value;
      } else {
        const target = parent[last];
        if (Array.isArray(target)) target.push(value);
        else if (typeof target === 'object' && target !== null)
          Object.defineProperty(target, o.name, { value, enumerable: true, writable: true, configurable: true });
        else parent[last] = value;
      }
    }
    return doc;
  }

  test('mutations of the seed body, random JSON and random text: always 202 or a 4xx error, never a 5xx', async () => {
    const t = await svc.tenant('fuzz'); // no minutes: a body that passes every check gets 402, nothing renders
    const other = await svc.tenant('pro');
    const seed = {
      ...structuredClone(seedMinimalBody),
      projectId: t.projectId,
      renderOptions: { qualityPreset: 'fast' },
      callbackUrl: 'https://example.com/hook',
    };
    const acceptedIds: string[] = [];
    const codes = new Map<string, number>();
    const count = async (res: Response) => {
      const clone = res.clone();
      await check(t.key, res, acceptedIds);
      const json = (await clone.json()) as Json;
      const code = json.error?.code ?? 'ACCEPTED';
      codes.set(code, (codes.get(code) ?? 0) + 1);
    };

    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 4 }), async (ops) => {
        const doc = mutate(seed, ops);
        await count(await raw(t.key, JSON.stringify(doc) ?? 'null'));
      }),
      { numRuns: 150 },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.anything().map((v) => JSON.stringify(v) ?? 'null'),
          fc.json(),
        ),
        async (text) => {
          await count(await raw(t.key, text));
        },
      ),
      { numRuns: 100 },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.string({ unit: 'binary', maxLength: 200 }),
        fc.constantFrom(
          'application/json',
          'text/plain',
          'application/x-www-form-urlencoded',
          'application/octet-stream',
        ),
        async (text, type) => {
          await count(await raw(t.key, text, type));
        },
      ),
      { numRuns: 50 },
    );

    // hand-picked: prototype keys, numbers JSON.parse turns into Infinity or 0, lone surrogates,
    // nesting far deeper than any schema, a valid body for another tenant's project
    const seedText = JSON.stringify(seed);
    for (const text of [
      seedText.replace('"kind"', '"__proto__":{"polluted":true},"kind"'),
      seedText.replace('"kind"', '"constructor":{"prototype":{"polluted":true}},"kind"'),
      seedText.replace('"duration":5,"bgColor"', '"duration":1e400,"bgColor"'),
      seedText.replace('"width":1920', '"width":1e400'),
      seedText.replace('"width":1920', '"width":-0'),
      seedText.replace('"duration":5,"bgColor"', '"duration":1e-400,"bgColor"'),
      seedText.replace('"fps":30', '"fps":30.0000000000000001'),
      seedText.replace('Hello from the API', '\\ud800\\udfff\\udc00 \\u0000 ‮ 😀'),
      seedText.replace('"scene_1"', '"\\ud800"'),
      seedText.replace('"movie":{', `"movie":{"title":${'['.repeat(5000)}${']'.repeat(5000)},`),
      seedText.replace('"layers":[', `"layers":[${'{"a":'.repeat(3000)}1${'}'.repeat(3000)},`),
      `${'['.repeat(100_000)}${']'.repeat(100_000)}`,
      JSON.stringify({ ...seed, projectId: other.projectId }),
      JSON.stringify({
        ...seed,
        movie: { ...seed.movie, scenes: Array.from({ length: 2000 }, (_, i) => ({ id: `s${i}`, duration: 0.3 })) },
      }),
      'null',
      '"movie"',
      '12',
      '{}',
    ]) {
      await count(await raw(t.key, text));
    }
    assert.equal(({} as Json).polluted, undefined, 'no prototype pollution');
    assert.deepEqual(acceptedIds, [], 'nothing was accepted on a plan with no minutes');
    assert.ok(
      (codes.get('INVALID_MOVIE_JSON') ?? 0) > 0 && (codes.get('RENDER_QUOTA_EXCEEDED') ?? 0) > 0,
      JSON.stringify([...codes]),
    );

    const health = await fetch(`${url}/healthz`);
    assert.equal(health.status, 200, 'the server still answers');
    assert.deepEqual(await health.json(), { ok: true });
  });

  test('random job ids, cursors and limits on the GET routes: 200 or a 4xx error, never a 5xx', async () => {
    const t = await svc.tenant('fuzz');
    // a NUL, which Postgres text cannot hold (found by this test in distributed mode): no such job, project or cursor
    assert.equal((await api(url, t.key, '/v1/jobs/job_%00')).status, 404);
    const none = await api(url, t.key, '/v1/jobs?projectId=%00');
    assert.deepEqual(((await none.json()) as Json).jobs, []);
    const nul = Buffer.from(JSON.stringify(['2026-01-01T00:00:00.000Z', 'job_\u0000'])).toString('base64url');
    assert.equal((await api(url, t.key, `/v1/jobs?cursor=${nul}`)).status, 400);
    const text = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 60 }),
      fc.string({ maxLength: 300 }),
      fc.constantFrom('..', '.', '%', '%00', 'job_000000000000', '-1', '1e400'),
    );
    await fc.assert(
      fc.asyncProperty(text, text, fc.oneof(fc.integer(), fc.string({ maxLength: 10 })), async (id, cursor, limit) => {
        const responses = [
          await api(url, t.key, `/v1/jobs/${encodeURIComponent(id)}`),
          await api(url, t.key, `/v1/jobs/${encodeURIComponent(id)}/progress`),
          await api(url, t.key, `/v1/jobs/${encodeURIComponent(id)}`, { method: 'DELETE' }),
          await api(
            url,
            t.key,
            `/v1/jobs?cursor=${encodeURIComponent(cursor)}&limit=${encodeURIComponent(String(limit))}&projectId=${encodeURIComponent(id)}`,
          ),
          await api(url, t.key, `/v1/jobs?cursor=${Buffer.from(cursor).toString('base64url')}`),
        ];
        for (const res of responses) {
          const body = await res.text();
          assert.ok(res.status < 500, `${res.url}: ${res.status} ${body.slice(0, 300)}`);
          if (res.status >= 400) assertErrorShape(JSON.parse(body));
        }
      }),
      { numRuns: 60 },
    );
    assert.equal((await fetch(`${url}/healthz`)).status, 200);
  });

  test('a body over 1 MiB gets 413 in the error shape', async () => {
    const t = await svc.tenant('pro');
    const big = JSON.stringify(body(t.projectId, { ...tinyMovie(), title: 'x'.repeat(1024 * 1024 + 10) }));
    await expectError(await raw(t.key, big), 413, 'PAYLOAD_TOO_LARGE');
    assert.equal((await fetch(`${url}/healthz`)).status, 200);
  });
});

// ---------------------------------------------------------------------------------------
// Processes
