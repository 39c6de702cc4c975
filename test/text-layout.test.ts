// Text layout bounded by the box, not the text (issue 16, item 1): a 4,990-letter word in an
// 8-pixel box took 2.2 s of the event loop to wrap, because every line measured the rest of
// the word. Wrapping now measures strings about a line long, gives the lines it gave before,
// and lines that cannot show are not drawn (nor, top-aligned, laid out).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  type BreakUnit,
  breakUnits,
  fitting,
  graphemes,
  linesAbove,
  placeLines,
  tabbed,
  tabbedWidth,
  words,
  wrapText,
} from '../src/render/text-layout.ts';

const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
const onePass = (text: string) => [...segmenter.segment(text)].map((s) => s.segment);

/**
 * The plain greedy search over the same break opportunities: a unit at a time, and a unit
 * too wide for the box a grapheme at a time, measuring the whole line for each (quadratic).
 */
function unitAtATime(text: string, maxWidth: number, measure: (s: string) => number): string[] {
  const lines: string[] = [];
  for (const paragraph of text.split(/\r?\n/)) {
    const units = breakUnits(paragraph);
    if (units.length === 0) lines.push('');
    let line: BreakUnit | undefined;
    for (const unit of units) {
      if (line) {
        const candidate = line.text + line.space + unit.text;
        if (measure(candidate) <= maxWidth) {
          line = { text: candidate, space: unit.space };
          continue;
        }
        lines.push(line.text);
      }
      let chars = onePass(unit.text);
      while (chars.length > 1 && measure(chars.join('')) > maxWidth) {
        let cut = 1;
        while (cut < chars.length && measure(chars.slice(0, cut + 1).join('')) <= maxWidth) cut++;
        lines.push(chars.slice(0, cut).join(''));
        chars = chars.slice(cut);
      }
      line = { text: chars.join(''), space: unit.space };
    }
    // a paragraph's last line keeps its trailing spaces when they fit; a wrapped line's hang
    if (line) lines.push(measure(line.text + line.space) <= maxWidth ? line.text + line.space : line.text);
  }
  return lines;
}

/** Advances per character, and a kerning pair that draws "AV" narrower than its letters: a longer string is never narrower. */
function kerned(s: string): number {
  const advance: Record<string, number> = { ' ': 3, i: 2, m: 9, W: 12, '🔥': 14 };
  let width = 0;
  let before = '';
  for (const c of s) {
    if (c === '\t') throw new Error('tabs are measured by tabbedWidth');
    width += advance[c] ?? 6;
    if (before === 'A' && c === 'V') width -= 1.5;
    before = c;
  }
  return width;
}

/** kerned, with tabs to every 24 px */
const tabbedKerned = (s: string) => tabbedWidth(s, kerned, 24);

const pieces = ['a', 'i', 'm', 'W', 'A', 'V', ' ', ' ', '\t', '\n', '🔥', 'e\u0301', '👩‍👩‍👧', '🇫🇷'];
// and the break rules' cases: dictionary words, ideographs, punctuation, hyphens, non-breaking spaces
const breaking = [
  'ภาษา',
  'ไทย',
  'ງ່າຍ',
  'សួស្តី',
  'မြန်မာ',
  '夏',
  'の',
  '-',
  ',',
  '(',
  ')',
  '"',
  '$',
  '5',
  '/',
  '\u00a0',
  '\u200b',
];
const texts = fc.array(fc.constantFrom(...pieces, ...breaking), { maxLength: 80 }).map((a) => a.join(''));

describe('wrapping', () => {
  test('the same lines as the unit-at-a-time search, for any text and width', () => {
    fc.assert(
      fc.property(texts, fc.integer({ min: 0, max: 80 }), (text, width) => {
        assert.deepEqual(wrapText(text, width, tabbedKerned), unitAtATime(text, width, tabbedKerned));
      }),
      { numRuns: 3000 },
    );
  });

  test('every character is kept: the lines are the text less the spaces that hang at a wrap', () => {
    fc.assert(
      fc.property(texts, fc.integer({ min: 0, max: 80 }), (text, width) => {
        const strip = (s: string) => s.replace(/[ \t\n\r]/g, '');
        assert.equal(strip(wrapText(text, width, tabbedKerned).join('')), strip(text));
      }),
      { numRuns: 1000 },
    );
  });

  test('asked for the first lines only, it gives just those', () => {
    fc.assert(
      fc.property(texts, fc.integer({ min: 1, max: 60 }), fc.nat(12), (text, width, lines) => {
        assert.deepEqual(
          wrapText(text, width, tabbedKerned, lines),
          wrapText(text, width, tabbedKerned).slice(0, lines),
        );
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
    assert.deepEqual(unitAtATime(word, 8, measuring(before)), lines);
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

describe('where lines break (Unicode rules over Intl.Segmenter words) and white space (pre-wrap)', () => {
  const wordsOnePass = (text: string) =>
    [...new Intl.Segmenter(undefined, { granularity: 'word' }).segment(text)].map((s) => s.segment);
  const units = (text: string) => breakUnits(text).map((u) => u.text + u.space);
  const tenEach = (s: string) => 10 * onePass(s).length;

  test('Thai, Lao, Khmer and Myanmar break between dictionary words, never inside one', () => {
    assert.deepEqual(units('ภาษาไทย'), ['ภาษา', 'ไทย']);
    assert.deepEqual(units('ພາສາລາວ'), ['ພາສາ', 'ລາວ']);
    assert.deepEqual(units('សួស្តីពិភពលោក'), ['សួស្តី', 'ពិភពលោក']);
    assert.deepEqual(units('မင်္ဂလာပါ'), ['မင်္ဂလာ', 'ပါ']);
    // ภาษา is 4 graphemes (40 px): at any width from 40 up it is never cut, and ไทย follows it when it fits
    for (let width = 40; width <= 80; width += 5) {
      const lines = wrapText('ภาษาไทย', width, tenEach);
      assert.deepEqual(lines, width >= 70 ? ['ภาษาไทย'] : ['ภาษา', 'ไทย'], `width ${width}`);
    }
  });

  test('breaks after spaces, hyphens and slashes, beside ideographs and emoji; not before punctuation nor across a no-break space', () => {
    assert.deepEqual(units('Hello,  world (x) well-known "quoted" $20 -5 a/b'), [
      'Hello,  ',
      'world ',
      '(x) ',
      'well-',
      'known ',
      '"quoted" ',
      '$20 ',
      '-5 ',
      'a/',
      'b',
    ]);
    assert.deepEqual(units('夏季大促销。夏のセール'), ['夏季', '大', '促销。', '夏', 'の', 'セール']);
    assert.deepEqual(units('Sale🔥🎉 50\u00a0%'), ['Sale', '🔥', '🎉 ', '50\u00a0%']);
    assert.deepEqual(units('( a ) b'), ['( a ) ', 'b']);
    assert.deepEqual(units('one\u200btwo'), ['one\u200b', 'two']);
  });

  test('pre-wrap: runs of spaces and leading spaces kept; spaces at a wrap hang; a paragraph keeps its trailing spaces when they fit', () => {
    assert.deepEqual(wrapText('   a   b', 1000, tenEach), ['   a   b']);
    assert.deepEqual(wrapText('aaa   bbb   ', 55, tenEach), ['aaa', 'bbb']);
    assert.deepEqual(wrapText('aaa   bbb   ', 1000, tenEach), ['aaa   bbb   ']);
    assert.deepEqual(wrapText('aaa   bbb  ', 50, tenEach), ['aaa', 'bbb  ']);
    assert.deepEqual(wrapText('  \n\n x', 1000, tenEach), ['  ', '', ' x']);
  });

  test('a tab advances to the next stop, counted from the line start', () => {
    assert.deepEqual(tabbed('a\tbc\t\td', tenEach, 80), {
      pieces: [
        { text: 'a', x: 0 },
        { text: 'bc', x: 80 },
        { text: '', x: 160 },
        { text: 'd', x: 240 },
      ],
      width: 250,
    });
    assert.equal(tabbedWidth('abcdefgh\tx', tenEach, 80), 170, 'a tab at a stop goes to the next');
    assert.equal(tabbedWidth('\t', tenEach, 80), 80);
  });

  test('word segments are those of one pass of the segmenter, and long texts take no longer per letter', () => {
    const parts = [
      'ภาษา',
      'ไทย',
      'ง่าย',
      'hello',
      ' ',
      '  ',
      '3.14',
      ',',
      '夏季',
      '促销',
      'ພາສາ',
      'ខ្មែរ',
      'x'.repeat(90),
      '🔥',
      '\t',
    ];
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...parts), { maxLength: 300 }), (a) =>
        assert.deepEqual(words(a.join('')), wordsOnePass(a.join(''))),
      ),
      { numRuns: 200 },
    );
    const long = 'ภาษาไทยง่ายนิดเดียว '.repeat(800);
    const started = performance.now();
    assert.deepEqual(words(long).slice(0, 6), ['ภาษา', 'ไทย', 'ง่าย', 'นิด', 'เดียว', ' ']);
    // one pass took 0.5 s for these 16,000 letters, and grows with the square of the length
    const ms = performance.now() - started;
    assert.ok(ms < 300, `${ms} ms`);
    assert.equal(words('x'.repeat(5000)).length, 1, 'a word longer than a window');
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
