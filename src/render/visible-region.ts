// The part of a layer's box the canvas shows. Text is rasterised, pictures are fitted and
// videos are cut to it, so the work of a layer is bounded by the canvas, not by the box
// a tenant asks for (a 16384x16384 text box on a 1080p canvas rasterises at most 1080p).
// Layers are composed in 4:4:4 (scene-graph.ts), so a region starts and ends on any pixel.
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

/** The box's columns and rows that land on the canvas, or undefined when none do. */
export function visibleRegion(box: Box, canvas: { width: number; height: number }): Region | undefined {
  const [x, width] = visibleSpan(box.x, box.width, canvas.width);
  const [y, height] = visibleSpan(box.y, box.height, canvas.height);
  return width > 0 && height > 0 ? { x, y, width, height } : undefined;
}

/** Start and length of the part of [position, position + length) inside [0, size). */
function visibleSpan(position: number, length: number, size: number): [number, number] {
  const [first, last] = [Math.max(0, -position), Math.min(length, size - position)];
  return last <= first ? [0, 0] : [first, last - first];
}

export function wholeBox(box: { width: number; height: number }): Region {
  return { x: 0, y: 0, width: box.width, height: box.height };
}

export function isWholeBox(region: Region, box: { width: number; height: number }): boolean {
  return region.x === 0 && region.y === 0 && region.width === box.width && region.height === box.height;
}

/** ffmpeg's crop to the region, or nothing when it is the whole picture. */
export function cropFilter(region: Region, box: { width: number; height: number }): string[] {
  return isWholeBox(region, box) ? [] : [crop(region)];
}

/** ffmpeg's crop to a region. `exact`: crop would otherwise round odd offsets in subsampled formats. */
export function crop(region: Region): string {
  return `crop=${region.width}:${region.height}:${region.x}:${region.y}:exact=1`;
}
