// The `reelsmith` command. Each command loads the modules it uses when it runs (the
// engine, the service), so `--version`, `schema` and `validate` start quickly.
// Exit codes: 0 done, 1 the render (or another command's work) failed, 2 a usage
// problem or an invalid movie, 130 interrupted.
import { Command, InvalidArgumentError } from 'commander';
import { integer, networkPolicy } from './options.ts';
import { CliError, CommandFailed } from './cli-error.ts';
import { exitCodeOf } from './exit-codes.ts';
import { jsonOption, jsonRequested, print, reportError } from './output.ts';
import { checkedOutput } from './output-path.ts';
import { serviceCommands } from './service-commands.ts';
import { explainWorkFolder } from './work-folder.ts';
import { PROBLEM_CAPS } from '../movie/problems.ts';
import { checkEncoder, DEFAULT_ENCODER } from '../render/encoder.ts';
import {
  CONCURRENCY_RANGE,
  DEFAULT_PRESET,
  describePresets,
  PRESET_WORKERS,
  QUALITY_PRESETS,
  sceneWorkers,
  type QualityPreset,
} from '../render/workers.ts';
import { PACKAGE } from '../package-info.ts';

const json = jsonRequested(process.argv.slice(2));

const program = new Command('reelsmith')
  .description('Render Movie JSON to MP4')
  .version(PACKAGE.version)
  .showHelpAfterError()
  // with --json, commander's own complaints come out as JSON (below), not as text
  .configureOutput({ writeErr: (text) => json || process.stderr.write(text) })
  .exitOverride();

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
  .option('--preset <preset>', `scene workers: ${describePresets()}`)
  .option(
    '-c, --concurrency <n>',
    `scene workers, overrides the preset (${CONCURRENCY_RANGE.min}..${CONCURRENCY_RANGE.max})`,
    integer(CONCURRENCY_RANGE.min, CONCURRENCY_RANGE.max),
  )
  .option('--crf <n>', `x264 constant rate factor (default ${DEFAULT_ENCODER.crf})`, integer(0, 51))
  .option('--x264-preset <name>', `x264 speed preset (default ${DEFAULT_ENCODER.preset})`)
  .option('--allow-private-networks', 'let source URLs reach private and loopback addresses')
  .option('-q, --quiet', 'no progress bar')
  .addOption(jsonOption('the result (the output as read back, phase timings, warnings)'))
  .action(async (moviePath: string, opts) => {
    const output = checkedOutput(opts.output, '.mp4');
    if (opts.preset !== undefined && !(opts.preset in PRESET_WORKERS))
      throw new CliError(`--preset must be one of ${QUALITY_PRESETS.join(', ')}`);
    const encoder = { preset: opts.x264Preset ?? DEFAULT_ENCODER.preset, crf: opts.crf ?? DEFAULT_ENCODER.crf };
    const encoderProblem = checkEncoder(encoder);
    if (encoderProblem) throw new CliError(encoderProblem);
    // the file is checked as the API checks a request (src/jobs/render-request.ts), renderOptions included
    const { inUsersWords, loadMovieFile } = await import('./load-movie.ts');
    const file = await loadMovieFile(moviePath);
    const preset: QualityPreset = opts.preset ?? file.renderOptions.qualityPreset ?? DEFAULT_PRESET;
    const [{ renderMovie }, { progressBar }] = await Promise.all([
      import('../render/index.ts'),
      import('./progress-bar.ts'),
    ]);
    const bar = opts.quiet || opts.json ? undefined : progressBar();
    try {
      const result = await renderMovie(file.movie, {
        output,
        concurrency: opts.concurrency ?? sceneWorkers(preset, file.renderOptions.requestedConcurrency),
        encoder,
        signal: interruptSignal(),
        fetch: await networkPolicy(opts),
        onProgress: (p) => bar?.update(p),
      })
        .catch(inUsersWords(file.givenPaths))
        .catch(explainWorkFolder(output));
      bar?.stop();
      for (const warning of result.warnings) console.error(`warning: ${warning}`);
      const m = result.mediaData;
      print(
        opts,
        { path: result.path, mediaData: m, timings: result.timings, warnings: result.warnings },
        `${result.path}: ${m.width}x${m.height} ${m.fps} fps, ${m.frames} frames, ${m.duration.toFixed(3)} s, ${m.bytes} bytes`,
      );
    } finally {
      bar?.stop();
    }
  });

program
  .command('validate')
  .description(
    `check a movie file exactly as render and the API do; exit 0 when valid, 2 listing its problems (the first ${PROBLEM_CAPS.listed}) and counting them`,
  )
  .argument('<movie>', 'movie JSON file (a bare Movie or a whole render request)')
  .addOption(jsonOption())
  .action(async (moviePath: string, opts) => {
    // what render reads first, by the same function
    await (await import('./load-movie.ts')).loadMovieFile(moviePath);
    print(opts, { file: moviePath, valid: true }, `${moviePath}: valid`);
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
  .addOption(jsonOption())
  .action(async (moviePath: string, opts) => {
    const output = checkedOutput(opts.output, '.png');
    const { inUsersWords, loadMovieFile } = await import('./load-movie.ts');
    const file = await loadMovieFile(moviePath);
    const { renderFrame } = await import('../render/index.ts');
    const result = await renderFrame(file.movie, {
      at: opts.at,
      output,
      fetch: await networkPolicy(opts),
      signal: interruptSignal(),
    })
      .catch(inUsersWords(file.givenPaths))
      .catch(explainWorkFolder(output))
      .catch((err) => {
        throw err instanceof RangeError ? new CliError(err.message) : err;
      });
    print(opts, result, `${result.path}: frame ${result.frame} (scene "${result.sceneId}")`);
  });

program
  .command('schema')
  .description('print the Movie JSON Schema')
  .addOption(jsonOption('the schema on one line'))
  .action(async (opts) => {
    const { Movie } = await import('../movie/schema.ts');
    print(opts, Movie, JSON.stringify(Movie, null, 2));
  });

program
  .command('doctor')
  .description('show which ffmpeg/ffprobe are used, their versions, and the bundled fonts')
  .addOption(jsonOption('the checks'))
  .action(async (opts) => {
    const { ok, lines } = await (await import('./doctor.ts')).doctor();
    print(opts, { ok, lines }, lines.join('\n'));
    if (!ok) throw new CommandFailed('some checks failed');
  });

serviceCommands(program);

try {
  await program.parseAsync();
} catch (err) {
  process.exitCode = exitCodeOf(err, interrupted);
  reportError(err as Error, process.exitCode, json);
}
