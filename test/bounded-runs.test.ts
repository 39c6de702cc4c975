// No ffmpeg runs unbounded: a stalled one (no progress) and one past its time limit are
// killed, leave no process, and fail with FfmpegTimeoutError, never taken for a cancel or
// an ffmpeg error; a job killed so ends failed with RENDER_TIMEOUT naming the scene and
// the limit, its minutes returned and its worker freed for other tenants. Every ffmpeg and
// ffprobe runs with its address-space limit, and probes wait for a few slots that renders
// take in turns. And a render fails with its first real failure, never "render cancelled"
// unless the caller cancelled.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { readFile } from 'node:fs/promises';
import {
  BinaryUnavailableError,
  FfmpegTimeoutError,
  processLimits,
  run,
  setProcessLimits,
  runFfmpeg,
  runFfprobe,
} from '../src/media/index.ts';
import { ProbeSlots } from '../src/media/probe-slots.ts';
import type { TimeLimits } from '../src/render/index.ts';
import { ffmpegChildren, cli, listFiles, media, mediaServer, render, tempDir, until } from './helpers.ts';
import { api, startService, waitForJob } from './service-helpers.ts';

const onLinux = process.platform === 'linux';
const dir = await tempDir('reelsmith-bounded-');
const server = await mediaServer(dir);
await Promise.all([
  media.video(join(dir, 'clip.mp4'), 'green', 320, 180, 2, { silent: true }),
  media.tone(join(dir, 'tone.mp3'), 3),
  media.undecodableVideo(join(dir, 'zeroed.mp4')),
]);

/** A named pipe nobody writes: whoever opens it to read waits for ever, reading nothing. */
function fifo(name: string): string {
  const path = join(dir, name);
  execFileSync('mkfifo', [path]);
  return path;
}

async function rejection(pending: Promise<unknown>): Promise<Error> {
  return pending.then(
    () => assert.fail('it should have failed'),
    (e: unknown) => e as Error,
  );
}

/** Nothing of ours is left running: every ffmpeg/ffprobe child of this process is gone. */
async function assertNoFfmpegLeft(): Promise<void> {
  assert.deepEqual(
    (await ffmpegChildren(process.pid)).filter((p) => p.state !== 'Z'),
    [],
    'no ffmpeg still running',
  );
  await until(async () => (await ffmpegChildren(process.pid)).length === 0, 2000, 'every ffmpeg child reaped');
}

// ---------------------------------------------------------------------------------------
// One run

test('an ffmpeg stalled on an input that never opens is killed after its stall limit, and leaves no process', {
  skip: !onLinux && 'mkfifo, /proc',
}, async () => {
  const err = await rejection(
    runFfmpeg(['-f', 's16le', '-i', `file:${fifo('stalled.pcm')}`, '-f', 'null', '-'], {
      limits: { seconds: 600, stallSeconds: 1 },
    }),
  );
  assert.ok(err instanceof FfmpegTimeoutError, String(err));
  assert.equal(err.limit, 'stalled');
  assert.equal(err.seconds, 1);
  assert.equal(err.message, 'ffmpeg stalled: no progress for 1 s');
  await assertNoFfmpegLeft();
});

test('an encode that never ends is killed at its wall-clock limit even though it keeps making progress', {
  skip: !onLinux && '/proc',
}, async () => {
  let frames = 0;
  const endless = [
    '-f',
    'lavfi',
    '-i',
    'testsrc=s=320x180:r=30',
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-f',
    'null',
    '-',
  ];
  const err = await rejection(
    runFfmpeg(endless, { limits: { seconds: 1.5, stallSeconds: 60 }, onFrames: (n) => (frames = n) }),
  );
  assert.ok(err instanceof FfmpegTimeoutError, String(err));
  assert.equal(err.limit, 'time');
  assert.equal(err.message, 'ffmpeg ran longer than its 1.5 s limit');
  assert.ok(frames > 0, 'it was encoding');
  await assertNoFfmpegLeft();
});

test('a limit longer than a timer can hold (a huge canvas, a slow preset) lets the run finish', async () => {
  const frames: number[] = [];
  await runFfmpeg(['-f', 'lavfi', '-i', 'testsrc=s=320x180:r=30:d=0.5', '-f', 'null', '-'], {
    limits: { seconds: 1e10, stallSeconds: 1e10 },
    onFrames: (n) => frames.push(n),
  });
  assert.equal(frames.at(-1), 15);
});

test('ffprobe is bounded too', { skip: !onLinux && 'mkfifo, /proc' }, async () => {
  const err = await rejection(runFfprobe([`file:${fifo('probed.mp4')}`], { limits: { seconds: 1 } }));
  assert.ok(err instanceof FfmpegTimeoutError, String(err));
  assert.equal(err.message, 'ffprobe ran longer than its 1 s limit');
  await assertNoFfmpegLeft();
});

test('a cancel is still a cancel, not a timeout', async () => {
  const err = await rejection(
    runFfmpeg(['-f', 's16le', '-i', `file:${fifo('cancelled.pcm')}`, '-f', 'null', '-'], {
      limits: { seconds: 600, stallSeconds: 600 },
      signal: AbortSignal.timeout(300),
    }),
  );
  assert.equal(err.name, 'AbortedError', String(err));
});

/** The address-space limit of a running process, as the kernel holds it: [soft, hard] bytes. */
async function addressSpaceLimit(pid: number): Promise<[number, number]> {
  const limits = await readFile(`/proc/${pid}/limits`, 'utf8');
  const [, soft, hard] = /^Max address space\s+(\S+)\s+(\S+)/m.exec(limits) ?? assert.fail(limits);
  return [Number(soft), Number(hard)];
}

test('every ffprobe and ffmpeg runs as itself (no shell left) under its address-space limit', {
  skip: !onLinux && 'RLIMIT_AS, mkfifo, /proc',
}, async () => {
  const limits = processLimits();
  const waiting = new AbortController();
  const runs = [
    rejection(runFfprobe([`file:${fifo('limited.mp4')}`], { signal: waiting.signal })),
    rejection(
      runFfmpeg(['-f', 's16le', '-i', `file:${fifo('limited.pcm')}`, '-f', 'null', '-'], {
        limits: { seconds: 60 },
        signal: waiting.signal,
      }),
    ),
  ];
  await until(async () => (await ffmpegChildren(process.pid)).length === 2, 10_000, 'both run');
  const children = await ffmpegChildren(process.pid);
  for (const child of children) {
    assert.equal(child.ppid, process.pid, `${child.name} is our child: the shell that set its limit became it`);
    const expected = child.name.startsWith('ffprobe') ? limits.ffprobeBytes : limits.ffmpegBytes;
    assert.deepEqual(await addressSpaceLimit(child.pid), [expected, expected], child.name);
  }
  waiting.abort();
  for (const err of await Promise.all(runs)) assert.equal(err.name, 'AbortedError', String(err));
  await assertNoFfmpegLeft();
});

test('the limits are settings: a run takes the value set, and a value too small to start ffmpeg is refused', {
  skip: !onLinux && 'RLIMIT_AS, mkfifo, /proc',
}, async () => {
  const defaults = processLimits();
  assert.throws(() => setProcessLimits({ ffprobeBytes: 100 * 2 ** 20 }), /ffprobeBytes must be at least 512 MiB/);
  assert.throws(() => setProcessLimits({ probesAtOnce: 0 }), /probesAtOnce must be a positive whole number/);
  setProcessLimits({ ffprobeBytes: 768 * 2 ** 20 });
  try {
    const waiting = new AbortController();
    const probing = rejection(runFfprobe([`file:${fifo('set-limit.mp4')}`], { signal: waiting.signal }));
    await until(async () => (await ffmpegChildren(process.pid)).length === 1, 10_000, 'it runs');
    const [child] = await ffmpegChildren(process.pid);
    assert.deepEqual(await addressSpaceLimit(child.pid), [768 * 2 ** 20, 768 * 2 ** 20]);
    waiting.abort();
    await probing;
  } finally {
    setProcessLimits(defaults);
  }
  assert.deepEqual(processLimits(), defaults);
  await assertNoFfmpegLeft();
});

test('a binary the limiting shell cannot run is told as that binary, never as the input', async () => {
  const err = await rejection(run(join(dir, 'no-such-ffmpeg'), ['-version']));
  assert.ok(err instanceof BinaryUnavailableError, String(err));
  assert.equal(err.code, onLinux ? 'ENOENT' : err.code);
});

test('probe slots: at most their size at once, renders taking turns, a failure freeing its slot', async () => {
  const started: string[] = [];
  const finish = new Map<string, () => void>();
  let running = 0;
  let most = 0;
  const slots = new ProbeSlots(() => 2);
  const probe = (owner: object, name: string) =>
    slots.run(owner, async () => {
      started.push(name);
      most = Math.max(most, ++running);
      await new Promise<void>((resolve) => finish.set(name, resolve));
      running--;
      if (name === 'a2') throw new Error('a2 is refused');
    });
  // a task that throws before it returns a promise fails alone and frees its slot
  const sync = await slots
    .run({}, () => {
      throw new Error('thrown at once');
    })
    .catch((e: Error) => e.message);
  assert.equal(sync, 'thrown at once');
  const [a, b] = [{}, {}];
  const settled = Promise.allSettled([
    ...['a1', 'a2', 'a3', 'a4'].map((name) => probe(a, name)),
    ...['b1', 'b2'].map((name) => probe(b, name)),
  ]);
  const settle = async (name: string) => {
    finish.get(name)!();
    await new Promise((r) => setImmediate(r));
  };
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(started, ['a1', 'a2']);
  await settle('a1');
  assert.deepEqual(started, ['a1', 'a2', 'b1'], "b's first probe goes before a's third");
  await settle('a2');
  assert.deepEqual(started, ['a1', 'a2', 'b1', 'a3'], 'a failed probe frees its slot');
  for (const name of ['b1', 'a3', 'b2', 'a4']) await settle(name);
  assert.deepEqual(started, ['a1', 'a2', 'b1', 'a3', 'b2', 'a4']);
  assert.equal(most, 2);
  assert.deepEqual(
    (await settled).map((r) => r.status),
    ['fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled', 'fulfilled'],
  );
});

// ---------------------------------------------------------------------------------------
// A render: the first real failure is what the caller gets

/** 320x180: a captioned scene with music under the whole movie, then a scene with `layer`. */
function withMusic(layer: Record<string, unknown>, duration = 1) {
  return {
    width: 320,
    height: 180,
    fps: 30,
    scenes: [
      {
        id: 'intro',
        duration: 1,
        layers: [
          { id: 'caption', type: 'text', text: 'Hello', fontSize: 20 },
          { id: 'music', type: 'audio', source: 'tone.mp3', loop: true },
        ],
      },
      { id: 'broken', duration, layers: [layer] },
    ],
  };
}

async function attempt(movie: unknown, limits?: Partial<TimeLimits>) {
  const out = await mkdtemp(join(dir, 'out-'));
  const err = await rejection(
    render(movie, dir, { output: join(out, 'movie.mp4'), sourceDir: join(dir, 'sources'), limits }),
  );
  assert.deepEqual(await listFiles(out), [], 'no output and no .partial file');
  return err;
}

test('with an audio layer, a scene whose video cannot be decoded fails with that scene\'s ffmpeg error, not "render cancelled"', async () => {
  const err = await attempt(withMusic({ id: 'clip', type: 'video', source: 'zeroed.mp4' }));
  assert.equal(err.name, 'FfmpegError', String(err));
  assert.match(err.message, /^scene "broken" \(movie\.scenes\[1\]\): ffmpeg exited with 1: /);
  assert.doesNotMatch(err.message, /cancel/);
  assert.ok(!err.message.includes(dir), `no server path in "${err.message}"`);
});

test("`reelsmith render` prints that scene's error too, and writes nothing", async () => {
  const out = await mkdtemp(join(dir, 'out-'));
  const file = join(dir, 'broken.json');
  await writeFile(file, JSON.stringify(withMusic({ id: 'clip', type: 'video', source: 'zeroed.mp4' })));
  const { code, stderr } = await cli(['render', file, '-o', join(out, 'movie.mp4'), '--quiet'], {
    env: { TMPDIR: await tempDir('reelsmith-bounded-cli-') },
  });
  assert.equal(code, 1, stderr);
  assert.match(stderr, /^error: scene "broken" \(movie\.scenes\[1\]\): ffmpeg exited with 1: /);
  assert.doesNotMatch(stderr, /cancel/);
  assert.deepEqual(await listFiles(out), []);
});

test('with an audio layer, a scene past its time limit fails with the timeout naming the scene and the limit', {
  skip: !onLinux && '/proc',
}, async () => {
  // ten minutes of 640x360 video, every frame encoded, would need 1800 frames a second to finish
  // in 10 s; the one-second intro has the same 10 s, room enough on a loaded machine
  const movie = {
    ...withMusic({ id: 'clip', type: 'video', source: 'clip.mp4', loop: true }, 600),
    width: 640,
    height: 360,
  };
  const err = await attempt(movie, { sceneBaseSeconds: 10, scenePerFrameSeconds: 0 });
  assert.ok(err instanceof FfmpegTimeoutError, String(err));
  assert.equal(err.message, 'scene "broken" (movie.scenes[1]): ffmpeg ran longer than its 10 s limit');
  await assertNoFfmpegLeft();
});

test('an audio mix past its time limit fails the render naming the audio mix', async () => {
  const err = await attempt(withMusic({ id: 'clip', type: 'video', source: 'clip.mp4', loop: true }, 600), {
    audioMixBaseSeconds: 0.2,
    audioMixPerSecond: 0,
  });
  assert.ok(err instanceof FfmpegTimeoutError, String(err));
  assert.equal(err.message, 'the audio mix: ffmpeg ran longer than its 0.2 s limit');
});

// ---------------------------------------------------------------------------------------
// Through the service

test('a job whose scene passes its limit fails with RENDER_TIMEOUT, returns its minutes and frees its worker for another tenant', {
  skip: !onLinux && '/proc',
}, async () => {
  // one scene worker: the second tenant's job can only render once the first one's is freed
  const svc = await startService({ workers: 1, limits: { sceneBaseSeconds: 8, scenePerFrameSeconds: 0 } });
  const [a, b] = [await svc.tenant('pro'), await svc.tenant('pro')];
  const submit = async (key: string, projectId: string, movie: unknown) => {
    const res = await api(svc.url, key, '/v1/render/jobs', {
      method: 'POST',
      json: { kind: 'movie', projectId, movie },
    });
    assert.equal(res.status, 202, await res.clone().text());
    return ((await res.json()) as { jobId: string }).jobId;
  };
  const usage = async (key: string) =>
    (await (await api(svc.url, key, '/v1/usage')).json()) as {
      month: { minutes: number };
      activeJobs: { count: number };
    };

  // 9 minutes of 720p video, every frame encoded: far more than 8 s of work on any machine
  const endless = {
    width: 1280,
    height: 720,
    fps: 30,
    scenes: [
      {
        id: 'endless',
        duration: 540,
        layers: [{ id: 'clip', type: 'video', source: `${server.url}/clip.mp4`, loop: true }],
      },
    ],
  };
  const slow = await submit(a.key, a.projectId, endless);
  await until(
    async () =>
      ((await (await api(svc.url, a.key, `/v1/jobs/${slow}`)).json()) as { phase: string }).phase === 'rendering',
    30_000,
    'the long job renders',
  );
  assert.equal((await usage(a.key)).month.minutes, 9, 'the running job holds its 9 minutes');

  const quick = await submit(b.key, b.projectId, {
    width: 320,
    height: 180,
    fps: 30,
    scenes: [{ id: 'hello', duration: 1, layers: [{ id: 'caption', type: 'text', text: 'Hello' }] }],
  });
  const failed = await waitForJob(svc.url, a.key, slow, 60_000);
  assert.equal(failed.status, 'failed');
  assert.equal(failed.error.code, 'RENDER_TIMEOUT');
  assert.equal(failed.error.message, 'scene "endless" (movie.scenes[0]): ffmpeg ran longer than its 8 s limit');
  const after = await usage(a.key);
  assert.equal(after.month.minutes, 0, 'its minutes are returned');
  assert.equal(after.activeJobs.count, 0, 'it no longer counts as active');

  const other = await waitForJob(svc.url, b.key, quick, 60_000);
  assert.equal(other.status, 'done', `the other tenant's job completes: ${JSON.stringify(other.error)}`);
  await assertNoFfmpegLeft();
});
