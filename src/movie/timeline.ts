// Time is frames. These are the only places seconds become frame numbers.

/** Frames a span of `seconds` lasts at `fps`. */
export function toFrames(seconds: number, fps: number): number {
  return Math.round(seconds * fps);
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

/** Audio samples in `frames` video frames; audio length is exactly frames / fps. */
export function framesToSamples(frames: number, fps: number, sampleRate: number): number {
  return Math.round((frames * sampleRate) / fps);
}
