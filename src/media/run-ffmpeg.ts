// The one place ffmpeg and ffprobe are spawned: arguments as an array (never a shell),
// progress read from `-progress pipe:1`, killed at once when the signal aborts, and killed
// when a run passes its time limit or its progress stalls, so nothing a source says can
// keep a process (and the worker waiting on it) alive for ever. Each runs with an address-
// space limit (RLIMIT_AS, process-limits.ts): Node cannot set one on a child, so on Linux the
// child is a shell that sets it and then becomes the binary (exec, same pid), the arguments
// still passed as an array; a run that says an allocation failed is killed at once.
import { spawn } from 'node:child_process';
import { setPriority } from 'node:os';
import type { Readable } from 'node:stream';
import { cannotStart, ffmpegBinary, ffprobeBinary } from './binaries.ts';
import { fileNames, lastLines, namePaths } from './ffmpeg-message.ts';
import { mebibytes, processLimits } from './process-limits.ts';

export class FfmpegError extends Error {
  constructor(
    message: string,
    readonly stderr: string,
  ) {
    super(message);
    this.name = 'FfmpegError';
  }
}

/** A run killed for taking too long: never a user's cancel, never ffmpeg's own failure. */
export class FfmpegTimeoutError extends Error {
  constructor(
    message: string,
    /** `stalled`: its progress did not move for `seconds`; `time`: it ran longer than `seconds` in all. */
    readonly limit: 'stalled' | 'time',
    readonly seconds: number,
  ) {
    super(message);
    this.name = 'FfmpegTimeoutError';
  }
}

/** A run that needed more memory than its limit: it said an allocation failed, and was killed. */
export class FfmpegMemoryError extends Error {
  constructor(
    message: string,
    /** The limit it reached, bytes. */
    readonly bytes: number,
  ) {
    super(message);
    this.name = 'FfmpegMemoryError';
  }
}

export class AbortedError extends Error {
  constructor() {
    super('render cancelled');
    this.name = 'AbortedError';
  }
}

/**
 * For `.catch`: rethrows an ffmpeg failure or timeout with what was being done in front of
 * its message (`scene "intro" (movie.scenes[0]): ...`), keeping its class; anything else as is.
 */
export function failureIn(context: string): (err: unknown) => never {
  return (err) => {
    if (err instanceof FfmpegTimeoutError)
      throw new FfmpegTimeoutError(`${context}: ${err.message}`, err.limit, err.seconds);
    if (err instanceof FfmpegError) throw new FfmpegError(`${context}: ${err.message}`, err.stderr);
    if (err instanceof FfmpegMemoryError) throw new FfmpegMemoryError(`${context}: ${err.message}`, err.bytes);
    throw err;
  };
}

export interface RunLimits {
  /** Killed after this many seconds in all. */
  seconds: number;
  /** ffmpeg only: killed when its progress (frames, output time) has not moved for this many seconds. */
  stallSeconds?: number;
}

/** ffprobe, and any other run given no limits, is killed after this long. */
export const DEFAULT_RUN_SECONDS = 30;

/** The longest delay a Node timer holds (about 24.8 days); a longer one would fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface RunOptions {
  signal?: AbortSignal;
  limits?: RunLimits;
  /** What the user knows our files as (path -> `layer "logo"`), for error messages; other files get generic names. */
  names?: ReadonlyMap<string, string>;
  /**
   * Runs at a lower CPU priority (nice 10; raising it needs no privilege): work that can
   * wait while the one long single-threaded step of a render, its audio mix, runs.
   */
  yieldsCpu?: boolean;
  /**
   * Reads the binary's stdout as bytes, at its own pace (the run resolves with '' once both
   * the process and the reader are done; a reader that fails kills the process). A stream
   * cut short is for the caller to judge after the run: ffmpeg's own failure says why.
   */
  readStdout?: (stdout: Readable) => Promise<void>;
}

/** The niceness of a run that yields the CPU. */
const YIELDING_NICENESS = 10;

export interface FfmpegRunOptions extends RunOptions {
  /** Every ffmpeg run is bounded: see time-limits in render/. */
  limits: RunLimits;
  /** Called with the frame count of the first video output as ffmpeg reports it. */
  onFrames?: (frames: number) => void;
}

export function runFfmpeg(args: string[], options: FfmpegRunOptions): Promise<void> {
  const full = ['-hide_banner', '-loglevel', 'error', '-y', '-progress', 'pipe:1', '-nostats', ...args];
  return execute(
    ffmpegBinary().path,
    full,
    { ...options, names: fileNames(full, options.names ?? new Map(), 'the output') },
    processLimits().ffmpegBytes,
    progressReader(options.onFrames),
  ).then(() => undefined);
}

export function runFfprobe(args: string[], options: RunOptions = {}): Promise<string> {
  const full = ['-hide_banner', '-loglevel', 'error', ...args];
  return execute(
    ffprobeBinary().path,
    full,
    { ...options, names: fileNames(full, options.names ?? new Map(), 'the source') },
    processLimits().ffprobeBytes,
  );
}

/**
 * Runs a binary (at most `limits.seconds`, default DEFAULT_RUN_SECONDS, within ffmpeg's
 * memory limit), resolving with its stdout.
 */
export function run(binary: string, args: string[], options: RunOptions = {}): Promise<string> {
  return execute(binary, args, options, processLimits().ffmpegBytes);
}

/** Reads `-progress` lines: reports frames, and says whether the run moved on since the last block. */
type ProgressReader = (line: string) => boolean;

export function progressReader(onFrames?: (frames: number) => void): ProgressReader {
  let position = '';
  let current = '';
  return (line) => {
    if (line.startsWith('frame=')) onFrames?.(Number(line.slice(6)) || 0);
    // frames for video, output time for audio: a block where neither moved is no progress
    if (line.startsWith('frame=') || line.startsWith('out_time=')) current += `${line};`;
    if (!line.startsWith('progress=')) return false;
    const moved = current !== position;
    position = current;
    current = '';
    return moved;
  };
}

/**
 * What ffmpeg and ffprobe say when an allocation fails: ENOMEM's words, the MP4 demuxer's
 * index that cannot grow, x264's failed malloc, a thread that cannot get its stack.
 */
const OUT_OF_MEMORY = /Cannot allocate memory|Cannot add index entry|malloc of size \d+ failed|pthread_create failed/;

/** A shell's exit statuses when it cannot run the program it execs: not found, not executable. */
const EXEC_FAILED: Record<number, string> = { 127: 'ENOENT', 126: 'EACCES' };

/**
 * The command that runs `binary` with at most `bytes` of address space. Only `ulimit`'s
 * number is written into the shell's script; the binary and its arguments stay separate
 * arguments ("$0" "$@"). Elsewhere than Linux, the binary itself, unlimited.
 */
function limitedCommand(binary: string, args: string[], bytes: number): [string, string[]] {
  if (process.platform !== 'linux') return [binary, args];
  const kib = Math.ceil(bytes / 1024);
  return ['/bin/sh', ['-c', `ulimit -v ${kib} && exec "$0" "$@"`, binary, ...args]];
}

function execute(
  binary: string,
  args: string[],
  options: RunOptions,
  memoryBytes: number,
  readProgress?: ProgressReader,
): Promise<string> {
  const { signal, names = new Map() } = options;
  const limits = options.limits ?? { seconds: DEFAULT_RUN_SECONDS };
  const program = binary.split('/').pop();
  if (signal?.aborted) return Promise.reject(new AbortedError());
  return new Promise((resolve, reject) => {
    const [command, commandArgs] = limitedCommand(binary, args, memoryBytes);
    const child = spawn(command, commandArgs, { stdio: ['ignore', 'pipe', 'pipe'] });
    if (options.yieldsCpu && child.pid !== undefined) {
      try {
        setPriority(child.pid, YIELDING_NICENESS);
      } catch {
        // it exited already, or the system refuses: it runs at normal priority, which is only slower
      }
    }
    let stdout = '';
    let stderr = '';
    let pending = '';
    /** Why we killed it, if we did. */
    let killedFor: Error | undefined;
    const kill = (reason: Error) => {
      killedFor ??= reason;
      child.kill('SIGKILL');
    };
    // the process's close waits for a byte reader to finish (it may still be writing what it read)
    const reading = options.readStdout?.(child.stdout).catch((err: Error) => kill(err));
    const cancel = () => kill(new AbortedError());
    signal?.addEventListener('abort', cancel, { once: true });
    const wall = after(limits.seconds, () =>
      kill(
        new FfmpegTimeoutError(
          `${program} ran longer than its ${seconds(limits.seconds)} limit`,
          'time',
          limits.seconds,
        ),
      ),
    );
    // a stall limit needs progress lines to watch
    const stallSeconds = readProgress && limits.stallSeconds;
    const stall = stallSeconds
      ? after(stallSeconds, () =>
          kill(
            new FfmpegTimeoutError(
              `${program} stalled: no progress for ${seconds(stallSeconds)}`,
              'stalled',
              stallSeconds,
            ),
          ),
        )
      : undefined;
    const settle = () => {
      signal?.removeEventListener('abort', cancel);
      clearTimeout(wall);
      clearTimeout(stall);
    };

    if (!reading)
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        if (!readProgress) {
          stdout += chunk;
          return;
        }
        pending += chunk;
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) if (readProgress(line)) stall?.refresh();
      });
    // its words are looked for as they come: what follows them may be thousands of lines
    let tail = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-8000);
      const said = tail + chunk;
      if (OUT_OF_MEMORY.test(said))
        kill(
          new FfmpegMemoryError(`${program} needed more memory than its ${mebibytes(memoryBytes)} limit`, memoryBytes),
        );
      tail = said.slice(-60);
    });
    child.on('error', (err: NodeJS.ErrnoException) => {
      settle();
      // not started at all: the binary's fault (which one, and why), never the input's
      reject(child.pid === undefined ? cannotStart(binary, err) : new FfmpegError(`${program}: ${err.message}`, ''));
    });
    child.on('close', async (code, sig) => {
      await reading;
      settle();
      const said = namePaths(stderr, names);
      if (killedFor) reject(killedFor);
      else if (code === 0) resolve(stdout);
      else if (command !== binary && code !== null && EXEC_FAILED[code] && stdout === '')
        reject(cannotStart(binary, Object.assign(new Error(lastLines(stderr)), { code: EXEC_FAILED[code] })));
      else reject(new FfmpegError(`${program} exited with ${code ?? sig}: ${lastLines(said)}`, said));
    });
  });
}

/** Calls `fn` after `s` seconds (at most MAX_TIMER_MS). */
function after(s: number, fn: () => void): NodeJS.Timeout {
  return setTimeout(fn, Math.min(s * 1000, MAX_TIMER_MS));
}

/** Seconds as a message shows them: `60 s`, `0.5 s`. */
function seconds(n: number): string {
  return `${Number(n.toFixed(2))} s`;
}
