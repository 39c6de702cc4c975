// Text layout bounded by the box, not the text (issue 16, item 1): a 4,990-letter word in an
// 8-pixel box took 2.2 s of the event loop to wrap, because every line measured the rest of
// the word. Wrapping now measures strings about a line long, gives the lines it gave before,
// and lines that cannot show are not drawn (nor, top-aligned, laid out); a raster can be of
// part of the box, pixel for pixel the same as that part of the whole.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { createCanvas, loadImage } from '@napi-rs/canvas';
import fc from 'fast-check';
import { normalizeMovie, type TextLayer } from '../src/movie/index.ts';
import { fitting, graphemes, linesAbove, placeLines, wrapText } from '../src/render/text-layout.ts';
import { type BoxRegion, rasterizeText } from '../src/render/text-raster.ts';
import { tempDir } from './helpers.ts';

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
        const found = fitting(count, (n) => (asked.push(n), n <= fit));
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
    assert.deepEqual(graphemes(`a${'\u0301'.repeat(300)}b`), [`a${'\u0301'.repeat(300)}`, 'b'], 'a cluster longer than a window');
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

describe('a raster of part of the box', async () => {
  const dir = await tempDir();
  const layer = (extra: Record<string, unknown>) =>
    normalizeMovie(
      {
        width: 640,
        height: 360,
        scenes: [
          {
            id: 's',
            duration: 1,
            layers: [
              {
                id: 'title',
                type: 'text',
                text: 'Summer sale 🔥 Летняя распродажа, twenty percent off everything',
                fontSize: 36,
                color: '#ffcc00',
                backgroundColor: '#203040',
                transform: { opacity: 0.8 },
                padding: 6,
                position: { x: 0, y: 0 },
                size: { width: 400, height: 260 },
                ...extra,
              },
            ],
          },
        ],
      },
      { allowLocalFiles: true },
    ).scenes[0].layers[0] as TextLayer;

  let drawn = 0;
  async function pixels(text: TextLayer, region?: BoxRegion) {
    const path = join(dir, `part-${drawn++}.png`);
    await rasterizeText(text, undefined, path, region);
    const image = await loadImage(await readFile(path));
    const ctx = createCanvas(image.width, image.height).getContext('2d');
    ctx.drawImage(image, 0, 0);
    return { width: image.width, height: image.height, data: ctx.getImageData(0, 0, image.width, image.height).data };
  }

  for (const verticalAlign of ['top', 'middle', 'bottom']) {
    test(`${verticalAlign}-aligned: each part is that part of the whole box, pixel for pixel`, async () => {
      const text = layer({ verticalAlign });
      const whole = await pixels(text);
      assert.deepEqual([whole.width, whole.height], [400, 260]);
      for (const part of [
        { x: 37, y: 11, width: 101, height: 53 },
        { x: 0, y: 150, width: 400, height: 110 },
        { x: 399, y: 259, width: 1, height: 1 },
      ]) {
        const got = await pixels(text, part);
        assert.deepEqual([got.width, got.height], [part.width, part.height]);
        let differing = 0;
        for (let y = 0; y < part.height; y++) {
          const row = (y + part.y) * whole.width + part.x;
          const want = Buffer.from(whole.data.subarray(row * 4, (row + part.width) * 4));
          const have = Buffer.from(got.data.subarray(y * part.width * 4, (y + 1) * part.width * 4));
          if (!want.equals(have)) differing++;
        }
        assert.equal(differing, 0, `${JSON.stringify(part)}: ${differing} rows differ`);
      }
    });
  }
});
