// The `reelsmith` command. Each command loads the modules it uses when it runs (the
// engine, the service), so `--version`, `schema` and `validate` start quickly.
// Exit codes: 0 done, 1 the render (or another command's work) failed, 2 a usage
// problem or an invalid movie, 130 interrupted.
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { integer } from './options.ts';
import { CliError, CommandFailed } from './cli-error.ts';
import { exitCodeOf } from './exit-codes.ts';
import { checkedOutput } from './output-path.ts';
import { serviceCommands } from './service-commands.ts';
import type { FetchLimits } from '../media/index.ts';
import { formatProblem, PROBLEM_CAPS } from '../movie/problems.ts';
import { checkEncoder, DEFAULT_ENCODER } from '../render/encoder.ts';
import { PRESET_WORKERS, sceneWorkers, type QualityPreset } from '../render/workers.ts';
import { PACKAGE } from '../package-info.ts';

const program = new Command('reelsmith')
  .description('Render Movie JSON to MP4')
  .version(PACKAGE.version)
  .showHelpAfterError()
  .exitOverride();

const fetchLimits = async (opts: { allowPrivateNetworks?: boolean }): Promise<FetchLimits> =>
  opts.allowPrivateNetworks
    ? { allowPrivateNetworks: true }
    : (await import('../media/index.ts')).networkPolicyFromEnv();

/** Ctrl-C aborts the render: every ffmpeg dies, temp files are removed, exit code 130. */
let interrupted = false;
function interruptSignal(): AbortSignal {
  const controller = new AbortController();
  const onSignal = () => {
    interrupted = true;
    controller.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return controller.signal;
}

program
  .command('render')
  .description('render a movie (or a whole render request) to an MP4')
  .argument('<movie>', 'movie JSON file')
  .requiredOption('-o, --output <file>', 'MP4 to write')
  .option(
    '--preset <preset>',
    `scene workers: ${Object.entries(PRESET_WORKERS)
      .map(([k, v]) => `${k}=${v}`)
      .join(', ')}`,
  )
  .option('-c, --concurrency <n>', 'scene workers, overrides the preset (1..32)', integer(1, 32))
  .option('--crf <n>', `x264 constant rate factor (default ${DEFAULT_ENCODER.crf})`, integer(0, 51))
  .option('--x264-preset <name>', `x264 speed preset (default ${DEFAULT_ENCODER.preset})`)
  .option('--allow-private-networks', 'let source URLs reach private and loopback addresses')
  .option('-q, --quiet', 'no progress bar')
  .option('--json', 'print the result (the output as read back, phase timings, warnings) as JSON')
  .action(async (moviePath: string, opts) => {
    const output = checkedOutput(opts.output, '.mp4');
    const { loadMovie, readMovieFile } = await import('./load-movie.ts');
    const file = await readMovieFile(moviePath);
    const movie = loadMovie(file);
    const preset = (opts.preset ?? file.renderOptions.qualityPreset ?? 'balanced') as QualityPreset;
    if (!(preset in PRESET_WORKERS))
      throw new CliError(
        `--preset (or renderOptions.qualityPreset) must be one of ${Object.keys(PRESET_WORKERS).join(', ')}`,
      );
    const requested = file.renderOptions.requestedConcurrency;
    if (requested !== undefined && !(Number.isInteger(requested) && requested >= 1 && requested <= 32)) {
      throw new CliError('renderOptions.requestedConcurrency must be a whole number from 1 to 32');
    }
    const encoder = { preset: opts.x264Preset ?? DEFAULT_ENCODER.preset, crf: opts.crf ?? DEFAULT_ENCODER.crf };
    const encoderProblem = checkEncoder(encoder);
    if (encoderProblem) throw new CliError(encoderProblem);
    const [{ renderMovie }, { progressBar }] = await Promise.all([
      import('../render/index.ts'),
      import('./progress-bar.ts'),
    ]);
    const bar = opts.quiet || opts.json ? undefined : progressBar();
    try {
      const result = await renderMovie(movie, {
        output,
        concurrency: opts.concurrency ?? sceneWorkers(preset, file.renderOptions.requestedConcurrency),
        encoder,
        signal: interruptSignal(),
        fetch: await fetchLimits(opts),
        onProgress: (p) => bar?.update(p),
      });
      bar?.stop();
      for (const warning of result.warnings) console.error(`warning: ${warning}`);
      const m = result.mediaData;
      if (opts.json)
        console.log(
          JSON.stringify(
            { path: result.path, mediaData: m, timings: result.timings, warnings: result.warnings },
            null,
            2,
          ),
        );
      else
        console.log(
          `${result.path}: ${m.width}x${m.height} ${m.fps} fps, ${m.frames} frames, ${m.duration.toFixed(3)} s, ${m.bytes} bytes`,
        );
    } finally {
      bar?.stop();
    }
  });

program
  .command('validate')
  .description(
    `check a movie; exit 0 when valid, 2 listing its problems (the first ${PROBLEM_CAPS.listed}) and counting them`,
  )
  .argument('<movie>', 'movie JSON file')
  .option('--json', 'print the problems as JSON')
  .action(async (moviePath: string, opts) => {
    const [{ checkMovieFile, readMovieFile }, { summarizeProblems }] = await Promise.all([
      import('./load-movie.ts'),
      import('../movie/index.ts'),
    ]);
    const report = checkMovieFile(await readMovieFile(moviePath));
    if (opts.json) console.log(JSON.stringify({ valid: report.total === 0, ...report }, null, 2));
    if (report.total > 0)
      throw new CliError(`${moviePath}: ${summarizeProblems(report)}`, opts.json ? [] : report.problems);
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
  .option('--json', 'print the result as JSON')
  .action(async (moviePath: string, opts) => {
    const output = checkedOutput(opts.output, '.png');
    const { loadMovie, readMovieFile } = await import('./load-movie.ts');
    const movie = loadMovie(await readMovieFile(moviePath));
    const { renderFrame } = await import('../render/index.ts');
    const result = await renderFrame(movie, {
      at: opts.at,
      output,
      fetch: await fetchLimits(opts),
      signal: interruptSignal(),
    }).catch((err) => {
      throw err instanceof RangeError ? new CliError(err.message) : err;
    });
    if (opts.json) console.log(JSON.stringify(result, null, 2));
    else console.log(`${result.path}: frame ${result.frame} (scene "${result.sceneId}")`);
  });

program
  .command('schema')
  .description('print the Movie JSON Schema')
  .action(async () => console.log(JSON.stringify((await import('../movie/schema.ts')).Movie, null, 2)));

program
  .command('doctor')
  .description('show which ffmpeg/ffprobe are used, their versions, and the bundled fonts')
  .option('--json', 'print the checks as JSON')
  .action(async (opts) => {
    const { ok, lines } = await (await import('./doctor.ts')).doctor();
    if (opts.json) console.log(JSON.stringify({ ok, lines }, null, 2));
    else console.log(lines.join('\n'));
    if (!ok) throw new CommandFailed('some checks failed');
  });

serviceCommands(program);

try {
  await program.parseAsync();
} catch (err) {
  const e = err as Error;
  process.exitCode = exitCodeOf(e, interrupted);
  // commander has printed its usage problem (or the help, or the version) already
  if (!(e instanceof CommanderError)) {
    console.error(`error: ${e.message}`);
    if (e instanceof CliError) for (const p of e.problems) console.error(`  ${formatProblem(p)}`);
  }
}
