// The service as an operator runs it, from the CLI: `reelsmith serve` on a data folder, or
// (REELSMITH_TEST_MODE=distributed) `serve --database --storage` and a `reelsmith worker`.
// A SIGKILL mid-render loses no finished scene and the job finishes after a restart; SIGTERM
// drains quickly and the job completes after a restart. Then the seed's two curl bodies,
// verbatim but for where their URLs point, render done.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Webhook } from 'standardwebhooks';
import { probe, tempDir } from './helpers.ts';
import {
  api,
  cliDeployment,
  exampleAssets,
  footageMovie,
  phasesOf,
  seedMinimalBody,
  startService,
  waitForJob,
  waitUntil,
} from './service-helpers.ts';

const root = join(import.meta.dirname, '..');

// ---------------------------------------------------------------------------------------
// The shipped example assets, served under the seed's paths (footage/, audio/, brand/).

const assets = await exampleAssets();
/** os.tmpdir() of the child processes, kept out of the shared /tmp. */
const childTmp = { TMPDIR: await tempDir('reelsmith-durability-tmp-') };
const outDir = await tempDir('reelsmith-durability-out-');

/** Downloads a job's output through its outputUrl and probes it. */
async function probeOutput(job: Record<string, any>, name: string) {
  assert.equal(typeof job.outputUrl, 'string', 'a done job has an outputUrl');
  const res = await fetch(job.outputUrl);
  assert.equal(res.status, 200);
  const path = join(outDir, name);
  await writeFile(path, Buffer.from(await res.arrayBuffer()));
  return probe(path);
}

async function allJobsFinal(base: string, key: string) {
  const { jobs } = (await (await api(base, key, '/v1/jobs?limit=100')).json()) as { jobs: Array<Record<string, any>> };
  assert.ok(jobs.length > 0);
  assert.deepEqual(
    jobs.filter((j) => !['done', 'failed', 'cancelled'].includes(j.status)).map((j) => `${j.jobId} ${j.status}`),
    [],
    'no job is left queued or running',
  );
  return jobs;
}

// ---------------------------------------------------------------------------------------

test('SIGKILL mid-render, restart: the job finishes, finished scenes are not rendered again', async () => {
  const d = await cliDeployment(childTmp);
  const submitted = await api(d.url, d.key, '/v1/render/jobs', {
    method: 'POST',
    json: footageMovie(`${assets.url}/footage/city.mp4`, 'crash', 4, 2.5),
  });
  assert.equal(submitted.status, 202);
  const { jobId } = (await submitted.json()) as { jobId: string };

  const before = await waitUntil(
    d.url,
    d.key,
    jobId,
    (j) => j.scenes.some((s: { state: string }) => s.state === 'done'),
    'a finished scene',
    60_000,
  );
  // a crash: every process of the deployment SIGKILLed
  for (const p of d.processes) p.child.kill('SIGKILL');
  for (const p of d.processes) assert.equal((await p.exited).signal, 'SIGKILL');
  const dataDir = d.dataDir;
  const leftWork = dataDir
    ? (await readdir(join(dataDir, 'work', jobId)))
        .filter((n) => n.startsWith('reelsmith-render-'))
        .map((n) => join(dataDir, 'work', jobId, n))
    : [];
  if (dataDir) {
    // the render's temp folder was in the data folder's work area, none in the OS temp folder
    assert.deepEqual(
      (await readdir(childTmp.TMPDIR)).filter((n) => n.startsWith('reelsmith-render-')),
      [],
      'no render folder in the OS temp folder',
    );
    assert.equal(leftWork.length, 1, 'the killed render left its folder in <data>/work');
  }
  const doneBefore = before.scenes
    .map((s: { state: string }, i: number) => (s.state === 'done' ? i : -1))
    .filter((i: number) => i >= 0);
  assert.ok(
    doneBefore.length >= 1 && doneBefore.length < 4,
    `mid-render at the kill: ${JSON.stringify(before.scenes)}`,
  );
  assert.notEqual(before.status, 'done');

  // the committed cache entries of the scenes that were done
  const entriesBefore = await d.sceneEntries();
  assert.ok(Object.keys(entriesBefore).length >= doneBefore.length);

  const renders = d.watchSceneRenders();
  const { job, renderedNow } = await (async () => {
    await d.restart();
    if (dataDir) {
      assert.match(d.api.output(), /resumed 1 unfinished job/);
      assert.equal(existsSync(leftWork[0]), false, "the start swept the killed render's folder");
    }
    // distributed: once the dead worker's lease has lapsed
    return { job: await waitForJob(d.url, d.key, jobId, 120_000), renderedNow: renders.stop() };
  })().finally(() => renders.stop()); // an open watcher would keep the test process alive
  assert.equal(job.status, 'done', JSON.stringify(job.error));
  assert.equal(job.phase, 'done');
  assert.equal(job.progress, 1);
  const states = job.scenes.map((s: { state: string }) => s.state);
  // a scene found in the cache when the job restarted is 'cached'; one rendered now is 'done'
  for (const i of doneBefore)
    assert.equal(
      states[i],
      'cached',
      `scene ${i} was done before the kill and is reused, not rendered again (${states})`,
    );
  assert.ok(
    states.every((s: string) => s === 'cached' || s === 'done'),
    String(states),
  );
  // each scene is rendered once across the kill: the ones uncommitted then, after the restart
  // (distributed: the new worker may render some as scene tasks while the job's lease runs
  // out; the job then finds them 'cached' too)
  assert.deepEqual(
    renderedNow.filter((entry) => entry in entriesBefore),
    [],
    'no entry committed before the kill is rendered again',
  );
  assert.equal(
    Object.keys(entriesBefore).length + renderedNow.length,
    4,
    `after the restart exactly the scenes unfinished at the kill were rendered (${renderedNow}; ${JSON.stringify(job.scenes)})`,
  );
  if (dataDir)
    assert.deepEqual(
      (await readdir(join(dataDir, 'scene-cache', d.projectId))).filter((n) => n.startsWith('.tmp-')),
      [],
      'the workspace of the scene killed mid-render was swept',
    );
  const entriesAfter = await d.sceneEntries();
  assert.equal(Object.keys(entriesAfter).length, 4, 'one cache entry per scene');
  for (const [name, stamp] of Object.entries(entriesBefore))
    assert.equal(entriesAfter[name], stamp, `cache entry ${name} is the one committed before the kill`);

  const info = await probeOutput(job, 'crash.mp4');
  assert.equal(info.video.width, 1920);
  assert.equal(info.video.height, 1080);
  assert.equal(Number(info.video.nb_read_frames), 4 * 75, 'every frame of the 4 scenes, once');
  assert.equal(job.mediaData.frames, 300);

  await allJobsFinal(d.url, d.key);
  for (const p of d.processes) p.child.kill('SIGTERM');
  for (const p of d.processes) assert.deepEqual(await p.exited, { code: 0, signal: null });
});

/**
 * SIGTERM to the process that renders while a job renders (with a progress stream open, or
 * not): it exits 0 within 5 s, and the job completes once it is started again (distributed:
 * another worker). The stream ends with an embedded server; an API node keeps it to the end.
 */
async function drainAndResume(tag: string, withStream: boolean) {
  const d = await cliDeployment(childTmp);
  try {
    const submitted = await api(d.url, d.key, '/v1/render/jobs', {
      method: 'POST',
      json: footageMovie(`${assets.url}/footage/city.mp4`, tag, 3, 2.5),
    });
    const { jobId } = (await submitted.json()) as { jobId: string };
    await waitUntil(
      d.url,
      d.key,
      jobId,
      (j) => j.phase === 'rendering' && j.scenes.some((s: { state: string }) => s.state === 'rendering'),
      'rendering',
      60_000,
    );
    const stream = withStream
      ? (await api(d.url, d.key, `/v1/jobs/${jobId}/progress`, { signal: AbortSignal.timeout(180_000) }))
          .text()
          .catch((err: Error) => `(stream broken: ${err.message})`)
      : undefined;

    const drained = d.renderer;
    const signalled = Date.now();
    drained.child.kill('SIGTERM');
    const exit = await Promise.race([
      drained.exited,
      sleep(5_000).then(() => 'still running 5 s after SIGTERM' as const),
    ]);
    assert.deepEqual(
      exit,
      { code: 0, signal: null },
      `exit after SIGTERM (${(Date.now() - signalled) / 1000} s):\n${drained.output()}`,
    );
    assert.match(drained.output(), /SIGTERM: draining/);
    if (stream && d.dataDir)
      assert.doesNotMatch(await stream, /event: done/, 'the stream ended with the server, before the job was done');

    await d.restart();
    if (d.dataDir) assert.match(d.api.output(), /resumed 1 unfinished job/);
    const job = await waitForJob(d.url, d.key, jobId, 60_000);
    assert.equal(job.status, 'done', JSON.stringify(job.error));
    if (stream && !d.dataDir)
      assert.match(await stream, /event: done/, 'the API node kept the stream open through the drain, to the end');
    const info = await probeOutput(job, `${tag}.mp4`);
    assert.equal(Number(info.video.nb_read_frames), 3 * 75);
    // the drain put the job back in the queue (a second 'queued' phase after 'rendering'), then it ran again
    const phases = await phasesOf(d.url, d.key, jobId);
    assert.equal(phases[0], 'queued');
    assert.ok(phases.indexOf('queued', 1) > phases.indexOf('rendering'), `requeued by the drain: ${phases}`);
    assert.equal(phases.at(-1), 'uploading');
    await allJobsFinal(d.url, d.key);
    for (const p of d.processes) p.child.kill('SIGTERM');
    for (const p of d.processes) assert.deepEqual(await p.exited, { code: 0, signal: null });
  } finally {
    for (const p of d.processes) p.child.kill('SIGKILL'); // a server that did not drain renders on otherwise
  }
}

test('SIGTERM drains: exits 0 within seconds while a job renders, and the job completes after a restart', async () => {
  await drainAndResume('drain', false);
});

test('SIGTERM drains with a progress stream open too', async () => {
  await drainAndResume('drain_sse', true);
});

// ---------------------------------------------------------------------------------------
// The seed's two request bodies.

/** The seed's full request example, verbatim (../shared/seed/render-api.md). */
const seedFullBody = {
  kind: 'movie',
  projectId: 'proj_abc123',
  callbackUrl: 'https://your-server.com/webhooks/viralsync',
  renderOptions: {
    qualityPreset: 'fast',
  },
  movie: {
    id: 'summer_promo_v3',
    title: 'Summer Promo — Final Cut',
    width: 1920,
    height: 1080,
    fps: 30,
    scenes: [
      {
        id: 'scene_opening',
        name: 'Opening',
        duration: 6,
        bgColor: '#000000',
        layers: [
          {
            id: 'bg_video',
            type: 'video',
            role: 'background',
            source: 'https://cdn.example.com/footage/city.mp4',
            startTime: 0,
            duration: 6,
            zIndex: 0,
            position: { x: 0, y: 0 },
            size: { width: 1920, height: 1080 },
            mute: true,
            transform: { opacity: 0.65 },
          },
          {
            id: 'bg_music',
            type: 'audio',
            source: 'https://cdn.example.com/audio/upbeat.mp3',
            startTime: 0,
            duration: 6,
            zIndex: 0,
            position: { x: 0, y: 0 },
            size: { width: 0, height: 0 },
            volume: 0.35,
          },
          {
            id: 'logo',
            type: 'image',
            source: 'https://cdn.example.com/brand/logo-white.png',
            startTime: 0.5,
            duration: 5,
            zIndex: 2,
            position: { x: 80, y: 60 },
            size: { width: 200, height: 60 },
          },
          {
            id: 'title',
            type: 'text',
            text: 'Summer Sale — Up to 50% Off',
            startTime: 1,
            duration: 4,
            zIndex: 3,
            position: { x: 200, y: 400 },
            size: { width: 1520, height: 200 },
            fontSize: 96,
            fontWeight: 'bold',
            color: '#ffffff',
            textAlign: 'center',
            transform: { opacity: 0.95 },
          },
        ],
      },
      {
        id: 'scene_cta',
        name: 'Call to Action',
        duration: 4,
        bgColor: '#0f172a',
        layers: [
          {
            id: 'cta',
            type: 'text',
            text: 'Shop now at example.com',
            startTime: 0,
            duration: 4,
            zIndex: 1,
            position: { x: 360, y: 460 },
            size: { width: 1200, height: 160 },
            fontSize: 64,
            color: '#00d4ff',
            textAlign: 'center',
            fontWeight: '600',
          },
        ],
      },
    ],
  },
};

/** `body` with its media URLs on `mediaBase` and its callbackUrl (if any) at `callbackUrl`. */
function pointed(body: object, mediaBase: string, callbackUrl: string): Record<string, any> {
  return JSON.parse(
    JSON.stringify(body)
      .replaceAll('https://cdn.example.com', mediaBase)
      .replace('https://your-server.com/webhooks/viralsync', callbackUrl),
  );
}

test("the bodies above are the seed's curl bodies, verbatim", {
  skip: !existsSync(join(root, '../shared/seed/render-api.md')) && 'the seed document is not next to this checkout',
}, async () => {
  const seed = await readFile(join(root, '../shared/seed/render-api.md'), 'utf8');
  const bodies = [...seed.matchAll(/-d '(\{[\s\S]*?\})'/g)].map((m) => JSON.parse(m[1]) as unknown);
  assert.equal(bodies.length, 2);
  assert.deepEqual(bodies[0], seedMinimalBody);
  assert.deepEqual(bodies[1], seedFullBody);
});

test("the seed's minimal and full requests render done: 5.0 s; 1920x1080, 30 fps, 10.0 s, 300 frames with audio", async () => {
  const svc = await startService();
  const t = await svc.tenant('pro', 'proj_abc123');
  const received: Array<Record<string, any>> = [];
  const receiver = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c));
    req.on('end', () => {
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
      received.push({ path: req.url, verified: new Webhook(t.webhookSecret).verify(body, headers) });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  after(() => new Promise<void>((r) => receiver.close(() => r())));
  const callbackUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks/viralsync`;

  const submit = async (body: unknown) => {
    const res = await api(svc.url, t.key, '/v1/render/jobs', { method: 'POST', json: body });
    const reply = (await res.json()) as { jobId: string; status: string };
    assert.equal(res.status, 202, JSON.stringify(reply));
    assert.match(reply.jobId, /^job_/);
    assert.equal(reply.status, 'queued');
    return reply.jobId;
  };
  const minimalId = await submit(seedMinimalBody);
  const fullId = await submit(pointed(seedFullBody, assets.url, callbackUrl));

  const minimal = await waitForJob(svc.url, t.key, minimalId, 60_000);
  assert.equal(minimal.status, 'done', JSON.stringify(minimal.error));
  assert.deepEqual(
    {
      duration: minimal.mediaData.duration,
      width: minimal.mediaData.width,
      height: minimal.mediaData.height,
      frames: minimal.mediaData.frames,
    },
    { duration: 5, width: 1920, height: 1080, frames: 150 },
  );
  const m = await probeOutput(minimal, 'minimal.mp4');
  assert.equal(Number(m.video.nb_read_frames), 150);
  assert.equal(Number(Number(m.format.duration).toFixed(1)), 5.0);

  const full = await waitForJob(svc.url, t.key, fullId, 60_000);
  assert.equal(full.status, 'done', JSON.stringify(full.error));
  assert.deepEqual(
    full.scenes.map((s: { sceneId: string; frames: number }) => [s.sceneId, s.frames]),
    [
      ['scene_opening', 180],
      ['scene_cta', 120],
    ],
  );
  const f = await probeOutput(full, 'full.mp4');
  assert.equal(f.video.codec_name, 'h264');
  assert.equal(f.video.width, 1920);
  assert.equal(f.video.height, 1080);
  assert.equal(f.video.r_frame_rate, '30/1');
  assert.equal(Number(f.video.nb_read_frames), 300);
  assert.equal(Number(Number(f.format.duration).toFixed(1)), 10.0);
  assert.equal(f.audio?.codec_name, 'aac', 'the output has audio');
  assert.ok(Math.abs(Number(f.audio!.duration) - 10) <= 0.05);
  assert.deepEqual(
    {
      duration: full.mediaData.duration,
      width: full.mediaData.width,
      height: full.mediaData.height,
      fps: full.mediaData.fps,
      frames: full.mediaData.frames,
    },
    { duration: 10, width: 1920, height: 1080, fps: 30, frames: 300 },
  );

  // the callback got the seed's final event, signed
  const deadline = Date.now() + 10_000;
  while (!received.some((r) => r.verified.status === 'done') && Date.now() < deadline) await sleep(50);
  const done = received.find((r) => r.verified.status === 'done');
  assert.ok(done, `a done delivery arrived (${received.length} deliveries)`);
  assert.equal(done.path, '/webhooks/viralsync');
  assert.equal(done.verified.jobId, fullId);
  assert.equal(done.verified.progress, 1);
  // the job's output (embedded: a signed link of this service; distributed: a presigned one of the bucket)
  assert.equal(new URL(done.verified.outputUrl).pathname, new URL(full.outputUrl).pathname);
  assert.equal((await fetch(done.verified.outputUrl)).status, 200);
  assert.deepEqual(
    {
      duration: done.verified.mediaData.duration,
      width: done.verified.mediaData.width,
      height: done.verified.mediaData.height,
    },
    { duration: 10, width: 1920, height: 1080 },
  );
});
