// What one ffmpeg or ffprobe may take of the machine, and how many sources a process
// probes at once: a source that claims a huge index (an MP4 of a few KB whose sample
// tables claim 20M samples) makes its reader allocate gigabytes, so every run gets an
// address-space limit (RLIMIT_AS), and a job of many layers queues its probes instead of
// starting them all together. The settings are the process's, set once at start.
import { availableParallelism } from 'node:os';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

export interface ProcessLimits {
  /**
   * Address space of one ffmpeg, bytes. Honest peaks (VmPeak, Debian's ffmpeg 5.1, 2 cores):
   * a 7680x7680 scene with x264 on 2 threads 4.7 GB, on 8 threads 8.5 GB, on 16 threads
   * 12.1 GB; a 4K scene 1.0 GB; a 50-megapixel JPEG fitted 1.0 GB.
   */
  ffmpegBytes: number;
  /**
   * Address space of one ffprobe, bytes. Honest peaks: 270-345 MB (1080p to 8K sources);
   * about 55 bytes per sample its index holds (16 streams of 4 h AAC, 10.8M samples: 0.8 GB),
   * so a file claiming 20M samples (1.3 GB) is refused.
   */
  ffprobeBytes: number;
  /** Sources a process probes at once, all jobs together. */
  probesAtOnce: number;
}

/**
 * The defaults on a machine of `cores`: ffmpeg's grows with the threads an encoder may get
 * (4 GiB and 1 GiB a core, at least 8 GiB), ffprobe's does not (it decodes on one thread).
 */
export function defaultProcessLimits(cores = availableParallelism()): ProcessLimits {
  return {
    ffmpegBytes: Math.max(8 * GiB, (4 + cores) * GiB),
    ffprobeBytes: GiB,
    probesAtOnce: Math.max(2, cores),
  };
}

let current = defaultProcessLimits();

/** The limits every run of this process gets. */
export function processLimits(): Readonly<ProcessLimits> {
  return current;
}

/**
 * The least address space a run may be given: Debian's ffmpeg and ffprobe map about 270 MB
 * of libraries before they read anything, and fail to start with less.
 */
export const LEAST_RUN_BYTES = 512 * MiB;

/** Sets some of them (serve and worker do, from their settings); the others keep their value. */
export function setProcessLimits(limits: Partial<ProcessLimits>): void {
  for (const [name, value] of Object.entries(limits)) {
    if (value === undefined) continue;
    if (!(Number.isInteger(value) && value > 0))
      throw new RangeError(`${name} must be a positive whole number, not ${value}`);
    if (name !== 'probesAtOnce' && value < LEAST_RUN_BYTES)
      throw new RangeError(`${name} must be at least ${mebibytes(LEAST_RUN_BYTES)}, not ${mebibytes(value)}`);
  }
  current = { ...current, ...limits };
}

/** Bytes as a message shows them: `1024 MiB`. */
export function mebibytes(bytes: number): string {
  return `${Math.round(bytes / MiB)} MiB`;
}
