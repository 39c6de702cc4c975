// Laying text out in its box: wrapping at the inner width, line positions for
// textAlign / verticalAlign / lineHeight. Pure: the caller supplies the measuring.

export interface TextBox {
  width: number;
  height: number;
  padding: number;
  fontSize: number;
  lineHeight: number;
  textAlign: 'left' | 'center' | 'right';
  verticalAlign: 'top' | 'middle' | 'bottom';
}

export interface PlacedLine {
  text: string;
  /** Anchor x for the canvas's textAlign, baseline y. */
  x: number;
  y: number;
}

/**
 * Breaks text into lines no wider than `maxWidth` (explicit newlines kept; long words split
 * between graphemes), the first `maxLines` of them. Greedy, as a browser wraps: each line
 * takes as many words as fit, and a word wider than the box as many graphemes as fit. How
 * many fit is found by doubling then halving (`fitting`), so no string measured is much
 * longer than a line: the work grows with the text's length times a logarithm, where
 * measuring the rest of a 5,000-letter word for every line of an 8-pixel box was quadratic.
 */
export function wrapText(
  text: string,
  maxWidth: number,
  measure: (s: string) => number,
  maxLines = Number.POSITIVE_INFINITY,
): string[] {
  const lines: string[] = [];
  const fits = (s: string) => measure(s) <= maxWidth;
  const full = () => lines.length >= maxLines;
  for (const paragraph of text.split(/\r?\n/)) {
    if (full()) break;
    const words = paragraph.split(/\s+/).filter(Boolean);
    if (words.length === 0) lines.push('');
    for (let next = 0; next < words.length && !full(); ) {
      // a line starts with a word, whatever its width; one too wide gives lines of its graphemes until the rest fits
      const chars = graphemes(words[next++]);
      let from = 0;
      const taken = (n: number) => chars.slice(from, from + n).join('');
      let cut: number;
      while (!full() && (cut = fitting(chars.length - from, (n) => fits(taken(n)))) < chars.length - from) {
        lines.push(taken(cut));
        from += cut;
      }
      if (full()) break;
      const head = taken(chars.length - from);
      const more = fitting(words.length - next + 1, (n) => fits([head, ...words.slice(next, next + n - 1)].join(' ')));
      lines.push([head, ...words.slice(next, next + more - 1)].join(' '));
      next += more - 1;
    }
  }
  return lines;
}

/**
 * How many lines, from the first, can show above `bottom` (box pixels): when the block is
 * top-aligned, the rest need not be laid out. Otherwise all of them: where a middle- or
 * bottom-aligned block sits depends on how many lines it has.
 */
export function linesAbove(bottom: number, box: TextBox, ascent: number, descent: number): number {
  if (box.verticalAlign !== 'top') return Number.POSITIVE_INFINITY;
  const step = box.fontSize * box.lineHeight;
  return Math.max(0, Math.ceil((bottom - box.padding - baselineOffset(step, ascent, descent)) / step));
}

/** From a line's top to its baseline: the font's ascent and descent centred in the line. */
const baselineOffset = (step: number, ascent: number, descent: number) => (step - (ascent + descent)) / 2 + ascent;

/**
 * The largest n in 1..count for which `fits(n)` holds, or 1 when none does (the first piece
 * always goes on the line). Assumes that a piece more never makes a string narrower; tries
 * 2, 4, 8, ... then halves the gap, so `fits` is asked about at most twice as much as fits.
 */
export function fitting(count: number, fits: (n: number) => boolean): number {
  let [fit, tooMany] = [1, count + 1];
  for (let n = 2; n <= count; n *= 2) {
    if (!fits(n)) {
      tooMany = n;
      break;
    }
    fit = n;
  }
  if (tooMany > count && fit < count) {
    if (fits(count)) return count;
    tooMany = count;
  }
  while (tooMany - fit > 1) {
    const mid = (fit + tooMany) >> 1;
    if (fits(mid)) fit = mid;
    else tooMany = mid;
  }
  return fit;
}

const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
/** Graphemes segmented a window at a time: V8's segmenter slows with the string's length (5,000 letters took 0.1-0.3 s, 16,000 took 2.8 s). */
const SEGMENTED_AT_ONCE = 64;

/**
 * The text's grapheme clusters, as one pass of the segmenter over it gives them. Each window
 * ends on a whole code point and its last cluster is segmented again with what follows: a
 * boundary depends on one code point after it, so every other boundary stands.
 */
export function graphemes(text: string): string[] {
  const clusters: string[] = [];
  for (let at = 0, window = SEGMENTED_AT_ONCE; at < text.length; ) {
    let end = Math.min(text.length, at + window);
    if (end < text.length && isHighSurrogate(text.charCodeAt(end - 1))) end++;
    const found = [...segmenter.segment(text.slice(at, end))].map((s) => s.segment);
    if (end < text.length) {
      // one cluster longer than the window (a letter with hundreds of marks): a wider window
      if (found.length < 2) {
        window *= 2;
        continue;
      }
      found.pop();
    }
    for (const cluster of found) {
      clusters.push(cluster);
      at += cluster.length;
    }
    window = SEGMENTED_AT_ONCE;
  }
  return clusters;
}

const isHighSurrogate = (unit: number) => unit >= 0xd800 && unit <= 0xdbff;

/** Where each line goes: ascent and descent are the font's, in pixels. */
export function placeLines(lines: string[], box: TextBox, ascent: number, descent: number): PlacedLine[] {
  const step = box.fontSize * box.lineHeight;
  const innerHeight = box.height - 2 * box.padding;
  const blockHeight = lines.length * step;
  const top =
    box.padding +
    (box.verticalAlign === 'top'
      ? 0
      : box.verticalAlign === 'bottom'
        ? innerHeight - blockHeight
        : (innerHeight - blockHeight) / 2);
  const x =
    box.textAlign === 'left' ? box.padding : box.textAlign === 'right' ? box.width - box.padding : box.width / 2;
  return lines.map((text, i) => ({ text, x, y: top + i * step + baselineOffset(step, ascent, descent) }));
}
