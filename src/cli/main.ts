// The `reelsmith` command. Every failure prints what went wrong and exits with 2.
import { resolve } from 'node:path';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { integer } from './options.ts';
import { formatProblem, Movie as MovieSchema, PROBLEM_CAPS, summarizeProblems } from '../movie/index.ts';
import { networkPolicyFromEnv, type FetchLimits } from '../media/index.ts';
import { checkEncoder, DEFAULT_ENCODER, PRESET_WORKERS, renderFrame, renderMovie, sceneWorkers, type QualityPreset } from '../render/index.ts';
import { doctor } from './doctor.ts';
import { checkMovieFile, CliError, loadMovie, readMovieFile } from './load-movie.ts';
import { progressBar } from './progress-bar.ts';
import { serviceCommands } from './service-commands.ts';

const program = new Command('reelsmith').description('Render Movie JSON to MP4').showHelpAfterError().exitOverride();

const fetchLimits = (opts: { allowPrivateNetworks?: boolean }): FetchLimits =>
  opts.allowPrivateNetworks ? { allowPrivateNetworks: true } : networkPolicyFromEnv();

/** Ctrl-C aborts the render: every ffmpeg dies, temp files are removed, exit code 2. */
function interruptSignal(): AbortSignal {
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return controller.signal;
}

program
  .command('render')
  .description('render a movie (or a whole render request) to an MP4')
  .argument('<movie>', 'movie JSON file')
  .requiredOption('-o, --output <file>', 'MP4 to write')
  .option('--preset <preset>', `scene workers: ${Object.entries(PRESET_WORKERS).map(([k, v]) => `${k}=${v}`).join(', ')}`)
  .option('-c, --concurrency <n>', 'scene workers, overrides the preset (1..32)', integer(1, 32))
  .option('--crf <n>', `x264 constant rate factor (default ${DEFAULT_ENCODER.crf})`, integer(0, 51))
  .option('--x264-preset <name>', `x264 speed preset (default ${DEFAULT_ENCODER.preset})`)
  .option('--allow-private-networks', 'let source URLs reach private and loopback addresses')
  .option('-q, --quiet', 'no progress bar')
  .action(async (moviePath: string, opts) => {
    const file = await readMovieFile(moviePath);
    const movie = loadMovie(file);
    const preset = (opts.preset ?? file.renderOptions.qualityPreset ?? 'balanced') as QualityPreset;
    if (!(preset in PRESET_WORKERS)) throw new CliError(`--preset (or renderOptions.qualityPreset) must be one of ${Object.keys(PRESET_WORKERS).join(', ')}`);
    const requested = file.renderOptions.requestedConcurrency;
    if (requested !== undefined && !(Number.isInteger(requested) && requested >= 1 && requested <= 32)) {
      throw new CliError('renderOptions.requestedConcurrency must be a whole number from 1 to 32');
    }
    const encoder = { preset: opts.x264Preset ?? DEFAULT_ENCODER.preset, crf: opts.crf ?? DEFAULT_ENCODER.crf };
    const encoderProblem = checkEncoder(encoder);
    if (encoderProblem) throw new CliError(encoderProblem);
    const bar = opts.quiet ? undefined : progressBar();
    try {
      const result = await renderMovie(movie, {
        output: resolve(opts.output),
        concurrency: opts.concurrency ?? sceneWorkers(preset, file.renderOptions.requestedConcurrency),
        encoder,
        signal: interruptSignal(),
        fetch: fetchLimits(opts),
        onProgress: (p) => bar?.update(p),
      });
      bar?.stop();
      for (const warning of result.warnings) console.error(`warning: ${warning}`);
      const m = result.mediaData;
      console.log(`${result.path}: ${m.width}x${m.height} ${m.fps} fps, ${m.frames} frames, ${m.duration.toFixed(3)} s, ${m.bytes} bytes`);
    } finally {
      bar?.stop();
    }
  });

program
  .command('validate')
  .description(`check a movie; exit 0 when valid, 2 listing its problems (the first ${PROBLEM_CAPS.listed}) and counting them`)
  .argument('<movie>', 'movie JSON file')
  .option('--json', 'print the problems as JSON')
  .action(async (moviePath: string, opts) => {
    const report = checkMovieFile(await readMovieFile(moviePath));
    if (opts.json) console.log(JSON.stringify({ valid: report.total === 0, ...report }, null, 2));
    if (report.total > 0) throw new CliError(`${moviePath}: ${summarizeProblems(report)}`, opts.json ? [] : report.problems);
    if (!opts.json) console.log(`${moviePath}: valid`);
  });

program
  .command('frame')
  .description('write one frame of the movie as a PNG, exactly as the video shows it')
  .argument('<movie>', 'movie JSON file')
  .requiredOption('--at <seconds>', 'time in the movie', (v) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('must be a number of seconds, 0 or more');
    return n;
  })
  .requiredOption('-o, --output <file>', 'PNG to write')
  .option('--allow-private-networks', 'let source URLs reach private and loopback addresses')
  .action(async (moviePath: string, opts) => {
    const movie = loadMovie(await readMovieFile(moviePath));
    const result = await renderFrame(movie, { at: opts.at, output: resolve(opts.output), fetch: fetchLimits(opts), signal: interruptSignal() }).catch((err) => {
      throw err instanceof RangeError ? new CliError(err.message) : err;
    });
    console.log(`${result.path}: frame ${result.frame} (scene "${result.sceneId}")`);
  });

program
  .command('schema')
  .description('print the Movie JSON Schema')
  .action(() => console.log(JSON.stringify(MovieSchema, null, 2)));

program
  .command('doctor')
  .description('show which ffmpeg/ffprobe are used, their versions, and the bundled fonts')
  .action(async () => {
    const { ok, lines } = await doctor();
    console.log(lines.join('\n'));
    if (!ok) throw new CliError('some checks failed');
  });

serviceCommands(program);

try {
  await program.parseAsync();
} catch (err) {
  const e = err as Error;
  if (e instanceof CommanderError) {
    // commander has printed the usage problem (or the help) already
    process.exitCode = e.exitCode === 0 ? 0 : 2;
  } else if (e instanceof CliError) {
    console.error(`error: ${e.message}`);
    for (const p of e.problems) console.error(`  ${formatProblem(p)}`);
    process.exitCode = 2;
  } else {
    console.error(`error: ${e.message}`);
    process.exitCode = 2;
  }
}
