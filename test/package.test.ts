// The package as a user gets it: `npm pack`, `npm install -g` of the tarball into a fresh
// prefix, then the installed `reelsmith` renders as an unprivileged user (the npm ffprobe is
// runnable by everyone after the install, and a binary that cannot run is named as such),
// and `import('reelsmith')` and `import('reelsmith/client')` work, with their types.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { chmod, chown, mkdir, readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { cli, collect, media, mediaServer, probe, ROOT, tempDir } from './helpers.ts';
import { api, startService, waitForJob } from './service-helpers.ts';

const exec = promisify(execFile);
const isRoot = process.getuid?.() === 0;
const asUser = isRoot ? false : 'needs root to install as root and run as another user';

const work = await tempDir('reelsmith-package-');
await chmod(work, 0o755); // the unprivileged user reads the install and the movie from here
/** npm and the installed program see none of this process's npm_* variables (`npm test` sets some). */
const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));

// npm runs `prepare` (the build) on `npm pack`; `npm test` has just built dist/, and rebuilding
// it here would rewrite files under the CLI tests running beside this one
const packed = JSON.parse(
  (await exec('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: ROOT, env: cleanEnv }))
    .stdout,
) as Array<{ filename: string; files: Array<{ path: string }> }>;
const tarball = join(work, packed[0].filename);

const prefix = join(work, 'prefix');
const installed = join(prefix, 'lib/node_modules/reelsmith');
const bin = join(prefix, 'bin/reelsmith');
const install = await exec(
  'npm',
  ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', tarball],
  { env: { ...cleanEnv, ...(await sqlitePrebuild()) }, maxBuffer: 16 * 1024 * 1024 },
);

/**
 * better-sqlite3's install downloads a prebuilt binary, or compiles SQLite (minutes) when it
 * cannot: the one this checkout built is handed to it as a local prebuild instead.
 */
async function sqlitePrebuild(): Promise<Record<string, string>> {
  const dir = join(ROOT, 'node_modules/better-sqlite3');
  const require = createRequire(import.meta.url);
  const { version } = require('better-sqlite3/package.json') as { version: string };
  const built = 'build/Release/better_sqlite3.node';
  if (!(await stat(join(dir, built)).catch(() => undefined))) return {};
  const prebuilds = join(work, 'prebuilds');
  await mkdir(prebuilds);
  const name = `better-sqlite3-v${version}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`;
  await exec('tar', ['czf', join(prebuilds, name), '-C', dir, built]);
  // prebuild-install's own setting for it (the name npm's shell passes on; npm warns it is no config of its)
  return { npm_config_better_sqlite3_local_prebuilds: prebuilds };
}

/** `node` alone on PATH: no ffmpeg there, so the installed package's own binaries are the ones that run. */
const nodeOnly = join(work, 'path');
await mkdir(nodeOnly);
await symlink(process.execPath, join(nodeOnly, 'node'));
const userEnv = { PATH: nodeOnly, HOME: work, LANG: 'C.UTF-8' };

async function nobody(): Promise<{ uid: number; gid: number }> {
  const id = async (flag: string) => Number((await exec('id', [flag, 'nobody'])).stdout.trim());
  return { uid: await id('-u'), gid: await id('-g') };
}

/** The installed `reelsmith`, as `user` (default: this process's) with a plain environment. */
async function reelsmith(args: string[], user?: { uid: number; gid: number }) {
  const child = spawn(bin, args, { env: userEnv, cwd: work, stdio: ['ignore', 'pipe', 'pipe'], ...user });
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  try {
    return await collect(child);
  } finally {
    clearTimeout(timer);
  }
}

/** A picture served over HTTP and a sound on disk: a render runs both ffmpeg and ffprobe. */
const assets = join(work, 'assets');
await mkdir(assets);
await chmod(assets, 0o755);
await media.png(join(assets, 'logo.png'), 'orange', 64, 36);
const music = await media.tone(join(assets, 'music.wav'), 1);
const server = await mediaServer(assets);

const shippedFfprobe = () =>
  createRequire(join(installed, 'package.json'))('@ffprobe-installer/ffprobe').path as string;
const modeOf = async (path: string) => (await stat(path)).mode & 0o777;

test('the tarball holds what runs and nothing else', () => {
  const paths = packed[0].files.map((f) => f.path);
  for (const needed of [
    'package.json',
    'README.md',
    'bin/reelsmith.js',
    'bin/postinstall.js',
    'config/plans.json',
    'dist/index.js',
    'dist/index.d.ts',
    'dist/client/index.js',
    'dist/client/index.d.ts',
    'dist/cli/main.js',
  ])
    assert.ok(paths.includes(needed), `${needed} is in the tarball`);
  const extra = paths.filter(
    (p) => !/^(dist\/.+\.(js|d\.ts)|bin\/[a-z]+\.js|config\/plans\.json|README\.md|package\.json)$/.test(p),
  );
  assert.deepEqual(extra, []);
});

test('installed as root, the npm ffprobe is executable by every user; no dependency wants another Node', async () => {
  assert.match(install.stdout, /added \d+ packages/);
  assert.doesNotMatch(install.stdout + install.stderr, /EBADENGINE/);
  assert.equal(await modeOf(shippedFfprobe()), 0o755);
});

test('an unprivileged user renders a movie (picture by URL, sound, text) with the installed reelsmith', {
  skip: asUser,
}, async () => {
  const user = await nobody();
  const out = join(work, 'out');
  await mkdir(out);
  await chown(out, user.uid, user.gid);
  const movie = join(assets, 'movie.json');
  await writeFile(
    movie,
    JSON.stringify({
      width: 320,
      height: 180,
      fps: 10,
      scenes: [
        {
          id: 'only',
          duration: 1,
          layers: [
            { id: 'logo', type: 'image', source: `${server.url}/logo.png`, size: { width: 64, height: 36 } },
            {
              id: 'title',
              type: 'text',
              text: 'Installed',
              position: { x: 0, y: 60 },
              size: { width: 320, height: 60 },
            },
            { id: 'music', type: 'audio', source: music },
          ],
        },
      ],
    }),
  );
  const args = ['render', movie, '-o', join(out, 'movie.mp4'), '--allow-private-networks'];

  // the npm ffprobe as npm's own install script leaves it: the failure names the binary, not the layer
  const ffprobe = shippedFfprobe();
  await chmod(ffprobe, 0o744);
  const refused = await reelsmith(args, user);
  await chmod(ffprobe, 0o755);
  assert.equal(refused.code, 1, refused.stderr);
  assert.ok(refused.stderr.includes(`cannot run ffprobe: ${ffprobe}`), refused.stderr);
  assert.match(refused.stderr, /EACCES.*FFPROBE_PATH/);
  assert.doesNotMatch(refused.stderr, /layer/);

  const done = await reelsmith(args, user);
  assert.equal(done.code, 0, done.stderr);
  const video = join(out, 'movie.mp4');
  assert.equal((await stat(video)).uid, user.uid);
  const { video: v, audio } = await probe(video);
  assert.equal(v.nb_read_frames, '10');
  assert.equal(v.width, 320);
  assert.ok(audio, 'the sound is in the file');
});

test('the installed service starts as an unprivileged user and is ready: its database, disk, ffmpeg and ffprobe', {
  skip: asUser,
}, async () => {
  const user = await nobody();
  const data = join(work, 'data');
  await mkdir(data);
  await chown(data, user.uid, user.gid);
  const child = spawn(bin, ['serve', '--port', '0', '--host', '127.0.0.1', '--data', data, '--json'], {
    env: userEnv,
    cwd: work,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...user,
  });
  const exited = collect(child);
  try {
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk));
    const deadline = Date.now() + 30_000;
    while (!/"url":\s*"http/.test(output) && child.exitCode === null && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    const url = /"url":\s*"(http[^"]+)"/.exec(output)?.[1];
    assert.ok(url, `the server said where it listens: ${output}`);
    const ready = await fetch(`${url}/readyz`);
    const body = await ready.text();
    assert.equal(ready.status, 200, body);
  } finally {
    child.kill('SIGTERM');
    const { code, stderr } = await exited;
    assert.equal(code, 0, stderr);
  }
});

test('a shipped binary left without execute bits is fixed at first use by its owner', async () => {
  const ffprobe = shippedFfprobe();
  await chmod(ffprobe, 0o644);
  const doctor = await reelsmith(['doctor']);
  assert.equal(doctor.code, 0, doctor.stdout + doctor.stderr);
  assert.ok(doctor.stdout.includes(`${ffprobe} (from npm)`), doctor.stdout);
  assert.equal(await modeOf(ffprobe), 0o755);
});

test("import('reelsmith') and import('reelsmith/client') work from the installed package, with types", {
  skip: asUser,
}, async () => {
  // a consumer beside node_modules, as an unprivileged user
  const lib = join(prefix, 'lib');
  await writeFile(
    join(lib, 'consumer.mjs'),
    `const engine = await import('reelsmith');
const client = await import('reelsmith/client');
console.log(JSON.stringify({
  engine: Object.keys(engine).sort(),
  client: Object.keys(client).sort(),
  problems: engine.validateMovie({ scenes: [{ id: 's', duration: -1 }] }).problems,
  schema: engine.Movie.type,
}));
`,
  );
  const child = spawn(process.execPath, ['consumer.mjs'], {
    cwd: lib,
    env: userEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(await nobody()),
  });
  const ran = await collect(child);
  assert.equal(ran.code, 0, ran.stderr);
  const seen = JSON.parse(ran.stdout) as Record<string, any>;
  for (const name of ['renderMovie', 'validateMovie', 'normalizeMovie', 'renderFrame', 'Movie'])
    assert.ok(seen.engine.includes(name), `reelsmith exports ${name}`);
  for (const name of ['createClient', 'verifyWebhook', 'ReelsmithApiError', 'WebhookVerificationError'])
    assert.ok(seen.client.includes(name), `reelsmith/client exports ${name}`);
  assert.deepEqual(
    seen.problems.map((p: { path: string }) => p.path),
    ['movie.scenes[0].duration'],
  );
  assert.equal(seen.schema, 'object');

  // the client's code loads none of the server's: its own files and the signature library only
  const clientDir = join(installed, 'dist/client');
  for (const file of (await readdir(clientDir)).filter((f) => f.endsWith('.js'))) {
    const source = await readFile(join(clientDir, file), 'utf8');
    for (const [, specifier] of source.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+['"]([^'"]+)['"]/gm))
      assert.ok(
        /^\.\/[a-z-]+\.js$/.test(specifier) || specifier === 'standardwebhooks',
        `${file} imports ${specifier}`,
      );
  }

  // the declarations: real types, not any (each @ts-expect-error must meet an error)
  await writeFile(
    join(lib, 'consumer.mts'),
    `import { Movie, validateMovie, type RenderResult } from 'reelsmith';
import { createClient, type Job, type RenderRequest } from 'reelsmith/client';
const movie: Movie = { scenes: [{ id: 's', duration: 1 }] };
const request: RenderRequest = { kind: 'movie', projectId: 'proj_1', movie };
// @ts-expect-error: kind is "movie"
const wrongKind: RenderRequest = { kind: 'film', projectId: 'proj_1', movie };
// @ts-expect-error: not a status
const wrongStatus: Job['status'] = 'finished';
const client = createClient({ baseUrl: 'http://localhost:8080', apiKey: 'vs_test_x' });
export async function follow(): Promise<number> {
  const { jobId } = await client.submit(request, { idempotencyKey: 'k' });
  for await (const event of client.progress(jobId))
    if (event.event === 'done') return event.mediaData.frames;
  return validateMovie(movie).total;
}
export type Frames = RenderResult['mediaData']['frames'];
export { wrongKind, wrongStatus };
`,
  );
  const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
  const checked = await exec(process.execPath, [
    tsc,
    '--noEmit',
    '--strict',
    '--skipLibCheck',
    '--target',
    'es2022',
    '--module',
    'nodenext',
    '--moduleResolution',
    'nodenext',
    '--typeRoots',
    join(ROOT, 'node_modules/@types'),
    '--types',
    'node',
    join(lib, 'consumer.mts'),
  ]).catch((err: { stdout: string }) => err);
  assert.equal(checked.stdout, '');
});

test('an ffprobe that cannot start is named, with the way out: the CLI says where and why, the service tells the tenant without our paths', async () => {
  const movie = join(work, 'sound.json');
  await writeFile(
    movie,
    JSON.stringify({
      width: 320,
      height: 180,
      fps: 10,
      scenes: [{ id: 's', duration: 1, layers: [{ id: 'music', type: 'audio', source: music }] }],
    }),
  );
  const missing = await cli(['render', movie, '-o', join(work, 'never.mp4')], {
    env: { FFPROBE_PATH: '/nonexistent/ffprobe' },
  });
  assert.equal(missing.code, 1, missing.stderr);
  assert.ok(
    missing.stderr.includes('cannot run ffprobe: /nonexistent/ffprobe (from FFPROBE_PATH) does not exist (ENOENT)'),
    missing.stderr,
  );
  assert.doesNotMatch(missing.stderr, /layer/);

  // not executable: even root may not run a file without execute bits
  const notExecutable = join(work, 'ffprobe');
  await writeFile(notExecutable, '#!/bin/sh\n', { mode: 0o644 });
  const svc = await startService();
  const tenant = await svc.tenant('pro');
  const before = process.env.FFPROBE_PATH; // CI sets one
  process.env.FFPROBE_PATH = notExecutable;
  try {
    const submitted = await api(svc.url, tenant.key, '/v1/render/jobs', {
      method: 'POST',
      json: {
        kind: 'movie',
        projectId: tenant.projectId,
        movie: {
          width: 320,
          height: 180,
          fps: 10,
          scenes: [
            { id: 's', duration: 1, layers: [{ id: 'music', type: 'audio', source: `${server.url}/music.wav` }] },
          ],
        },
      },
    });
    assert.equal(submitted.status, 202);
    const { jobId } = (await submitted.json()) as { jobId: string };
    const job = await waitForJob(svc.url, tenant.key, jobId);
    assert.deepEqual(job.error, { code: 'RENDER_FAILED', message: 'The server cannot run ffprobe (its log says why)' });
  } finally {
    if (before === undefined) delete process.env.FFPROBE_PATH;
    else process.env.FFPROBE_PATH = before;
  }
});
