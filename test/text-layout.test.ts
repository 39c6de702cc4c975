// Text layout bounded by the box, not the text (issue 16, item 1): a 4,990-letter word in an
// 8-pixel box took 2.2 s of the event loop to wrap, because every line measured the rest of
// the word. Wrapping now measures strings about a line long, gives the lines it gave before,
// and lines that cannot show are not drawn (nor, top-aligned, laid out).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { fitting, graphemes, linesAbove, placeLines, wrapText } from '../src/render/text-layout.ts';

const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
const onePass = (text: string) => [...segmenter.segment(text)].map((s) => s.segment);

/** The search wrapText replaced: a character at a time, measuring the rest of the word for every line (quadratic). */
function characterAtATime(text: string, maxWidth: number, measure: (s: string) => number): string[] {
  const lines: string[] = [];
  for (const paragraph of text.split(/\r?\n/)) {
    let line = '';
    for (const word of paragraph.split(/\s+/).filter(Boolean)) {
      const candidate = line ? `${line} ${word}` : word;
      if (measure(candidate) <= maxWidth || !line) line = candidate;
      else {
        lines.push(line);
        line = word;
      }
      let chars = onePass(line);
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

/** Advances per character, and a kerning pair that draws "AV" narrower than its letters: a longer string is never narrower. */
function kerned(s: string): number {
  const advance: Record<string, number> = { ' ': 3, i: 2, m: 9, W: 12, '🔥': 14 };
  let width = 0;
  let before = '';
  for (const c of s) {
    width += advance[c] ?? 6;
    if (before === 'A' && c === 'V') width -= 1.5;
    before = c;
  }
  return width;
}

const pieces = ['a', 'i', 'm', 'W', 'A', 'V', ' ', ' ', '\n', '🔥', 'e\u0301', '👩‍👩‍👧', '🇫🇷'];
const texts = fc.array(fc.constantFrom(...pieces), { maxLength: 80 }).map((a) => a.join(''));

describe('wrapping', () => {
  test('the same lines as the character-at-a-time search, for any text and width', () => {
    fc.assert(
      fc.property(texts, fc.integer({ min: 0, max: 80 }), (text, width) => {
        assert.deepEqual(wrapText(text, width, kerned), characterAtATime(text, width, kerned));
      }),
      { numRuns: 3000 },
    );
  });

  test('asked for the first lines only, it gives just those', () => {
    fc.assert(
      fc.property(texts, fc.integer({ min: 1, max: 60 }), fc.nat(12), (text, width, lines) => {
        assert.deepEqual(wrapText(text, width, kerned, lines), wrapText(text, width, kerned).slice(0, lines));
      }),
      { numRuns: 1000 },
    );
  });

  test('a 4,990-letter word in an 8-pixel box: each letter measured a few times, where it was half the word each line', () => {
    const word = 'x'.repeat(4990);
    const measuring = (counted: { letters: number }) => (s: string) => {
      counted.letters += s.length;
      return 48 * s.length;
    };
    const now = { letters: 0 };
    const lines = wrapText(word, 8, measuring(now));
    assert.equal(lines.length, 4990);
    const before = { letters: 0 };
    assert.deepEqual(characterAtATime(word, 8, measuring(before)), lines);
    assert.ok(now.letters < 4 * word.length, `${now.letters} letters measured`);
    assert.ok(before.letters > 1000 * word.length, `the old search measured ${before.letters}`);
    // a wide box: strings measured stay about a line long, doubling then halving
    const wide = { letters: 0 };
    wrapText(word, 48 * 100, measuring(wide));
    assert.ok(wide.letters < 12 * word.length, `${wide.letters} letters measured for 100-letter lines`);
  });

  test('how many fit: the largest count that fits (at least one), asking about little more than fits', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5000 }), fc.nat(6000), (count, fit) => {
        const asked: number[] = [];
        const found = fitting(count, (n) => {
          asked.push(n);
          return n <= fit;
        });
        assert.equal(found, Math.max(1, Math.min(count, fit)));
        assert.ok(Math.max(...asked, 0) <= Math.max(2, 2 * found), `asked ${asked} for ${found}`);
      }),
    );
  });

  test('graphemes are those of one pass of the segmenter, and long texts take no longer per letter', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...pieces, '\u0301', '\u200d', '\ud83c', 'क्', '\r\n'), { maxLength: 400 }),
        (parts) => assert.deepEqual(graphemes(parts.join('')), onePass(parts.join(''))),
      ),
      { numRuns: 300 },
    );
    const long = 'x'.repeat(16_000);
    const started = performance.now();
    assert.equal(graphemes(long).length, 16_000);
    // one pass took 2.8 s for these 16,000 letters (V8 slows with the string's length); windows take milliseconds
    const ms = performance.now() - started;
    assert.ok(ms < 1000, `${ms} ms`);
    assert.deepEqual(
      graphemes(`a${'\u0301'.repeat(300)}b`),
      [`a${'\u0301'.repeat(300)}`, 'b'],
      'a cluster longer than a window',
    );
  });
});

describe('which lines show', () => {
  const box = {
    width: 100,
    height: 100,
    padding: 5,
    fontSize: 20,
    lineHeight: 1.5,
    textAlign: 'left' as const,
    verticalAlign: 'top' as const,
  };

  test('top-aligned: the lines placed above the bottom are the ones counted; otherwise all', () => {
    const lines = Array.from({ length: 50 }, (_, i) => `${i}`);
    for (const bottom of [-100, 0, 14.99, 15, 40, 99, 100, 500]) {
      const above = placeLines(lines, box, 16, 4).filter((line) => line.y < bottom).length;
      assert.equal(Math.min(50, linesAbove(bottom, box, 16, 4)), above, `bottom ${bottom}`);
    }
    assert.equal(linesAbove(100, { ...box, verticalAlign: 'middle' }, 16, 4), Number.POSITIVE_INFINITY);
    assert.equal(linesAbove(100, { ...box, verticalAlign: 'bottom' }, 16, 4), Number.POSITIVE_INFINITY);
  });
});
