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
 * Breaks text into lines no wider than `maxWidth` (explicit newlines kept), the first
 * `maxLines` of them, white space as CSS `white-space: pre-wrap` keeps it: every space and tab
 * is kept, leading ones too; a line breaks only where Unicode allows (`breakUnits`), after
 * the spaces there, and the spaces that end a wrapped line hang (they neither wrap nor count
 * for its width or alignment, and are left out of it). A paragraph's last line keeps its
 * trailing spaces when they fit. A unit wider than the box breaks between graphemes.
 * Greedy, as a browser wraps: each line takes as many units as fit. How many fit is found
 * by doubling then halving (`fitting`), so no string measured is much longer than a line: the
 * work grows with the text's length times a logarithm. `measure` must see tabs as
 * `tabbedWidth` does.
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
    const units = breakUnits(paragraph);
    if (units.length === 0) lines.push('');
    for (let next = 0; next < units.length && !full(); ) {
      // a line starts with a unit, whatever its width; one too wide gives lines of its graphemes until the rest fits
      const first = units[next++];
      const chars = graphemes(first.text);
      let from = 0;
      const taken = (n: number) => chars.slice(from, from + n).join('');
      let cut: number;
      while (!full() && (cut = fitting(chars.length - from, (n) => fits(taken(n)))) < chars.length - from) {
        lines.push(taken(cut));
        from += cut;
      }
      if (full()) break;
      const head = taken(chars.length - from);
      // the line of the head and n - 1 more units, without the last one's spaces (they hang)
      const line = (n: number) =>
        n === 1
          ? head
          : head +
            first.space +
            units
              .slice(next, next + n - 2)
              .map(joined)
              .join('') +
            units[next + n - 2].text;
      const more = fitting(units.length - next + 1, (n) => fits(line(n)));
      const text = line(more);
      next += more - 1;
      const kept = text + units[next - 1].space;
      lines.push(next === units.length && fits(kept) ? kept : text);
    }
  }
  return lines;
}

/** A piece of a paragraph between two line-break opportunities: its text and the spaces and tabs after it. */
export interface BreakUnit {
  text: string;
  space: string;
}

const joined = (unit: BreakUnit) => unit.text + unit.space;

/** Spaces that pre-wrap keeps and hangs at a wrap (other spaces are characters a line may break after). */
const HANGING = /^[ \t]+$/;
/** Never a break before these, even after spaces (UAX #14 CL, CP, EX, IS, SY; WJ). */
const NEVER_BEFORE = /^[\p{Pe}!?,.:;/\u2060\ufeff\u3001\u3002\uff01\uff0c\uff0e\uff1a\uff1b\uff1f]/u;
/** No break before these when glued to what precedes (QU, NS, BA, HY, GL, CM, PO). */
const NOT_BEFORE =
  /^(?:\u200d|[\p{Pf}\p{M}"'\u00a0\u202f\u2007\u2011%\u2030\u00b0\u2010\u2012\u2013\u00ad\u30fc\u30fb\u3005\u309d\u309e\u30fd\u30fe\u3041\u3043\u3045\u3047\u3049\u3063\u3083\u3085\u3087\u308e\u30a1\u30a3\u30a5\u30a7\u30a9\u30c3\u30e3\u30e5\u30e7\u30ee\u30f5\u30f6\u2000-\u2006\u2008-\u200a\u205f\u3000])/u;
/** No break after these (OP, QU, GL, WJ, ZWJ, PR). */
const NOT_AFTER = /(?:\u200d|[\p{Ps}\p{Pi}\p{Sc}"'\u00a0\u202f\u2007\u2011\u2060\ufeff\u00bf\u00a1])$/u;
/** A break may follow these (HY, BA, B2, SY, ZW, and the spaces that are not white space to pre-wrap). */
const BREAK_AFTER = /[-\u2010\u2012\u2013\u2014\u00ad/\u200b\u2000-\u2006\u2008-\u200a\u205f\u3000]$/u;
/** Letters between which a break is found by dictionary (Thai, Lao, Khmer, Myanmar) or allowed everywhere (ideographs, kana, emoji). */
const BREAKS_INSIDE =
  /\p{Script=Thai}|\p{Script=Lao}|\p{Script=Khmer}|\p{Script=Myanmar}|\p{Script=Han}|\p{Script=Hiragana}|\p{Script=Katakana}|\p{Extended_Pictographic}|\p{Emoji_Modifier}|\p{Regional_Indicator}/u;

/**
 * Where a line may break, by a subset of the Unicode line breaking rules (UAX #14) over the
 * word boundaries of `Intl.Segmenter` (UAX #29 with ICU's dictionaries for Thai, Lao, Khmer,
 * Myanmar and CJK): after spaces; after hyphens, dashes and slashes (not a hyphen before a
 * digit); between words of the dictionary scripts and beside ideographs, kana and emoji;
 * never before closing punctuation, marks, small kana or a non-breaking space, nor after
 * opening punctuation, an opening quote, a currency sign or a non-breaking space.
 */
export function breakUnits(paragraph: string): BreakUnit[] {
  const units: BreakUnit[] = [];
  let unit: BreakUnit | undefined;
  let before = '';
  for (const segment of words(paragraph)) {
    if (HANGING.test(segment)) {
      if (unit) unit.space += segment;
      else units.push((unit = { text: '', space: segment }));
      continue;
    }
    if (!unit || !canBreak(unit, before, segment)) {
      if (unit && !unit.space) unit.text += segment;
      else if (unit) {
        unit.text += unit.space + segment;
        unit.space = '';
      } else units.push((unit = { text: segment, space: '' }));
    } else units.push((unit = { text: segment, space: '' }));
    before = segment;
  }
  return units;
}

function canBreak(unit: BreakUnit, before: string, next: string): boolean {
  if (NEVER_BEFORE.test(next)) return false;
  // after spaces, unless they follow an opening bracket (LB14)
  if (unit.space) return !/\p{Ps}$/u.test(unit.text);
  const [a, b] = [before.at(-1)!, next];
  if (NOT_AFTER.test(before) || NOT_BEFORE.test(b)) return false;
  if (BREAK_AFTER.test(before)) return !(a === '-' && /^\p{Nd}/u.test(b));
  if (b.startsWith('\u2014')) return true;
  return BREAKS_INSIDE.test(lastCodePoint(before)) || BREAKS_INSIDE.test(String.fromCodePoint(b.codePointAt(0)!));
}

const lastCodePoint = (s: string) =>
  String.fromCodePoint(s.codePointAt(s.length - (isLowSurrogate(s.charCodeAt(s.length - 1)) ? 2 : 1))!);
const isLowSurrogate = (unit: number) => unit >= 0xdc00 && unit <= 0xdfff;

/** Tab stops every 8 space widths (CSS tab-size: 8), counted from the line's start. */
export const TAB_SPACES = 8;

/**
 * Where each tab-separated piece of a line starts, and the line's width: a tab advances to
 * the next multiple of `tabStop` (a tab at a stop to the one after).
 */
export function tabbed(
  line: string,
  measure: (s: string) => number,
  tabStop: number,
): { pieces: Array<{ text: string; x: number }>; width: number } {
  const pieces: Array<{ text: string; x: number }> = [];
  let x = 0;
  line.split('\t').forEach((text, i) => {
    if (i > 0) x = tabStop > 0 ? (Math.floor(x / tabStop + 1e-9) + 1) * tabStop : x;
    pieces.push({ text, x });
    x += text ? measure(text) : 0;
  });
  return { pieces, width: x };
}

/** A line's width with its tabs expanded (`tabbed`): the measure wrapText needs. */
export const tabbedWidth = (line: string, measure: (s: string) => number, tabStop: number) =>
  line.includes('\t') ? tabbed(line, measure, tabStop).width : measure(line);

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

const wordSegmenter = new Intl.Segmenter(undefined, { granularity: 'word' });
/** Word boundaries near a window's end may move with what follows (a dictionary word, a number): its last this many units are segmented again. */
const WORD_CONTEXT = 64;

/**
 * The text's word segments (UAX #29, with ICU's dictionaries), as one pass of the segmenter
 * gives them, segmented a window at a time for the same reason as `graphemes`: segments that
 * end in a window's last WORD_CONTEXT units are segmented again with what follows.
 */
export function words(text: string): string[] {
  const segments: string[] = [];
  for (let at = 0, window = 4 * WORD_CONTEXT; at < text.length; ) {
    let end = Math.min(text.length, at + window);
    if (end < text.length && isHighSurrogate(text.charCodeAt(end - 1))) end++;
    const found = [...wordSegmenter.segment(text.slice(at, end))].map((s) => s.segment);
    let keep = found.length;
    if (end < text.length) {
      for (let upTo = end - at; keep > 0 && upTo > end - at - WORD_CONTEXT; ) upTo -= found[--keep].length;
      // one segment longer than the window (a word of thousands of letters): a wider window
      if (keep === 0) {
        window *= 2;
        continue;
      }
    }
    for (const segment of found.slice(0, keep)) {
      segments.push(segment);
      at += segment.length;
    }
    window = 4 * WORD_CONTEXT;
  }
  return segments;
}

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
