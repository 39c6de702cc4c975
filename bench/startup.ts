// `npm run bench:startup`: how long the installed CLI takes to answer the commands that
// should feel instant (`--version`, `schema`, `validate` of the minimal request), run from
// the compiled build as `reelsmith` runs. Medians of 15 runs each, with the time node
// itself needs to start and exit in the same run as the floor (target: under 0.3 s).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RUNS = 15;
const TARGET_SECONDS = 0.3;

const commands: Array<[string, string[]]> = [
  ['node -e 0 (floor)', ['-e', '0']],
  ['reelsmith --version', [join(ROOT, 'bin/reelsmith.js'), '--version']],
  ['reelsmith schema', [join(ROOT, 'bin/reelsmith.js'), 'schema']],
  [
    'reelsmith validate examples/hello.json',
    [join(ROOT, 'bin/reelsmith.js'), 'validate', join(ROOT, 'examples/hello.json')],
  ],
];

console.log('| command | median | target |\n| --- | --- | --- |');
for (const [name, args] of commands) {
  const seconds: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    const result = spawnSync(process.execPath, args, { stdio: 'ignore' });
    if (result.status !== 0) throw new Error(`${name} exited ${result.status}`);
    seconds.push((performance.now() - started) / 1000);
  }
  const median = seconds.sort((a, b) => a - b)[Math.floor(RUNS / 2)];
  const target = name.includes('floor') ? '–' : median < TARGET_SECONDS ? '✓ (< 0.3 s)' : '✗ (< 0.3 s)';
  console.log(`| ${name} | ${median.toFixed(3)} s | ${target} |`);
}
