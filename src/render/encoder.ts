// The encoder settings every segment shares: identical parameters are what lets
// segments join by stream copy.
import { colourTagArgs } from './colour.ts';

export interface EncoderProfile {
  /** libx264 preset (default veryfast). */
  preset: string;
  /** libx264 constant rate factor (default 20). */
  crf: number;
}

export const DEFAULT_ENCODER: EncoderProfile = { preset: 'veryfast', crf: 20 };

export const AUDIO_SAMPLE_RATE = 48_000;

const PRESETS = ['ultrafast', 'superfast', 'veryfast', 'faster', 'fast', 'medium', 'slow', 'slower', 'veryslow'];

export function checkEncoder(profile: EncoderProfile): string | undefined {
  if (!PRESETS.includes(profile.preset)) return `preset must be one of ${PRESETS.join(', ')}`;
  if (!(profile.crf >= 0 && profile.crf <= 51)) return 'crf must be between 0 and 51';
  return undefined;
}

/** The H.264 encoder and its settings, the same for every scene (threads 0: libx264 decides); tagged with the output's colour. */
export function encoderArgs(profile: EncoderProfile, fps: number, threads: number): string[] {
  return [
    '-c:v', 'libx264', '-preset', profile.preset, '-crf', String(profile.crf), '-profile:v', 'high', '-pix_fmt', 'yuv420p', ...colourTagArgs(),
    '-threads', String(threads), '-r', String(fps),
  ];
}

/**
 * Output options for a scene's H.264 stream of `frames` frames, cut into one MP4 per chunk
 * at the frame numbers `cuts`, each of which starts with a keyframe.
 */
export function sceneOutputArgs(profile: EncoderProfile, fps: number, frames: number, threads: number, cuts: number[]): string[] {
  return [
    ...encoderArgs(profile, fps, threads),
    '-frames:v', String(frames),
    ...(cuts.length > 0 ? ['-force_key_frames', `expr:${cuts.map((n) => `eq(n,${n})`).join('+')}`] : []),
    '-an',
    '-f', 'segment',
    '-segment_format', 'mp4',
    '-segment_format_options', `video_track_timescale=${fps * 512}`,
    ...(cuts.length > 0 ? ['-segment_frames', cuts.join(',')] : []),
    '-reset_timestamps', '1',
  ];
}

/** Output options for the movie's one audio track. */
export function audioOutputArgs(): string[] {
  return ['-c:a', 'aac', '-b:a', '192k', '-ar', String(AUDIO_SAMPLE_RATE), '-ac', '2', '-vn', '-f', 'mp4'];
}
