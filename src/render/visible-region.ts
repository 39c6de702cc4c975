// The part of a layer's box the canvas shows. Text is rasterised, pictures are fitted and
// videos are cropped to it, so the work of a layer is bounded by the canvas, not by the box
// a tenant asks for (a 16384x16384 text box on a 1080p canvas rasterises at most 1080p).
// Pure.

export interface Region {
  /** Where the region starts in the box, in box pixels. */
  x: number;
  y: number;
  width: number;
  height: number;
}

interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * The box's columns and rows that land on the canvas (and MARGIN more where the box goes on),
 * or undefined when none do. The overlay places a layer in 4:2:0 at its position rounded
 * down to even (ffmpeg's overlay does), so the region is cut from that placement: it starts
 * on an even box pixel, the part overlaid at `position + start` lands exactly where the
 * whole box would have put it, and its chroma samples are the same pairs of pixels.
 */
export function visibleRegion(box: Box, canvas: { width: number; height: number }): Region | undefined {
  const [x, width] = visibleSpan(box.x, box.width, canvas.width);
  const [y, height] = visibleSpan(box.y, box.height, canvas.height);
  return width > 0 && height > 0 ? { x, y, width, height } : undefined;
}

/**
 * Box pixels kept past each edge of the canvas (even): a text raster is converted to 4:2:0
 * after it is cut, and the chroma filter reads a few pixels either side, so the pixels at the
 * canvas's edges come out as the whole box's would.
 */
const MARGIN = 8;

/** Start and length of the part of [position, position + length) that the overlay puts inside [0, size). */
function visibleSpan(position: number, length: number, size: number): [number, number] {
  const placed = Math.floor(position / 2) * 2;
  const [first, last] = [Math.max(0, -placed), Math.min(length, size - placed)];
  if (last <= first) return [0, 0];
  const start = Math.max(0, first - MARGIN);
  return [start, Math.min(length, last + MARGIN) - start];
}

export function wholeBox(box: { width: number; height: number }): Region {
  return { x: 0, y: 0, width: box.width, height: box.height };
}

export function isWholeBox(region: Region, box: { width: number; height: number }): boolean {
  return region.x === 0 && region.y === 0 && region.width === box.width && region.height === box.height;
}

/**
 * ffmpeg's crop to the region, or nothing when it is the whole box. `exact`: in 4:2:0 crop
 * would round an odd width or height down (and 1 to nothing); the region starts on even
 * pixels, so nothing else changes.
 */
export function cropFilter(region: Region, box: { width: number; height: number }): string[] {
  return isWholeBox(region, box) ? [] : [`crop=${region.width}:${region.height}:${region.x}:${region.y}:exact=1`];
}
