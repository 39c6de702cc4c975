// The encoder settings every segment shares: identical parameters are what lets
// segments join by stream copy.

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

/** Output options for one H.264 segment of `frames` frames. */
export function videoOutputArgs(profile: EncoderProfile, fps: number, frames: number, threads: number): string[] {
  return [
    '-c:v', 'libx264',
    '-preset', profile.preset,
    '-crf', String(profile.crf),
    '-profile:v', 'high',
    '-pix_fmt', 'yuv420p',
    '-threads', String(threads),
    '-r', String(fps),
    '-video_track_timescale', String(fps * 512),
    '-frames:v', String(frames),
    '-an',
    '-f', 'mp4',
  ];
}

/** Output options for the movie's one audio track. */
export function audioOutputArgs(): string[] {
  return ['-c:a', 'aac', '-b:a', '192k', '-ar', String(AUDIO_SAMPLE_RATE), '-ac', '2', '-vn', '-f', 'mp4'];
}
