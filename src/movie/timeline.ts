// Time is frames. These are the only places seconds become frame numbers, and the one home
// of the frame rate as ffmpeg is told it. A movie's `fps` is a whole number or an NTSC rate
// (29.97 means exactly 30000/1001); every computation uses the exact rational, never the decimal.

/** The highest whole-number fps a movie may have. */
export const MAX_FPS = 120;

/** The non-integer rates a movie may have: N x 1000/1001 for N = 24, 30, 48, 60, 120, as people write them. */
export const NTSC_FPS = [23.976, 29.97, 47.952, 59.94, 119.88] as const;

/** A frame rate as a fraction: `num / den` frames per second, in lowest terms. */
export interface FrameRate {
  num: number;
  den: number;
}

/** Whether `fps` is a rate a movie may have: a whole number 1..MAX_FPS or one of NTSC_FPS. */
export function isFps(fps: unknown): fps is number {
  return typeof fps === 'number' && ((Number.isInteger(fps) && fps >= 1 && fps <= MAX_FPS) || isNtsc(fps));
}

function isNtsc(fps: number): boolean {
  return (NTSC_FPS as readonly number[]).includes(fps);
}

/** The exact rate a movie's `fps` means: 30 -> 30/1, 29.97 -> 30000/1001. */
export function frameRate(fps: number): FrameRate {
  if (Number.isInteger(fps) && fps > 0) return { num: fps, den: 1 };
  if (isNtsc(fps)) return { num: Math.round(fps * 1.001) * 1000, den: 1001 };
  throw new RangeError(`fps ${fps} is neither a whole number nor one of ${NTSC_FPS.join(', ')}`);
}

/** The movie `fps` an exact rate is written as (a file's 30000/1001 reads back as 29.97); other rates as a decimal. */
export function fpsOfRate(num: number, den: number): number {
  if (num % den === 0) return num / den;
  return NTSC_FPS.find((fps) => frameRate(fps).num * den === num * 1001) ?? num / den;
}

/** The rate as ffmpeg options and filters take it, exact: "30", "30000/1001". */
export function ffmpegRate(fps: number): string {
  const { num, den } = frameRate(fps);
  return den === 1 ? String(num) : `${num}/${den}`;
}

/** One frame's duration as an exact ffmpeg fraction (a time base): "1/30", "1001/30000". */
export function ffmpegFrameDuration(fps: number): string {
  const { num, den } = frameRate(fps);
  return `${den}/${num}`;
}

/** Seconds from frame 0 to frame `n` (which may be fractional): n x den / num. */
export function frameSeconds(n: number, fps: number): number {
  const { num, den } = frameRate(fps);
  return (n * den) / num;
}

/** Frames a span of `seconds` lasts at `fps`. */
export function toFrames(seconds: number, fps: number): number {
  const { num, den } = frameRate(fps);
  return Math.round((seconds * num) / den);
}

/** The frame shown at `seconds` (the last one that has started; a microsecond's slack for decimals). */
export function frameAt(seconds: number, fps: number): number {
  const { num, den } = frameRate(fps);
  return Math.floor((seconds * num) / den + 1e-6);
}

/** Start frame of each scene on the movie's timeline: running sums of scene frame counts. */
export function sceneOffsets(sceneFrames: readonly number[]): number[] {
  const offsets: number[] = [];
  let at = 0;
  for (const frames of sceneFrames) {
    offsets.push(at);
    at += frames;
  }
  return offsets;
}

/** The frames [start, end) of its scene on which a layer is visible, clipped to the scene. */
export function layerFrameRange(
  startTime: number,
  duration: number,
  fps: number,
  sceneFrames: number,
): { start: number; end: number } {
  const start = Math.min(toFrames(startTime, fps), sceneFrames);
  const end = Math.min(toFrames(startTime + duration, fps), sceneFrames);
  return { start, end: Math.max(start, end) };
}

/**
 * The movie's one audio clock: the sample at which frame `n` of the movie's timeline begins,
 * round(n x sampleRate / fps), in whole numbers (halves round up). Every sample position comes
 * from it, so whatever starts where another thing ends meets it exactly, at any fps.
 */
export function sampleAt(n: number, fps: number, sampleRate: number): number {
  const { num, den } = frameRate(fps);
  const exact = n * sampleRate * den; // a whole number below 2^53 for any movie the schema allows
  // the quotient's floor, corrected by its remainder: a float division may land one off at large n
  let whole = Math.floor(exact / num);
  let rest = exact - whole * num;
  if (rest < 0) [whole, rest] = [whole - 1, rest + num];
  else if (rest >= num) [whole, rest] = [whole + 1, rest - num];
  return 2 * rest >= num ? whole + 1 : whole;
}

/** The samples [start, start + length) of frames [startFrame, startFrame + frames): both ends from the one clock. */
export function sampleSpan(
  startFrame: number,
  frames: number,
  fps: number,
  sampleRate: number,
): { start: number; length: number } {
  const start = sampleAt(startFrame, fps, sampleRate);
  return { start, length: sampleAt(startFrame + frames, fps, sampleRate) - start };
}
