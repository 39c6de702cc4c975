// `npm run bench [-- T1 T3] [--runs N]`: renders the fixed bench movies at 1080p30 and
// measures each against what ffmpeg alone needs for the same output (an encode-only
// floor, and for T3 a plain transcode of its source), plus the peak memory of the whole
// process tree. Prints a markdown table for the README; exits 1 if a render fails or
// its output is not the movie asked for.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { normalizeMovie, type Movie } from '../src/movie/index.ts';
import { renderMovie } from '../src/render/index.ts';
import { ASSET_DIR, prepareAssets, type BenchAssets } from './assets.ts';
import { foreignCpuShare } from './cpu-share.ts';
import { measure, type Measurement } from './measure.ts';
import { BENCH_MOVIES, type BenchMovie } from './movies.ts';
import { describeMachine, markdownReport, progressLine } from './report.ts';

/** Three runs keep a full bench near two minutes on a quiet 2-core machine. */
const DEFAULT_RUNS = 3;

const { movies, runs } = readArguments(process.argv.slice(2));
const machine = await describeMachine();
console.log(`Inputs: ${ASSET_DIR} (made on the first run, then reused)`);
const assets = await prepareAssets();
const workDir = await mkdtemp(join(tmpdir(), 'reelsmith-bench-'));
const measurements: Measurement[] = [];
const othersCpu = foreignCpuShare();
try {
  await warmUp(assets, workDir);
  for (const bench of movies) {
    measurements.push(await measure(bench, assets, workDir, runs, (run) => console.log(progressLine(bench.name, run))));
  }
} finally {
  await rm(workDir, { recursive: true, force: true });
}
console.log(`\n${markdownReport(measurements, machine, othersCpu())}`);
if (measurements.some((m) => !m.render || m.render.problems.length > 0)) process.exitCode = 1;

/** The movies named (any case; all when none is) and the runs per movie. */
function readArguments(args: string[]): { movies: BenchMovie[]; runs: number } {
  const usage = (problem: string): never => {
    console.error(`${problem}\nusage: npm run bench -- [${BENCH_MOVIES.map((b) => b.name).join(' ')}] [--runs N]`);
    process.exit(2);
  };
  let parsed: ReturnType<
    typeof parseArgs<{ args: string[]; options: { runs: { type: 'string' } }; allowPositionals: true }>
  >;
  try {
    parsed = parseArgs({ args, options: { runs: { type: 'string' } }, allowPositionals: true });
  } catch (err) {
    return usage((err as Error).message);
  }
  const runs = Number(parsed.values.runs ?? DEFAULT_RUNS);
  if (!Number.isInteger(runs) || runs < 1) usage('--runs must be a whole number, 1 or more');
  const wanted = parsed.positionals.map((n) => n.toUpperCase());
  const unknown = wanted.filter((n) => !BENCH_MOVIES.some((b) => b.name === n));
  if (unknown.length > 0) usage(`unknown bench movie ${unknown.join(', ')}`);
  return { movies: wanted.length === 0 ? BENCH_MOVIES : BENCH_MOVIES.filter((b) => wanted.includes(b.name)), runs };
}

/**
 * A tiny render before any timing, so the first bench movie does not pay the one-off
 * costs a long-running service pays once (font loading, module and canvas start-up).
 */
async function warmUp(assets: BenchAssets, dir: string): Promise<void> {
  const movie: Movie = {
    width: 320,
    height: 180,
    scenes: [
      {
        id: 'warm-up',
        duration: 0.2,
        layers: [
          { id: 't', type: 'text', text: 'warm-up' },
          { id: 'logo', type: 'image', source: assets.logo },
        ],
      },
    ],
  };
  const output = join(dir, 'warm-up.mp4');
  await renderMovie(normalizeMovie(movie, { allowLocalFiles: true }), { output });
  await rm(output, { force: true });
}
