// The `reelsmith` command as a user meets it: its version, its exit codes, --json output
// that a script can read (checked against the file it describes) on every command, errors
// included, one set of checks for a movie file shared with the API, and admin commands that
// refuse to guess.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { cli, listFiles, probe, ROOT, tempDir } from './helpers.ts';
import { api, spawnServe, startService } from './service-helpers.ts';
import { EXIT } from '../src/cli/exit-codes.ts';
import { Movie } from '../src/movie/schema.ts';

/** One JSON document on stdout, nothing on stderr: what a script reading --json gets. */
function onlyJson(run: { stdout: string; stderr: string }): Record<string, any> {
  assert.equal(run.stderr, '', 'nothing on stderr');
  const lines = run.stdout.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line of JSON: ${run.stdout}`);
  return JSON.parse(lines[0]) as Record<string, any>;
}

/** A --json failure: `{error: {code, exitCode, message}}` with the exit code the process ended with. */
function jsonError(run: { code: number | null; stdout: string; stderr: string }, exitCode: number) {
  assert.equal(run.code, exitCode, run.stdout + run.stderr);
  const { error, ...rest } = onlyJson(run);
  assert.deepEqual(rest, {});
  assert.equal(error.exitCode, exitCode);
  assert.equal(
    error.code,
    Object.keys(EXIT).find((k) => EXIT[k as keyof typeof EXIT] === exitCode),
  );
  assert.equal(typeof error.message, 'string');
  return error as { message: string; problems?: Array<{ path: string; message: string }> };
}

test("`reelsmith --version` prints the package's version and exits 0", async () => {
  const { version } = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  const { code, stdout } = await cli(['--version']);
  assert.equal(code, EXIT.ok);
  assert.equal(stdout.trim(), version);
});

test('an unknown command or option exits 2 (usage) and says what was wrong', async () => {
  const command = await cli(['rendr']);
  assert.equal(command.code, EXIT.usage);
  assert.match(command.stderr, /unknown command 'rendr'/);
  const option = await cli(['render', 'x.json', '-o', 'x.mp4', '--fast']);
  assert.equal(option.code, EXIT.usage);
  assert.match(option.stderr, /unknown option '--fast'/);
});

test('`reelsmith render --json` prints the output as read back, with phase timings, and nothing else on stdout', async () => {
  const dir = await tempDir('reelsmith-cli-json-');
  const file = join(dir, 'movie.json');
  await writeFile(
    file,
    JSON.stringify({
      width: 320,
      height: 180,
      fps: 25,
      scenes: [{ id: 'only', duration: 0.6, bgColor: '#204080', layers: [] }],
    }),
  );
  const output = join(dir, 'out.mp4');
  const { code, stdout, stderr } = await cli(['render', file, '-o', output, '--json']);
  assert.equal(code, EXIT.ok, stderr);
  const result = JSON.parse(stdout) as {
    path: string;
    mediaData: { frames: number; width: number; duration: number };
    timings: Record<string, number>;
    warnings: string[];
  };
  assert.equal(result.path, output);
  assert.equal(result.mediaData.frames, 15);
  assert.equal(result.mediaData.width, 320);
  assert.deepEqual(Object.keys(result.timings).sort(), ['assembling', 'planning', 'rendering']);
  assert.deepEqual(result.warnings, []);
  const info = await probe(output);
  assert.equal(Number(info.video.nb_read_frames), 15);
});

test('the output is checked before any work: a missing folder or a wrong extension exits 2 naming the path as given', async () => {
  const dir = await tempDir('reelsmith-cli-output-');
  const file = join(dir, 'movie.json');
  await writeFile(file, JSON.stringify({ width: 320, height: 180, scenes: [{ id: 'only', duration: 1, layers: [] }] }));
  const missing = await cli(['render', file, '-o', join(dir, 'nowhere', 'x.mp4')]);
  assert.equal(missing.code, EXIT.usage);
  assert.equal(
    missing.stderr.trim(),
    `error: -o ${join(dir, 'nowhere', 'x.mp4')}: the folder ${join(dir, 'nowhere')} does not exist (create it first)`,
  );
  const text = await cli(['render', file, '-o', join(dir, 'out.txt')]);
  assert.equal(text.code, EXIT.usage);
  assert.match(text.stderr, /the output is an MP4, so its name must end in \.mp4/);
  const frame = await cli(['frame', file, '--at', '0', '-o', join(dir, 'frame.jpg')]);
  assert.equal(frame.code, EXIT.usage);
  assert.match(frame.stderr, /the output is a PNG, so its name must end in \.png/);
  assert.deepEqual((await readdir(dir)).sort(), ['movie.json'], 'nothing was written');
});

test('every command takes --json', async () => {
  /** Commands listed in a help text (its "Commands:" section), without `help`. */
  const commandsIn = (help: string) =>
    [...(help.split('Commands:')[1] ?? '').matchAll(/^ {2}(\w+)/gm)].map((m) => m[1]).filter((c) => c !== 'help');
  const leaves: string[][] = [];
  const walk = async (path: string[]) => {
    const { code, stdout } = await cli([...path, '--help']);
    assert.equal(code, EXIT.ok);
    const sub = commandsIn(stdout);
    if (path.length > 0 && sub.length === 0) {
      leaves.push(path);
      assert.match(stdout, /--json/, `${path.join(' ')} has --json`);
    }
    for (const c of sub) await walk([...path, c]);
  };
  await walk([]);
  assert.ok(leaves.length >= 10, `every command was looked at: ${leaves.map((l) => l.join(' ')).join(', ')}`);
});

test('--json: each result is one line of JSON on stdout, and so is each failure, with its exit code', async () => {
  assert.deepEqual(onlyJson(await cli(['schema', '--json'])), JSON.parse(JSON.stringify(Movie)));
  assert.deepEqual(onlyJson(await cli(['validate', 'examples/hello.json', '--json'])), {
    file: 'examples/hello.json',
    valid: true,
  });
  const doctor = onlyJson(await cli(['doctor', '--json']));
  assert.equal(doctor.ok, true);

  // commander's own complaints, and ours before any work
  const noOutput = jsonError(await cli(['render', 'examples/hello.json', '--json']), EXIT.usage);
  assert.equal(noOutput.message, "required option '-o, --output <file>' not specified");
  const unknown = jsonError(await cli(['validate', 'examples/hello.json', '--json', '--strict']), EXIT.usage);
  assert.equal(unknown.message, "unknown option '--strict'");
  const preset = jsonError(
    await cli(['render', 'examples/hello.json', '-o', 'x.mp4', '--preset', 'warp', '--json']),
    2,
  );
  assert.equal(preset.message, '--preset must be one of stable, balanced, fast, turbo');
  const missing = jsonError(await cli(['validate', 'no-such-movie.json', '--json']), EXIT.usage);
  assert.equal(missing.message, 'cannot read no-such-movie.json: no such file');

  // a failed render: exit 1, the layer and the path as the file gives them
  const dir = await tempDir('reelsmith-cli-json-error-');
  const file = join(dir, 'gone.json');
  await writeFile(
    file,
    JSON.stringify({
      width: 320,
      height: 180,
      scenes: [{ id: 'a', duration: 1, layers: [{ id: 'pic', type: 'image', source: 'pics/gone.png' }] }],
    }),
  );
  const failed = jsonError(await cli(['render', file, '-o', join(dir, 'out.mp4'), '--json']), EXIT.failed);
  assert.equal(failed.message, 'layer "pic" (movie.scenes[0].layers[0]): pics/gone.png: no such file');
  assert.deepEqual(await readdir(dir), ['gone.json']);
});

test('admin commands: --json for each, a database only with --init, a duplicate project refused by name', async () => {
  const dir = join(await tempDir('reelsmith-cli-admin-'), 'data');
  const data = ['--data', dir];

  // the wrong folder: refused, naming it and --init, and nothing is made there
  for (const command of [
    ['accounts', 'create'],
    ['keys', 'create', '--account', 'acct_x'],
    ['projects', 'create', '--account', 'acct_x'],
    ['keys', 'revoke', 'key_x'],
  ]) {
    const text = await cli([...command, ...data]);
    assert.equal(text.code, EXIT.usage, command.join(' '));
    assert.equal(
      text.stderr.trim(),
      `error: no Reelsmith database in ${dir} (looked for ${join(dir, 'reelsmith.db')}): give --data the folder \`reelsmith serve\` uses, or create a new database there with \`reelsmith accounts create --init --data ${dir}\``,
    );
    assert.equal(existsSync(dir), false, `${command.join(' ')} made nothing`);
  }
  assert.match(jsonError(await cli(['keys', 'create', '--account', 'acct_x', ...data, '--json']), 2).message, /--init/);

  const account = onlyJson(await cli(['accounts', 'create', '--init', '--plan', 'business', ...data, '--json']));
  assert.match(account.accountId, /^acct_/);
  assert.equal(account.plan, 'business');
  // --init on a folder that has a database already is harmless: the same database
  const second = onlyJson(await cli(['accounts', 'create', '--init', ...data, '--json']));
  assert.notEqual(second.accountId, account.accountId);

  const project = ['projects', 'create', '--account', account.accountId, '--id', 'proj_cli', ...data];
  const made = onlyJson(await cli([...project, '--json']));
  assert.deepEqual([made.projectId, made.accountId], ['proj_cli', account.accountId]);
  assert.match(made.webhookSecret, /^whsec_/);
  const again = await cli(project);
  assert.equal(again.code, EXIT.usage);
  assert.equal(
    again.stderr.trim(),
    'error: project "proj_cli" already exists: give another id, or none to get a new one',
  );
  // another account cannot take the id either
  const elsewhere = jsonError(
    await cli(['projects', 'create', '--account', second.accountId, '--id', 'proj_cli', ...data, '--json']),
    EXIT.usage,
  );
  assert.match(elsewhere.message, /project "proj_cli" already exists/);

  const key = onlyJson(await cli(['keys', 'create', '--account', account.accountId, ...data, '--json']));
  assert.match(key.key, /^vs_prod_/);
  assert.deepEqual(onlyJson(await cli(['keys', 'revoke', key.keyId, ...data, '--json'])), {
    keyId: key.keyId,
    revoked: true,
  });
  assert.equal(
    jsonError(await cli(['keys', 'revoke', key.keyId, ...data, '--json']), EXIT.usage).message,
    `no active key ${key.keyId}`,
  );
});

test('`serve --json` says it listens (and what its first start made) as a line of JSON, and that it drains', async () => {
  const dir = join(await tempDir('reelsmith-cli-serve-'), 'data');
  const server = await spawnServe(dir, { args: ['--json'] });
  let started: Record<string, any> | undefined;
  const deadline = Date.now() + 60_000;
  while (!started) {
    assert.ok(Date.now() < deadline, `no start line:\n${server.output()}`);
    const line = server.output().split('\n')[0];
    if (server.output().includes('\n')) started = JSON.parse(line) as Record<string, any>;
    else await new Promise((r) => setTimeout(r, 100));
  }
  assert.deepEqual(Object.keys(started).sort(), ['dataDir', 'event', 'firstStart', 'resumed', 'url']);
  assert.deepEqual([started.event, started.dataDir, started.resumed], ['listening', dir, 0]);
  assert.equal(started.firstStart.projectId, 'proj_abc123');
  assert.equal((await api(started.url, started.firstStart.key, '/v1/usage')).status, 200);
  server.child.kill('SIGTERM');
  assert.deepEqual(await server.exited, { code: 0, signal: null });
  const lines = server.output().trimEnd().split('\n');
  assert.deepEqual(
    lines.map((l) => JSON.parse(l).event),
    ['listening', 'draining'],
    server.output(),
  );
});

test('validate, render and the API check a request file alike: the same problems, with "did you mean"', async () => {
  const svc = await startService({ network: {} });
  const t = await svc.tenant('fuzz'); // no minutes: a request that passes every check gets 402 and never renders
  const dir = await tempDir('reelsmith-cli-same-checks-');
  const submit = (body: unknown) => api(svc.url, t.key, '/v1/render/jobs', { method: 'POST', json: body });
  const request = JSON.parse(await readFile(join(ROOT, 'examples/hello.json'), 'utf8'));
  request.projectId = t.projectId;

  const bad = structuredClone(request);
  bad.renderOptions = { qualityPreset: 'fsat', requestedConcurrency: 0 };
  bad.callbackURL = 'https://example.com/hook';
  Object.assign(bad.movie.scenes[0].layers[0], { fontWieght: 'bold', textAlign: 'centre' });
  const file = join(dir, 'bad.json');
  await writeFile(file, JSON.stringify(bad));
  const expected = [
    'callbackURL: is not a known property; did you mean "callbackUrl"?',
    'renderOptions.qualityPreset: must be one of "stable", "balanced", "fast", "turbo"; did you mean "fast"?',
    'renderOptions.requestedConcurrency: must be at least 1',
    'movie.scenes[0].layers[0].textAlign: must be one of "left", "center", "right"; did you mean "center"?',
    'movie.scenes[0].layers[0].fontWieght: is not a known property; did you mean "fontWeight"?',
  ].sort();

  const validated = await cli(['validate', file]);
  assert.equal(validated.code, EXIT.usage);
  const [headline, ...listed] = validated.stderr.trimEnd().split('\n');
  assert.equal(headline, `error: ${file} is not valid: 5 problems`);
  assert.deepEqual(listed.map((l) => l.trim()).sort(), expected);

  const rendered = await cli(['render', file, '-o', join(dir, 'out.mp4')]);
  assert.equal(rendered.code, EXIT.usage);
  assert.equal(rendered.stderr, validated.stderr);
  assert.deepEqual(await readdir(dir), ['bad.json'], 'nothing was rendered');

  const refused = await submit(bad);
  assert.equal(refused.status, 400);
  const { error } = (await refused.json()) as { error: { details: Array<{ path: string; message: string }> } };
  assert.deepEqual(error.details.map((d) => `${d.path}: ${d.message}`).sort(), expected);

  // a valid request passes all three (the API stops at the plan's minutes, after every check)
  const good = join(dir, 'good.json');
  await writeFile(good, JSON.stringify(request));
  assert.equal((await cli(['validate', good])).code, EXIT.ok);
  assert.equal((await submit(request)).status, 402);
  // the CLI renders for no project, so a file may leave projectId out (the API needs it)
  const { projectId: _, ...noProject } = request;
  await writeFile(good, JSON.stringify(noProject));
  assert.equal((await cli(['validate', good])).code, EXIT.ok);

  // a callback to a private address is the server's to refuse, and it says how to allow it
  const loopback = await submit({ ...request, callbackUrl: 'http://127.0.0.1:9/hook' });
  assert.equal(loopback.status, 400);
  assert.deepEqual(((await loopback.json()) as { error: { details: unknown } }).error.details, [
    {
      path: 'callbackUrl',
      message:
        'address 127.0.0.1 is not allowed (private network): allow private networks with --allow-private-networks or REELSMITH_ALLOW_PRIVATE_NETWORKS=1 (or a comma list of CIDRs)',
    },
  ]);
  assert.deepEqual(await listFiles(dir), ['bad.json', 'good.json']);
});

test('a work folder that fails a render is named with TMPDIR, never by the names made in it', async (t) => {
  const dir = await tempDir('reelsmith-cli-tmpdir-');
  const file = join(dir, 'movie.json');
  const city = join(ROOT, 'examples/assets/city.mp4');
  await writeFile(
    file,
    JSON.stringify({
      width: 1280,
      height: 720,
      scenes: [{ id: 'footage', duration: 2, layers: [{ id: 'city', type: 'video', source: city, mute: true }] }],
    }),
  );
  const missing = join(dir, 'no-such-folder');
  const render = (tmp: string) => cli(['render', file, '-o', join(dir, 'out.mp4'), '-q'], { env: { TMPDIR: tmp } });
  const noFolder = await render(missing);
  assert.equal(noFolder.code, EXIT.failed);
  assert.equal(
    noFolder.stderr.trim(),
    `error: cannot make a work folder in ${missing} (ENOENT: no such file or directory): set TMPDIR to a folder this user can write`,
  );

  // a full one, where the scene's encoder writes its chunks: a tiny tmpfs (root only, as CI runs)
  const small = join(dir, 'small');
  await mkdir(small);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=128k', 'tmpfs', small], { stdio: 'ignore' });
  } catch {
    return t.skip('cannot mount a tmpfs here: this part needs root');
  }
  try {
    const full = await render(small);
    assert.equal(full.code, EXIT.failed);
    assert.match(full.stderr, /^error: scene "footage" \(movie\.scenes\[0\]\): .*No space left on device/);
    assert.ok(
      full.stderr.trimEnd().endsWith(`(work files go to ${small}, which TMPDIR changes; the output to ${dir})`),
      full.stderr,
    );
    assert.doesNotMatch(full.stderr, new RegExp(`${small}/|reelsmith-render-|scene-0`), 'no name of ours');
  } finally {
    execFileSync('umount', ['-l', small]);
  }
  assert.deepEqual((await readdir(dir)).sort(), ['movie.json', 'small'], 'no output');
});
