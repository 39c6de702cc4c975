// The one place ffmpeg and ffprobe are spawned: arguments as an array (never a shell),
// progress read from `-progress pipe:1`, killed at once when the signal aborts.
import { spawn } from 'node:child_process';
import { ffmpegBinary, ffprobeBinary } from './binaries.ts';

export class FfmpegError extends Error {
  constructor(
    message: string,
    readonly stderr: string,
  ) {
    super(message);
    this.name = 'FfmpegError';
  }
}

export class AbortedError extends Error {
  constructor() {
    super('render cancelled');
    this.name = 'AbortedError';
  }
}

export interface RunOptions {
  signal?: AbortSignal;
  /** Called with the frame count of the first video output as ffmpeg reports it. */
  onFrames?: (frames: number) => void;
}

export function runFfmpeg(args: string[], options: RunOptions = {}): Promise<void> {
  const progress = options.onFrames ? ['-progress', 'pipe:1', '-nostats'] : ['-nostats'];
  return run(ffmpegBinary().path, ['-hide_banner', '-loglevel', 'error', '-y', ...progress, ...args], options).then(() => undefined);
}

export function runFfprobe(args: string[], options: RunOptions = {}): Promise<string> {
  return run(ffprobeBinary().path, ['-hide_banner', '-loglevel', 'error', ...args], options);
}

/** Runs a binary, resolving with its stdout. */
export function run(binary: string, args: string[], options: RunOptions = {}): Promise<string> {
  const { signal, onFrames } = options;
  if (signal?.aborted) return Promise.reject(new AbortedError());
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let pending = '';
    const kill = () => child.kill('SIGKILL');
    signal?.addEventListener('abort', kill, { once: true });
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      if (!onFrames) {
        stdout += chunk;
        return;
      }
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) if (line.startsWith('frame=')) onFrames(Number(line.slice(6)) || 0);
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-8000);
    });
    child.on('error', (err) => {
      signal?.removeEventListener('abort', kill);
      reject(new FfmpegError(`cannot run ${binary}: ${err.message}`, ''));
    });
    child.on('close', (code, sig) => {
      signal?.removeEventListener('abort', kill);
      if (signal?.aborted) reject(new AbortedError());
      else if (code === 0) resolve(stdout);
      else reject(new FfmpegError(`${binary.split('/').pop()} exited with ${code ?? sig}: ${lastLines(stderr)}`, stderr));
    });
  });
}

function lastLines(text: string): string {
  return text.trim().split('\n').slice(-3).join(' | ') || 'no output';
}
