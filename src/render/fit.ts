// Fitting a picture or a video into a layer's box, exactly: `cover`, `contain` and `fill`
// are worked out in real numbers and rounded once, to the pixels the fitted picture
// covers; only what the canvas shows of it is kept. Pure.
import type { Fit } from '../movie/index.ts';
import type { Conversion } from './colour.ts';
import { crop, cropFilter, type Region } from './visible-region.ts';

interface Size {
  width: number;
  height: number;
}

/** Where a fitted source lands: which of its pixels are read, the size they are scaled to, the part of that drawn and where. */
export interface Placement {
  /** The source pixels read, when the fitted picture is far larger than what shows: only those are scaled. */
  source?: Region;
  /** The size the (cut) source is scaled to. */
  scaled: Size;
  /** The part of the scaled picture drawn, in its pixels. */
  cut: Region;
  /** The canvas pixel where the cut's top-left lands. */
  at: { x: number; y: number };
}

/**
 * A scaled picture larger than this, and more than twice what shows of it, is made from
 * the part of the source that shows instead (4 Mpx: a box that big costs 16 MB a frame).
 */
const SCALED_PIXELS_KEPT = 1 << 22;

/** Source pixels read past each edge of the part that shows, so the scaler's filter sees the same neighbours. */
const SOURCE_MARGIN = 4;

/**
 * Where a source of `source` pixels (shown `aspect` times wider per pixel: its sample
 * aspect ratio) lands when fitted into `box` on `canvas`, or undefined when none of it shows.
 */
export function placeSource(
  fit: Fit,
  box: { x: number; y: number } & Size,
  source: Size & { aspect?: number },
  canvas: Size,
): Placement | undefined {
  const shownWidth = source.width * (source.aspect ?? 1);
  const [x0, x1] = fittedSpan(fit, box.width, box.height, shownWidth, source.height, 'x');
  const [y0, y1] = fittedSpan(fit, box.width, box.height, shownWidth, source.height, 'y');
  // the picture covers box pixels [x0, x1) x [y0, y1); the canvas shows box and picture within it
  const left = Math.max(box.x + x0, box.x, 0);
  const right = Math.min(box.x + x1, box.x + box.width, canvas.width);
  const top = Math.max(box.y + y0, box.y, 0);
  const bottom = Math.min(box.y + y1, box.y + box.height, canvas.height);
  if (right <= left || bottom <= top) return undefined;
  const scaled = { width: x1 - x0, height: y1 - y0 };
  const cut = { x: left - box.x - x0, y: top - box.y - y0, width: right - left, height: bottom - top };
  const at = { x: left, y: top };
  const large = scaled.width * scaled.height > Math.max(SCALED_PIXELS_KEPT, 2 * cut.width * cut.height);
  return large ? cutSourceFirst(scaled, cut, at, source) : { scaled, cut, at };
}

/**
 * The fitted picture's first and last-but-one pixel along one axis of the box: fill spans the
 * box; contain and cover scale the source by the smaller or larger ratio and centre it.
 */
function fittedSpan(
  fit: Fit,
  boxW: number,
  boxH: number,
  srcW: number,
  srcH: number,
  axis: 'x' | 'y',
): [number, number] {
  const [box, src] = axis === 'x' ? [boxW, srcW] : [boxH, srcH];
  if (fit === 'fill') return [0, box];
  const ratio = (fit === 'contain' ? Math.min : Math.max)(boxW / srcW, boxH / srcH);
  const start = (box - src * ratio) / 2;
  return [Math.round(start), Math.round(start + src * ratio)];
}

/**
 * The same placement made from the source pixels that show (and a margin): they are scaled
 * by the same factor to the nearest whole pixels, so the part drawn lands within half a
 * pixel of where scaling the whole source would put it, and no frame holds the whole box.
 */
function cutSourceFirst(scaled: Size, cut: Region, at: Placement['at'], source: Size): Placement {
  const [sx, sw, width, cx] = sourceSpan(scaled.width, cut.x, cut.width, source.width);
  const [sy, sh, height, cy] = sourceSpan(scaled.height, cut.y, cut.height, source.height);
  return {
    source: { x: sx, y: sy, width: sw, height: sh },
    scaled: { width, height },
    cut: { x: cx, y: cy, width: cut.width, height: cut.height },
    at,
  };
}

/** Along one axis: the source pixels [start, start + length) that cover scaled pixels [cutStart, cutStart + cutLength), the size they scale to, and where the cut starts in that. */
function sourceSpan(scaled: number, cutStart: number, cutLength: number, source: number): number[] {
  const perPixel = scaled / source;
  const start = Math.max(0, Math.floor(cutStart / perPixel) - SOURCE_MARGIN);
  const end = Math.min(source, Math.ceil((cutStart + cutLength) / perPixel) + SOURCE_MARGIN);
  const [from, to] = [Math.round(start * perPixel), Math.round(end * perPixel)];
  return [start, end - start, to - from, cutStart - from];
}

/**
 * ffmpeg filters that make a placement of a source: cut the source, scale it converting its
 * colour in the same `scale` pass (`colour.before` go first, `colour.scale` are that pass's
 * options, `colour.after` follow it), cut what shows.
 */
export function fitFilters(placement: Placement, colour: Conversion): string[] {
  const { source, scaled, cut } = placement;
  return [
    ...(source ? [crop(source)] : []),
    ...(colour.before ?? []),
    `scale=${scaled.width}:${scaled.height}:${colour.scale}`,
    ...colour.after,
    ...cropFilter(cut, scaled),
  ];
}
