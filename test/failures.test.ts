// Bad inputs at render time, through the engine (renderMovie) and the CLI: each failure
// names the layer, where it is in the JSON, the source and the reason; nothing is left in
// the output folder; cancelling stops every ffmpeg and removes every temporary file.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { normalizeMovie } from '../src/movie/index.ts';
import { renderMovie, type LayerSourceError, type RenderOptions } from '../src/render/index.ts';
import {
  cli as runCli,
  collect,
  decodeFrames,
  ffmpeg,
  ffmpegChildren,
  ffmpegNames,
  listFiles,
  media,
  mediaServer,
  near,
  probe,
  processes,
  render,
  ROOT,
  stillThere,
  tempDir,
  until,
  type Proc,
} from './helpers.ts';

const onLinux = process.platform === 'linux';

// ---------------------------------------------------------------------------------------
// Media, made once: a served folder with a good picture, a tone, a text file, a truncated
// MP4, and a source video for the long renders that get cancelled.

const dir = await tempDir('reelsmith-failures-');
const server = await mediaServer(dir);
/** os.tmpdir() of the CLI runs: what they fetch or leave behind stays out of the shared /tmp. */
const cliTmp = await tempDir('reelsmith-failures-cli-tmp-');
await Promise.all([
  media.png(join(dir, 'red.png'), 'red', 64, 36),
  media.tone(join(dir, 'tone.mp3'), 0.5),
  writeFile(join(dir, 'notes.txt'), 'Shopping list\n- milk\n- eggs\n'),
  media.video(join(dir, 'long-source.mp4'), 'green', 320, 180, 10, { silent: true }),
  truncatedMp4(join(dir, 'whole.mp4'), join(dir, 'truncated.mp4')),
]);

/** A real MP4 written without +faststart (moov after the media), cut in half: no moov at all. */
async function truncatedMp4(whole: string, cut: string) {
  await ffmpeg([
    '-f',
    'lavfi',
    '-i',
    'testsrc=s=320x180:r=30:d=2',
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-pix_fmt',
    'yuv420p',
    whole,
  ]);
  const bytes = await readFile(whole);
  assert.ok(bytes.indexOf('moov') > bytes.length / 2, 'the moov atom is at the end of the file');
  await writeFile(cut, bytes.subarray(0, Math.floor(bytes.length / 2)));
  assert.equal((await probe(whole)).video.nb_read_frames, '60', 'the whole file is a good video');
}

/** A 320x180 movie: a caption, then the layer under test (so it sits at layers[1]). */
function withLayer(layer: Record<string, unknown>) {
  return {
    width: 320,
    height: 180,
    fps: 30,
    scenes: [
      {
        id: 'only',
        duration: 1,
        bgColor: '#102030',
        layers: [{ id: 'caption', type: 'text', text: 'Hello', fontSize: 20 }, layer],
      },
    ],
  };
}

/** Renders into a fresh, empty output folder; returns the folder and the outcome. */
async function attempt(movie: unknown, options: Partial<RenderOptions> = {}) {
  const out = await mkdtemp(join(dir, 'out-'));
  const result = render(movie, dir, { output: join(out, 'movie.mp4'), sourceDir: join(dir, 'sources'), ...options });
  return { out, result };
}

/** The render failed with one error a user can act on: which layer, where, which source, why. */
async function assertLayerError(
  outcome: { out: string; result: Promise<unknown> },
  expected: { layerId: string; path: string; source: string; reason: RegExp },
): Promise<LayerSourceError> {
  const err = await outcome.result.then(
    () => assert.fail('the render should have failed'),
    (e: unknown) => e as LayerSourceError,
  );
  assert.equal(err.name, 'LayerSourceError', String(err));
  assert.equal(err.layerId, expected.layerId);
  assert.equal(err.source, expected.source);
  assert.match(err.reason, expected.reason);
  for (const part of [`layer "${expected.layerId}"`, `(${expected.path})`, expected.source, err.reason]) {
    assert.ok(err.message.includes(part), `"${err.message}" mentions ${part}`);
  }
  assert.deepEqual(await listFiles(outcome.out), [], 'no output and no .partial file left behind');
  return err;
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

// ---------------------------------------------------------------------------------------
// Sources that cannot be fetched

test('a 404 names the layer, its JSON path, the URL and the HTTP status', async () => {
  const url = `${server.url}/missing.png`;
  await assertLayerError(
    await attempt(withLayer({ id: 'photo', type: 'image', source: url }), { fetch: { allowPrivateNetworks: true } }),
    {
      layerId: 'photo',
      path: 'movie.scenes[0].layers[1]',
      source: url,
      reason: /^HTTP 404$/,
    },
  );
});

test('a refused connection names the layer, the URL and ECONNREFUSED', async () => {
  const url = `http://127.0.0.1:${await closedPort()}/photo.png`;
  await assertLayerError(
    await attempt(withLayer({ id: 'photo', type: 'image', source: url }), { fetch: { allowPrivateNetworks: true } }),
    {
      layerId: 'photo',
      path: 'movie.scenes[0].layers[1]',
      source: url,
      reason: /ECONNREFUSED/,
    },
  );
});

test('a server that never answers fails after the fetch timeout', async () => {
  const url = `${server.url}/hang`;
  const started = performance.now();
  await assertLayerError(
    await attempt(withLayer({ id: 'photo', type: 'image', source: url }), {
      fetch: { allowPrivateNetworks: true, timeoutMs: 300 },
    }),
    { layerId: 'photo', path: 'movie.scenes[0].layers[1]', source: url, reason: /timed out after 300 ms/ },
  );
  assert.ok(performance.now() - started < 5000);
});

test('loopback URLs are refused unless private networks are allowed', async () => {
  const url = `${server.url}/red.png`;
  await assertLayerError(await attempt(withLayer({ id: 'photo', type: 'image', source: url })), {
    layerId: 'photo',
    path: 'movie.scenes[0].layers[1]',
    source: url,
    reason: /address 127\.0\.0\.1 is not allowed \(private network\)/,
  });
  // a name that resolves to loopback is refused too
  const byName = url.replace('127.0.0.1', 'localhost');
  await assertLayerError(await attempt(withLayer({ id: 'photo', type: 'image', source: byName })), {
    layerId: 'photo',
    path: 'movie.scenes[0].layers[1]',
    source: byName,
    reason: /not allowed \(private network\)/,
  });

  // allowed: the picture is fetched and shown
  const { out, result } = await attempt(withLayer({ id: 'photo', type: 'image', source: url }), {
    fetch: { allowPrivateNetworks: true },
  });
  const rendered = await result;
  assert.equal(rendered.path, join(out, 'movie.mp4'));
  assert.deepEqual(await listFiles(out), ['movie.mp4']);
  const info = await probe(rendered.path);
  assert.deepEqual([info.video.width, info.video.height, info.video.nb_read_frames], [320, 180, '30']);
  const frames = await decodeFrames(rendered.path, 320, 180);
  assert.ok(near(frames.pixel(15, 10, 170), [254, 0, 0], 16), `red, got ${frames.pixel(15, 10, 170)}`);
});

test('a redirect to ftp: is refused', async () => {
  const url = `${server.url}/redirect-to-ftp`;
  await assertLayerError(
    await attempt(withLayer({ id: 'photo', type: 'image', source: url }), { fetch: { allowPrivateNetworks: true } }),
    {
      layerId: 'photo',
      path: 'movie.scenes[0].layers[1]',
      source: url,
      reason: /redirect .*ftp:.* refused/,
    },
  );
});

// ---------------------------------------------------------------------------------------
// Sources that are not what the layer needs

test('a truncated MP4 (no moov atom) as a video source fails naming the layer', async () => {
  const source = join(dir, 'truncated.mp4');
  const err = await assertLayerError(await attempt(withLayer({ id: 'clip', type: 'video', source: 'truncated.mp4' })), {
    layerId: 'clip',
    path: 'movie.scenes[0].layers[1]',
    source,
    reason: /^cannot be read as MP4\/MOV/,
  });
  assert.match(err.reason, /moov atom not found|Invalid data/);
});

test('a text file or an mp3 as an image layer fails naming the layer', async () => {
  await assertLayerError(await attempt(withLayer({ id: 'picture', type: 'image', source: 'notes.txt' })), {
    layerId: 'picture',
    path: 'movie.scenes[0].layers[1]',
    source: join(dir, 'notes.txt'),
    reason: /^is text, not an image or media file Reelsmith reads \(PNG, JPEG, /,
  });
  await assertLayerError(await attempt(withLayer({ id: 'picture', type: 'image', source: 'tone.mp3' })), {
    layerId: 'picture',
    path: 'movie.scenes[0].layers[1]',
    source: join(dir, 'tone.mp3'),
    reason: /^is not an image \(MP3 with audio\)$/,
  });
});

test('a missing local file fails naming the layer and the path', async () => {
  await assertLayerError(await attempt(withLayer({ id: 'picture', type: 'image', source: 'nowhere/photo.png' })), {
    layerId: 'picture',
    path: 'movie.scenes[0].layers[1]',
    source: join(dir, 'nowhere/photo.png'),
    reason: /^no such file$/,
  });
});

test('a URL written without "//" is fetched or refused, never read as a local file', async () => {
  const source = `${server.url.replace('http://', 'http:/')}/red.png`; // http:/127.0.0.1:PORT/red.png
  const movie = withLayer({ id: 'photo', type: 'image', source });
  let normalized: ReturnType<typeof normalizeMovie>;
  try {
    normalized = normalizeMovie(movie, { allowLocalFiles: false }); // the service's policy: URLs only
  } catch (err) {
    assert.match(String(err), /movie\.scenes\[0\]\.layers\[1\]\.source/);
    return; // refusing it is fine
  }
  const out = await mkdtemp(join(dir, 'out-'));
  const result = await renderMovie(normalized, {
    output: join(out, 'movie.mp4'),
    sourceDir: join(dir, 'sources'),
    fetch: { allowPrivateNetworks: true },
  });
  assert.equal(result.mediaData.width, 320); // today: LayerSourceError "...: http:/127.0.0.1:PORT/red.png: no such file"
});

test("when one layer fails, the other layers' downloads are cancelled too", async () => {
  const hanging: Socket[] = [];
  const onRequest = (req: IncomingMessage) => req.url === '/hang' && hanging.push(req.socket);
  server.server.on('request', onRequest);
  try {
    const movie = withLayer({ id: 'gone', type: 'image', source: `${server.url}/missing.png` });
    movie.scenes[0].layers.push({ id: 'slow', type: 'image', source: `${server.url}/hang` });
    const outcome = await attempt(movie, { fetch: { allowPrivateNetworks: true } });
    await assertLayerError(outcome, {
      layerId: 'gone',
      path: 'movie.scenes[0].layers[1]',
      source: `${server.url}/missing.png`,
      reason: /HTTP 404/,
    });
    await until(() => hanging.length > 0, 2000, 'the slow download started');
    await until(() => hanging.every((s) => s.destroyed), 1000, 'the slow download was cancelled').catch(() =>
      assert.fail("1 s after renderMovie rejected, the other layer's download is still open"),
    );
  } finally {
    server.server.off('request', onRequest);
  }
});

// ---------------------------------------------------------------------------------------
// The CLI

test('`reelsmith validate` exits 0 on examples/hello.json', async () => {
  const { code, stdout, stderr } = await cli(['validate', 'examples/hello.json']);
  assert.equal(code, 0, stderr);
  assert.match(stdout, /examples\/hello\.json: valid/);
});

test('`reelsmith validate` exits 2 on a bad movie, listing every problem by JSON path on stderr', async () => {
  const file = join(dir, 'bad.json');
  await writeFile(
    file,
    JSON.stringify({
      width: 1921,
      scenes: [
        {
          id: 'a',
          duration: 2,
          bgColor: 'nope',
          layers: [
            { id: 't', type: 'text' },
            { id: 't', type: 'image', source: 'ftp://x.example.com/y.png' },
          ],
        },
        { duration: 0 },
      ],
    }),
  );
  const { code, stdout, stderr } = await cli(['validate', file]);
  assert.equal(code, 2);
  assert.equal(stdout, '');
  const lines = stderr.trimEnd().split('\n');
  assert.equal(lines[0], `error: ${file} is not valid: 7 problems`);
  assert.deepEqual(lines.slice(1).sort(), [
    '  movie.scenes[0].bgColor: "nope" is not a colour; use #rgb, #rgba, #rrggbb or #rrggbbaa',
    '  movie.scenes[0].layers[0].text: is required for a text layer',
    '  movie.scenes[0].layers[1].id: "t" is already used by another layer in this scene (index 0)',
    '  movie.scenes[0].layers[1].source: "ftp://x.example.com/y.png" uses ftp: only http and https URLs are allowed',
    '  movie.scenes[1].duration: must be greater than 0',
    '  movie.scenes[1].id: is required',
    '  movie.width: must be an even number',
  ]);

  const json = await cli(['validate', '--json', file]);
  assert.equal(json.code, 2);
  const report = JSON.parse(json.stdout).error as { total: number; problems: Array<{ path: string; message: string }> };
  assert.equal(report.total, 7);
  assert.equal(report.problems.length, 7);
  assert.ok(
    report.problems.some((p) => p.path === 'movie.scenes[1].duration' && p.message === 'must be greater than 0'),
  );
});

test('`reelsmith render` with a missing local file exits 1 (the render failed) naming the layer and the file, and writes nothing', async () => {
  const file = join(dir, 'missing-file.json');
  await writeFile(file, JSON.stringify(withLayer({ id: 'picture', type: 'image', source: 'assets/gone.png' })));
  const out = await mkdtemp(join(dir, 'out-'));
  const { code, stdout, stderr } = await cli(['render', file, '-o', join(out, 'movie.mp4'), '--quiet']);
  assert.equal(code, 1);
  assert.equal(stdout, '');
  assert.equal(stderr.trim(), 'error: layer "picture" (movie.scenes[0].layers[1]): assets/gone.png: no such file');
  assert.deepEqual(await listFiles(out), []);
});

test('`reelsmith render` of an invalid movie exits 2 listing the problems, and writes nothing', async () => {
  const file = join(dir, 'invalid.json');
  await writeFile(
    file,
    JSON.stringify({ kind: 'movie', movie: { fps: 0, scenes: [{ id: 'a', duration: 1, bgColor: 'blue' }] } }),
  );
  const out = await mkdtemp(join(dir, 'out-'));
  const { code, stderr } = await cli(['render', file, '-o', join(out, 'movie.mp4'), '--quiet']);
  assert.equal(code, 2);
  assert.match(stderr, new RegExp(`^error: ${file} is not valid: 2 problems\n`));
  assert.match(stderr, /^ {2}movie\.fps: must be a whole number from 1 to 120 or one of 23\.976, 29\.97/m);
  assert.match(stderr, /^ {2}movie\.scenes\[0\]\.bgColor: "blue" is not a colour/m);
  assert.deepEqual(await listFiles(out), []);
});

test('`reelsmith render` refuses a loopback URL unless --allow-private-networks is given', async () => {
  const file = join(dir, 'loopback.json');
  const url = `${server.url}/red.png`;
  await writeFile(file, JSON.stringify(withLayer({ id: 'photo', type: 'image', source: url })));
  const out = await mkdtemp(join(dir, 'out-'));
  const env = { REELSMITH_ALLOW_PRIVATE_NETWORKS: '' };
  const { code, stderr } = await cli(['render', file, '-o', join(out, 'movie.mp4'), '--quiet'], { env });
  assert.equal(code, 1);
  assert.equal(
    stderr.trim(),
    `error: layer "photo" (movie.scenes[0].layers[1]): ${url}: address 127.0.0.1 is not allowed (private network): ` +
      'allow private networks with --allow-private-networks or REELSMITH_ALLOW_PRIVATE_NETWORKS=1 (or a comma list of CIDRs)',
  );
  assert.deepEqual(await listFiles(out), []);
});

test('the CLI exits soon after a failed render, even while another source is still downloading', async () => {
  const file = join(dir, 'hang-and-404.json');
  const movie = withLayer({ id: 'gone', type: 'image', source: `${server.url}/missing.png` });
  movie.scenes[0].layers.push({ id: 'slow', type: 'image', source: `${server.url}/hang` });
  await writeFile(file, JSON.stringify(movie));
  const out = await mkdtemp(join(dir, 'out-'));
  // /hang never answers and a download waits 120 s for it: exiting within 60 s means the CLI did not wait (and a loaded machine has room)
  const { code, stderr } = await cli(
    ['render', file, '-o', join(out, 'movie.mp4'), '--quiet', '--allow-private-networks'],
    { timeoutMs: 60_000 },
  );
  assert.match(stderr, /layer "gone" .*HTTP 404/);
  assert.equal(code, 1, 'exited with 1 (render failed) without waiting for the hanging download');
});

// ---------------------------------------------------------------------------------------
// Cancelling

/** Long enough at 1080p to still be encoding seconds after it starts; three ffmpegs at once. */
const longMovie = {
  width: 1920,
  height: 1080,
  fps: 30,
  scenes: ['first', 'second'].map((id) => ({
    id,
    duration: 20,
    layers: [{ id: `${id}-clip`, type: 'video', source: 'long-source.mp4', loop: true }],
  })),
};

test('aborting renderMovie mid-render rejects with AbortedError at once, kills every ffmpeg and leaves no files', {
  skip: !onLinux && 'reads /proc',
}, async () => {
  // A private os.tmpdir() for this render, so that renders of other test files running
  // at the same time cannot add or remove reelsmith-render-* folders in the listing.
  const tmp = await tempDir('reelsmith-tmpdir-');
  const savedTmp = process.env.TMPDIR;
  process.env.TMPDIR = tmp;
  try {
    assert.equal(tmpdir(), tmp);
    const before = await renderFolders(tmp);
    const out = await mkdtemp(join(dir, 'out-'));
    const controller = new AbortController();
    const phases = new Set<string>();
    const started = performance.now();
    const rendering = render(longMovie, dir, {
      output: join(out, 'long.mp4'),
      signal: controller.signal,
      sourceDir: join(dir, 'sources'),
      onProgress: (p) => phases.add(p.phase),
    });
    const settled = rendering.then(
      () => assert.fail('the render finished before it was cancelled'),
      (e: unknown) => ({ err: e as Error, at: performance.now() }),
    );

    // about 1 s in, with ffmpeg encoding
    let encoding: Proc[] = [];
    await until(
      async () => {
        encoding = await ffmpegChildren(process.pid);
        return performance.now() - started >= 1000 && encoding.length > 0;
      },
      15_000,
      'ffmpeg started encoding',
    );
    assert.ok(phases.has('rendering'));
    assert.equal((await renderFolders(tmp)).length, before.length + 1, 'the render has its work folder in os.tmpdir()');

    const abortedAt = performance.now();
    controller.abort();
    const { err, at } = await settled;
    assert.equal(err.name, 'AbortedError', String(err));
    assert.match(err.message, /cancel/);
    assert.ok(at - abortedAt < 2000, `rejected ${Math.round(at - abortedAt)} ms after the abort`);
    assert.ok(!phases.has('done'));

    // every ffmpeg is dead at once, and reaped soon after
    const alive = (await ffmpegChildren(process.pid)).filter((p) => p.state !== 'Z');
    assert.deepEqual(alive, [], 'no ffmpeg still running');
    await until(async () => (await ffmpegChildren(process.pid)).length === 0, 1000, 'every ffmpeg child reaped');
    for (const p of encoding) assert.equal(await stillThere(p), false, `ffmpeg ${p.pid} is gone`);

    assert.deepEqual(await listFiles(out), [], 'no output and no .partial file');
    assert.deepEqual(await renderFolders(tmp), before, 'no reelsmith-render-* folder left in os.tmpdir()');
  } finally {
    if (savedTmp === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = savedTmp;
  }
});

test('cancelling while a source is still downloading rejects with AbortedError at once', async () => {
  const outcome = await attempt(withLayer({ id: 'slow', type: 'image', source: `${server.url}/hang` }), {
    fetch: { allowPrivateNetworks: true },
    signal: AbortSignal.timeout(300),
  });
  const started = performance.now();
  const err = await outcome.result.then(
    () => assert.fail('the render should have been cancelled'),
    (e: unknown) => e as Error,
  );
  assert.equal(err.name, 'AbortedError', String(err));
  assert.ok(performance.now() - started < 2000);
  assert.deepEqual(await listFiles(outcome.out), []);
});

test('Ctrl-C during `reelsmith render` exits 130, says it was cancelled, stops every ffmpeg and leaves no files', {
  skip: !onLinux && 'reads /proc',
}, async () => {
  const tmp = await tempDir('reelsmith-cli-tmpdir-');
  const out = await mkdtemp(join(dir, 'out-'));
  const file = join(dir, 'long.json');
  await writeFile(file, JSON.stringify(longMovie));
  const started = performance.now();
  // as in a terminal: the CLI leads its own process group, and Ctrl-C signals the whole group
  const child = spawn(process.execPath, ['bin/reelsmith.js', 'render', file, '-o', join(out, 'long.mp4'), '--quiet'], {
    cwd: ROOT,
    env: { ...process.env, TMPDIR: tmp },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const done = collect(child);
  try {
    let encoding: Proc[] = [];
    await until(
      async () => {
        if (child.exitCode !== null) assert.fail(`the CLI exited early: ${(await done).stderr}`);
        encoding = await ffmpegChildren(child.pid!);
        return performance.now() - started >= 1500 && encoding.length > 0;
      },
      20_000,
      'the CLI started encoding',
    );
    assert.equal((await renderFolders(tmp)).length, 1, "the render has its work folder in the CLI's os.tmpdir()");

    const interruptedAt = performance.now();
    process.kill(-child.pid!, 'SIGINT');
    const { code, stdout, stderr, at } = await done;
    assert.equal(code, 130, stderr);
    assert.ok(at - interruptedAt < 5000, `exited ${Math.round(at - interruptedAt)} ms after Ctrl-C`);
    assert.match(stderr, /cancelled/);
    assert.equal(stdout, '');

    assert.deepEqual(await listFiles(out), [], 'no output and no .partial file');
    assert.deepEqual(await renderFolders(tmp), [], 'no reelsmith-render-* folder left');
    const names = ffmpegNames();
    const left = (await processes()).filter((p) => p.pgrp === child.pid && names.has(p.name));
    assert.deepEqual(left, [], 'no ffmpeg of the CLI remains');
    for (const p of encoding) assert.equal(await stillThere(p), false, `ffmpeg ${p.pid} is gone`);
  } finally {
    if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGKILL');
  }
});

// ---------------------------------------------------------------------------------------
// Tools

/** The CLI with its os.tmpdir() in this file's own folder. */
function cli(args: string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}) {
  return runCli(args, { ...options, env: { TMPDIR: cliTmp, ...options.env } });
}

/** reelsmith-render-* work folders in a temp folder. */
async function renderFolders(folder: string): Promise<string[]> {
  return (await readdir(folder)).filter((name) => name.startsWith('reelsmith-render-')).sort();
}
