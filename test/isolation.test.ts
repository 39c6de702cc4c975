// Isolation (issue 16): what one tenant sends cannot stall the service, crash it or grow its
// memory for the others. Each hostile job runs on the deployment an operator runs (`serve`,
// or an API node and a worker in distributed mode) while another tenant's ordinary job runs
// beside it; /readyz is asked every 100 ms and the processes' memory summed all along.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { indexBomb, media, mediaServer, ROOT, tempDir, wholeRange } from './helpers.ts';
import { treeRss } from '../bench/rss.ts';
import { cliDeployment, submitJob, TEST_MODE, waitForJob, watchService, type ServiceWatch } from './service-helpers.ts';

const deployment = await cliDeployment();
const other = await deployment.anotherTenant();
const dir = await tempDir();
const assets = await mediaServer(dir);
await media.video(join(dir, 'footage.mp4'), 'teal', 1280, 720, 2);

const MiB = 1024 ** 2;

const request = (projectId: string, layers: unknown[], width = 320, height = 180) => ({
  kind: 'movie',
  projectId,
  movie: { width, height, fps: 30, scenes: [{ id: 'only', duration: 1, bgColor: '#203040', layers }] },
});

/** The other tenant's everyday job: 720p footage fetched over HTTP under a title. */
const everyday = () =>
  request(
    other.projectId,
    [
      { id: 'footage', type: 'video', source: `${assets.url}/footage.mp4` },
      { id: 'title', type: 'text', text: 'Everyday', fontSize: 48 },
    ],
    1280,
    720,
  );

/**
 * Runs the hostile request beside the other tenant's everyday job, watching the service:
 * the hostile job's end, the everyday job's (done, exact) and what the watch saw.
 */
async function beside(
  t: TestContext,
  hostile: Record<string, unknown>,
): Promise<{ job: Record<string, any>; watch: ServiceWatch }> {
  const pids = deployment.processes.map((p) => p.child.pid!);
  // readiness runs ffmpeg and ffprobe at most once a minute: that first ask is not what is measured
  await fetch(`${deployment.url}/readyz`);
  const watching = watchService(deployment.url, pids);
  const jobId = await submitJob(deployment, deployment.key, hostile);
  const everydayId = await submitJob(deployment, other.key, everyday());
  const [job, theirs] = await Promise.all([
    waitForJob(deployment.url, deployment.key, jobId, 120_000),
    waitForJob(deployment.url, other.key, everydayId, 120_000),
  ]);
  const watch = await watching.stop();
  // the figures the README quotes
  const { median, max, count } = watch.readyz;
  t.diagnostic(
    `/readyz median ${median.toFixed(0)} ms, max ${max.toFixed(0)} ms (${count} asked); peak ${Math.round(watch.peakRss / MiB)} MB; hostile job ${job.status} after ${job.finishedAt && job.createdAt ? (Date.parse(job.finishedAt) - Date.parse(job.createdAt)) / 1000 : '?'} s`,
  );
  assert.equal(theirs.status, 'done', `the other tenant's job: ${JSON.stringify(theirs.error)}`);
  assert.equal(theirs.mediaData.duration, 1);
  for (const p of deployment.processes) assert.equal(p.child.exitCode, null, `a process exited:\n${p.output()}`);
  return { job, watch };
}

/** The service kept answering: /readyz mostly within 100 ms, and never a second. */
function assertResponsive(watch: ServiceWatch, what: string) {
  assert.equal(watch.readyz.unanswered, 0, `${what}: /readyz went unanswered`);
  assert.ok(watch.readyz.count > 5, `${what}: /readyz was asked ${watch.readyz.count} times`);
  assert.ok(watch.readyz.median < 100, `${what}: /readyz median ${watch.readyz.median.toFixed(0)} ms`);
  assert.ok(watch.readyz.max < 1000, `${what}: /readyz took ${watch.readyz.max.toFixed(0)} ms once`);
}

const word = 'W'.repeat(4990);

describe(`isolation, ${TEST_MODE} mode (issue 16)`, () => {
  // item 9: the layout used to hold the event loop while the other job's footage downloaded, and the download's client then crashed the process
  test('items 1 and 9: 20 text layers of a 4,990-letter word in 8x8 boxes stall nobody, beside a download', async (t) => {
    const layers = Array.from({ length: 20 }, (_, i) => ({
      id: `word-${i}`,
      type: 'text',
      text: word,
      size: { width: 8, height: 8 },
      position: { x: 8 * i, y: 0 },
    }));
    const { job, watch } = await beside(t, request(deployment.projectId, layers));
    assert.equal(job.status, 'done', JSON.stringify(job.error));
    assertResponsive(watch, 'text layout');
    assert.ok(watch.peakRss < 1500 * MiB, `peak ${Math.round(watch.peakRss / MiB)} MB`);
  });

  test('items 2 and 3: a fontUrl font whose cmap claims every code point 215 times is refused at once, naming the layer', async (t) => {
    await writeFile(join(dir, 'whole-range.ttf'), wholeRange(65535));
    const layers = [{ id: 'claims', type: 'text', text: 'Hi', fontUrl: `${assets.url}/whole-range.ttf` }];
    const { job, watch } = await beside(t, request(deployment.projectId, layers));
    assert.equal(job.status, 'failed');
    assert.equal(job.error.code, 'SOURCE_UNAVAILABLE');
    assert.match(
      job.error.message,
      /^layer "claims" \(movie\.scenes\[0\]\.layers\[0\]\): http:\/\/.*whole-range\.ttf: is not a font/,
    );
    assertResponsive(watch, 'hostile cmap');
  });

  test('item 4: fonts do not accumulate: 40 distinct fontUrl fonts and 20 refused ones leave the service within 300 MB of where it was', async (t) => {
    const inter = await readFile(join(ROOT, 'node_modules/@fontsource/inter/files/inter-latin-400-normal.woff2'));
    // each a real font with a version of its own (WOFF2 header bytes 24-27: another digest, the same glyphs), or 88 bytes that are no font
    for (let i = 0; i < 40; i++) {
      const font = Buffer.from(inter);
      font.writeUInt16BE(i, 26);
      await writeFile(join(dir, `font-${i}.woff2`), font);
    }
    for (let i = 0; i < 20; i++) await writeFile(join(dir, `junk-${i}.ttf`), Buffer.alloc(88, i + 1));
    const pids = deployment.processes.map((p) => p.child.pid!);
    const before = pids.reduce((sum, pid) => sum + treeRss(pid), 0);
    const fonts = (from: number, name: (i: number) => string) =>
      Array.from({ length: 10 }, (_, i) => ({
        id: `font-${from + i}`,
        type: 'text',
        text: `Font ${from + i}`,
        fontUrl: `${assets.url}/${name(from + i)}`,
        size: { width: 160, height: 18 },
        position: { x: 0, y: 18 * i },
      }));
    for (const from of [0, 10, 20, 30]) {
      const jobId = await submitJob(
        deployment,
        deployment.key,
        request(
          deployment.projectId,
          fonts(from, (i) => `font-${i}.woff2`),
        ),
      );
      const job = await waitForJob(deployment.url, deployment.key, jobId, 60_000);
      assert.equal(job.status, 'done', JSON.stringify(job.error));
    }
    for (const from of [0, 10]) {
      const jobId = await submitJob(
        deployment,
        deployment.key,
        request(
          deployment.projectId,
          fonts(from, (i) => `junk-${i}.ttf`),
        ),
      );
      const job = await waitForJob(deployment.url, deployment.key, jobId, 60_000);
      assert.equal(job.error?.code, 'SOURCE_UNAVAILABLE');
    }
    const grown = pids.reduce((sum, pid) => sum + treeRss(pid), 0) - before;
    t.diagnostic(`the service grew by ${Math.round(grown / MiB)} MB`);
    assert.ok(grown < 300 * MiB, `the service grew by ${Math.round(grown / MiB)} MB`);
  });

  test("item 7: boxes at the Pro plan's limit (3840x2160, past a 1080p canvas) are drawn for the canvas only", async (t) => {
    await media.png(join(dir, 'photo.png'), 'orange', 640, 480);
    const box = { size: { width: 3840, height: 2160 }, position: { x: -960, y: -540 } };
    const layers = [
      { id: 'photo', type: 'image', source: `${assets.url}/photo.png`, ...box },
      ...[0, 1, 2].map((i) => ({ id: `wall-${i}`, type: 'text', text: `Wall ${i}`, fontSize: 200, ...box })),
    ];
    const { job, watch } = await beside(t, request(deployment.projectId, layers, 1920, 1080));
    assert.equal(job.status, 'done', JSON.stringify(job.error));
    assertResponsive(watch, 'large boxes');
    assert.ok(watch.peakRss < 1500 * MiB, `peak ${Math.round(watch.peakRss / MiB)} MB`);
  });

  test('item 6: four MP4s of a few KB whose indexes claim 20M samples fail SOURCE_TOO_LARGE, their readers held to the memory limit', async (t) => {
    const clip = await readFile(
      await media.video(join(dir, 'clip.mp4'), 'green', 64, 36, 1, { silent: true, fps: 10 }),
    );
    const layers = await Promise.all(
      [0, 1, 2, 3].map(async (i) => {
        await writeFile(join(dir, `bomb-${i}.mp4`), indexBomb(clip, 20_000_000 + i));
        return { id: `bomb-${i}`, type: 'video', source: `${assets.url}/bomb-${i}.mp4` };
      }),
    );
    const { job, watch } = await beside(t, request(deployment.projectId, layers));
    assert.equal(job.error?.code, 'SOURCE_TOO_LARGE', JSON.stringify(job.error));
    assert.match(
      job.error.message,
      /^layer "bomb-\d" \(movie\.scenes\[0\]\.layers\[\d\]\): http:.*bomb-\d\.mp4: needs more than/,
    );
    assertResponsive(watch, 'index bombs');
    // two readers at once (one per core) of at most 1 GiB each, beside the service and the other job
    assert.ok(watch.peakRss < 3000 * MiB, `peak ${Math.round(watch.peakRss / MiB)} MB`);
  });

  test("the limits are the operator's settings: REELSMITH_JOB_DISK_MB=16 fails a job whose pictures need more, naming the layer", async () => {
    const small = await cliDeployment({ REELSMITH_JOB_DISK_MB: '16' });
    await media.png(join(dir, 'wide.png'), 'purple', 640, 360);
    // each box another 1080p fit of the same picture: 8 MiB of work file apiece (YUVA 4:4:4)
    const layers = [0, 1, 2].map((i) => ({
      id: `wide-${i}`,
      type: 'image',
      source: `${assets.url}/wide.png`,
      size: { width: 1920 - 2 * i, height: 1080 },
    }));
    const jobId = await submitJob(small, small.key, request(small.projectId, layers, 1920, 1080));
    const job = await waitForJob(small.url, small.key, jobId, 60_000);
    assert.equal(job.error?.code, 'SOURCE_TOO_LARGE', JSON.stringify(job.error));
    assert.match(
      job.error.message,
      /^layer "wide-2" \(movie\.scenes\[0\]\.layers\[2\]\): the job's work files would pass its 16 MiB budget/,
    );
  });
});
