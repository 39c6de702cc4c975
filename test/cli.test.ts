// The `reelsmith` command as a user meets it: its version, its exit codes, and --json
// output that a script can read (checked against the file it describes).
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { cli, probe, ROOT, tempDir } from './helpers.ts';
import { EXIT } from '../src/cli/exit-codes.ts';

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
