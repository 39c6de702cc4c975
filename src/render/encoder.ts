// The encoder settings every chunk shares: identical parameters are what lets chunks
// join by concatenating their bytes. Chunks are raw H.264 (Annex B): no container, no
// timestamps, so nothing at a join can be rounded; the one mux at the end gives every
// frame exactly 1/fps. No B-frames: a raw H.264 stream carries no presentation times,
// and ffmpeg reads one with B-frames in decode order as if it were display order (both
// builds), so they would show out of order. Measured at 1080p veryfast crf 20: 2.5-5 %
// larger, 25 % less CPU and memory per encoder.
import { ffmpegRate, frameRate, frameSeconds } from '../movie/index.ts';
import { colourTagArgs } from './colour.ts';
import { atLeastFullHd } from './workers.ts';

/** The frame size and rate an encoder works at (`fps` as the movie gives it: 30, 29.97). */
export interface Canvas {
  width: number;
  height: number;
  fps: number;
}

export interface EncoderProfile {
  /** libx264 preset (default veryfast). */
  preset: string;
  /** libx264 constant rate factor (default 20). */
  crf: number;
}

export const DEFAULT_ENCODER: EncoderProfile = { preset: 'veryfast', crf: 20 };

export const AUDIO_SAMPLE_RATE = 48_000;

/** libx264's presets, each with the frames its rate control looks ahead by default. */
const LOOKAHEAD = {
  ultrafast: 0,
  superfast: 0,
  veryfast: 10,
  faster: 20,
  fast: 30,
  medium: 40,
  slow: 50,
  slower: 60,
  veryslow: 60,
} as const;
const PRESETS = Object.keys(LOOKAHEAD);

/**
 * Frames x264 looks ahead at this size: from 1080p up, half its preset's default. Each
 * such frame holds about 6 MB; at veryfast, 5 instead of 10 takes 30 MB off each encoder
 * and 8-20 % of its CPU time, for files within 1 % of the size (bench T3 footage) and a
 * still picture about 1 dB PSNR lower (mbtree lifts a still's first frame less).
 */
export function lookaheadFrames(preset: string, canvas: { width: number; height: number }): number | undefined {
  const frames = LOOKAHEAD[preset as keyof typeof LOOKAHEAD];
  return atLeastFullHd(canvas) ? Math.floor(frames / 2) : undefined;
}

export function checkEncoder(profile: EncoderProfile): string | undefined {
  if (!PRESETS.includes(profile.preset)) return `preset must be one of ${PRESETS.join(', ')}`;
  if (!(profile.crf >= 0 && profile.crf <= 51)) return 'crf must be between 0 and 51';
  return undefined;
}

/** The H.264 encoder and its settings, the same for every scene (threads 0: libx264 decides); tagged with the output's colour. */
export function encoderArgs(profile: EncoderProfile, canvas: Canvas, threads: number): string[] {
  const lookahead = lookaheadFrames(profile.preset, canvas);
  return [
    '-c:v',
    'libx264',
    '-preset',
    profile.preset,
    '-crf',
    String(profile.crf),
    '-profile:v',
    'high',
    '-pix_fmt',
    'yuv420p',
    ...colourTagArgs(),
    '-threads',
    String(threads),
    '-r',
    ffmpegRate(canvas.fps),
    '-bf',
    '0',
    ...(lookahead === undefined ? [] : ['-rc-lookahead', String(lookahead)]),
  ];
}

/**
 * How much lower the rate factor of a still span's one encoded picture is. Encoded as a
 * chunk of frames, a still's quality rose over its P-frames (x264 refined it); shown as one
 * IDR picture and its exact repeats it must start there. Measured on a photo, a noisy
 * picture and a gradient with text (1080p veryfast crf 20): 5 lower gives the picture the
 * PSNR the old one-second chunk averaged (52.8 against 52.7 dB, 59.4 against 59.3 dB, 44.8
 * against 44.0 dB at crf 14) for fewer bytes than that chunk (0.9, 0.5 and 1.0 times).
 */
export const STILL_CRF_OFFSET = 5;

/** Chunk files: raw H.264, read back with this demuxer. */
export const CHUNK_EXTENSION = '.h264';
export const CHUNK_DEMUXER = 'h264';

/**
 * Output options for a scene's H.264 stream of `frames` frames, cut into one raw H.264
 * file per chunk at the frame numbers `cuts`, each of which starts with an IDR picture
 * (x264's GOPs are closed) carrying the parameter sets (dump_extra: the segment muxer
 * asks the encoder for them out of band). Keyframes are forced by a list of times, which
 * takes any number of cuts (an expression is refused past 100 terms by ffmpeg 5.1). The
 * frames `stills` (a still span's one picture each) get STILL_CRF_OFFSET through x264 zones.
 */
export function sceneOutputArgs(
  profile: EncoderProfile,
  canvas: Canvas,
  frames: number,
  threads: number,
  cuts: number[],
  stills: number[],
): string[] {
  const { fps } = canvas;
  const stillCrf = Math.max(0, profile.crf - STILL_CRF_OFFSET);
  return [
    ...encoderArgs(profile, canvas, threads),
    '-frames:v',
    String(frames),
    ...(cuts.length > 0 ? ['-force_key_frames', cuts.map((n) => frameSeconds(n, fps).toFixed(6)).join(',')] : []),
    ...(stills.length > 0 ? ['-x264-params', `zones=${stills.map((n) => `${n},${n},crf=${stillCrf}`).join('/')}`] : []),
    '-bsf:v',
    'dump_extra',
    '-an',
    '-f',
    'segment',
    '-segment_format',
    CHUNK_DEMUXER,
    // always a frame list, ending past the last frame: without one the muxer cuts every 2 s
    // at x264's own keyframes (every 250 frames)
    '-segment_frames',
    [...cuts, frames].join(','),
  ];
}

/**
 * The timescale of the output's video track: at least 512 ticks per frame (ffmpeg's own
 * choice for 25 and 30 fps; an NTSC rate's own numerator already gives 1001). Browsers round
 * a seek to the track's ticks: with one tick per frame, a seek into the second half of the
 * frame before a keyframe showed the keyframe (Chromium). Muxed straight from raw H.264 at
 * this timescale, frames came out a tick off (ffmpeg converts from the raw reader's
 * 1/1200000), so the stream is first muxed at the rate's own timescale (`frameTimescale`),
 * then copied to this one: a whole multiple, exact.
 */
export function videoTimescale(fps: number): number {
  const { num, den } = frameRate(fps);
  return num * Math.ceil(512 / den);
}

/** The first mux's video timescale: the rate's numerator, so a frame is `den` ticks (1 at whole fps), which ffmpeg numbers exactly. */
export function frameTimescale(fps: number): number {
  return frameRate(fps).num;
}

/** Output options for the movie's one audio track. */
export function audioOutputArgs(): string[] {
  return ['-c:a', 'aac', '-b:a', '192k', '-ar', String(AUDIO_SAMPLE_RATE), '-ac', '2', '-vn', '-f', 'mp4'];
}
