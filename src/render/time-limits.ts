// How long each ffmpeg of a render may run: a base plus an allowance for the work it does,
// and, for those that read sources, a stall limit (no progress for that long). Generous on
// purpose, so only a run that hangs or crawls is killed: a 1080p scene with a video, an
// image and text encodes at 22-25 fps with three such ffmpegs sharing two cores (both
// ffmpeg builds), about 0.045 s a frame; the allowance is 0.5 s, room for six workers on
// a machine that is busy with as much again.
import type { RunLimits } from '../media/index.ts';
import { FULL_HD } from './workers.ts';

export interface TimeLimits {
  /** An ffmpeg reading sources whose progress (frames, output time) has not moved for this long is killed. */
  stallSeconds: number;
  sceneBaseSeconds: number;
  /** Per encoded frame of a 1920x1080 canvas with the veryfast preset; scaled up for larger canvases and slower presets. */
  scenePerFrameSeconds: number;
  audioMixBaseSeconds: number;
  /** Per second of the movie. */
  audioMixPerSecond: number;
  assemblyBaseSeconds: number;
  /** Per frame of the movie (stream copy). */
  assemblyPerFrameSeconds: number;
  /** One frame as a PNG. */
  frameSeconds: number;
}

export const DEFAULT_TIME_LIMITS: TimeLimits = {
  stallSeconds: 60,
  sceneBaseSeconds: 60,
  scenePerFrameSeconds: 0.5,
  audioMixBaseSeconds: 60,
  audioMixPerSecond: 0.5,
  assemblyBaseSeconds: 60,
  assemblyPerFrameSeconds: 0.01,
  frameSeconds: 60,
};

/** Cost of an x264 preset per frame relative to veryfast (measured at 1080p: medium 1.6x, slower 4.5x, veryslow 6.4x; rounded up). */
const PRESET_COST: Record<string, number> = { faster: 2, fast: 2, medium: 2, slow: 4, slower: 6, veryslow: 8 };

/** A scene's one ffmpeg, encoding `encodedFrames` frames on a canvas of that size with that x264 preset. */
export function sceneLimits(
  limits: TimeLimits,
  encodedFrames: number,
  canvas: { width: number; height: number },
  preset: string,
): RunLimits {
  const size = Math.max(1, (canvas.width * canvas.height) / FULL_HD);
  const perFrame = limits.scenePerFrameSeconds * size * (PRESET_COST[preset] ?? 1);
  return { seconds: limits.sceneBaseSeconds + perFrame * encodedFrames, stallSeconds: limits.stallSeconds };
}

/** The movie's one audio mix, `movieSeconds` long. */
export function audioMixLimits(limits: TimeLimits, movieSeconds: number): RunLimits {
  return {
    seconds: limits.audioMixBaseSeconds + limits.audioMixPerSecond * movieSeconds,
    stallSeconds: limits.stallSeconds,
  };
}

/**
 * Joining `frames` frames of scenes with the audio track by stream copy. No stall limit: it
 * reads only our own files, and its last step (+faststart rewriting the whole file) reports
 * no progress however long it takes.
 */
export function assemblyLimits(limits: TimeLimits, frames: number): RunLimits {
  return { seconds: limits.assemblyBaseSeconds + limits.assemblyPerFrameSeconds * frames };
}

export function frameLimits(limits: TimeLimits): RunLimits {
  return { seconds: limits.frameSeconds, stallSeconds: limits.stallSeconds };
}
