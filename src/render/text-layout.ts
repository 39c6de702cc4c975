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

/** Breaks text into lines no wider than `maxWidth` (explicit newlines kept; long words split). */
export function wrapText(text: string, maxWidth: number, measure: (s: string) => number): string[] {
  const lines: string[] = [];
  for (const paragraph of text.split(/\r?\n/)) {
    let line = '';
    for (const word of paragraph.split(/\s+/).filter(Boolean)) {
      const candidate = line ? `${line} ${word}` : word;
      if (measure(candidate) <= maxWidth || !line) {
        line = candidate;
      } else {
        lines.push(line);
        line = word;
      }
      // a single word wider than the box is broken between characters (whole emoji and clusters): the longest prefix that fits
      let chars = graphemes(line);
      while (chars.length > 1 && measure(line) > maxWidth) {
        let cut = 1;
        while (cut < chars.length && measure(chars.slice(0, cut + 1).join('')) <= maxWidth) cut++;
        lines.push(chars.slice(0, cut).join(''));
        chars = chars.slice(cut);
        line = chars.join('');
      }
    }
    lines.push(line);
  }
  return lines;
}

const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
const graphemes = (text: string) => [...segmenter.segment(text)].map((s) => s.segment);

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
  return lines.map((text, i) => ({ text, x, y: top + i * step + (step - (ascent + descent)) / 2 + ascent }));
}
