// No text or font a tenant sends stalls the service or grows its memory without bound (issue
// 16, items 1-4): text is laid out and drawn, and fontUrl fonts read, on worker threads under
// a time limit; a cmap is read in time and memory that follow its file's size, not the code
// points it claims; a refused font keeps nothing; fontUrl fonts are kept within a budget and
// removed from Skia when evicted.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { GlobalFonts } from '@napi-rs/canvas';
import { failureOf } from '../src/jobs/job-failure.ts';
import { SourceStore } from '../src/media/index.ts';
import { normalizeMovie, type TextLayer } from '../src/movie/index.ts';
import { DEFAULT_ENCODER } from '../src/render/encoder.ts';
import { mappedCodePoints } from '../src/render/font-cmap.ts';
import { heldFontFiles, holdFontBytes, loadFontFile } from '../src/render/fonts.ts';
import { LayerSourceError, planMovie } from '../src/render/plan.ts';
import { DEFAULT_TEXT_LIMITS } from '../src/render/text-limits.ts';
import { setTextLimits, TextDrawError, TextPool, textPool } from '../src/render/text-pool.ts';
import { cmap, format4, format12, maxp, ROOT, sfnt, tempDir, wholeRange } from './helpers.ts';

const dir = await tempDir();
after(() => textPool().close());

const textMovie = (layers: Array<Record<string, unknown>>) =>
  normalizeMovie({ width: 320, height: 180, scenes: [{ id: 's', duration: 1, layers }] }, { allowLocalFiles: true });

const text = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  type: 'text',
  text: 'Hello',
  position: { x: 0, y: 0 },
  size: { width: 200, height: 60 },
  ...extra,
});

async function plan(movie: ReturnType<typeof textMovie>) {
  const workDir = await tempDir();
  return planMovie(movie, { store: new SourceStore(join(workDir, 'sources')), workDir, encoder: DEFAULT_ENCODER });
}

const interDigest = (i: number) => `inter-${String(i).padStart(10, '0')}`;
const family = (digest: string) => `font-${digest.slice(0, 16)}`;
const userFamilies = () => GlobalFonts.families.filter((f) => f.family.startsWith('font-')).length;
const mb = (bytes: number) => Math.round(bytes / 2 ** 20);

describe('a font file a tenant sends', () => {
  test('records that each claim U+0000..U+10FFFF are read in milliseconds, into a few bytes', () => {
    const issue = wholeRange(65535);
    assert.ok(issue.length < 1900, `${issue.length} bytes`);
    // and 40 records of 40 different subtables each claiming it all, two groups apiece
    const distinct = Array.from({ length: 40 }, (_, i) =>
      format12([
        [0, 0x7ffff, 1 + i],
        [0x80000, 0x10ffff, 1],
      ]),
    );
    const cases: Array<[Buffer, boolean]> = [
      [issue, false],
      [sfnt({ cmap: cmap(40, distinct), maxp: maxp(65535) }), true],
    ];
    for (const [file, upper] of cases) {
      const started = performance.now();
      const glyphs = mappedCodePoints(file);
      const ms = performance.now() - started;
      // a Set of every code point took 16.9 s here (143 s on the issue's machine) and 48 MB per font
      assert.ok(ms < 250, `${ms} ms`);
      assert.ok(glyphs.bytes <= 64, `${glyphs.bytes} bytes`);
      // 65,535 glyphs: ids 1..65,534 from U+0000 (and from U+80000); the rest of each claim has no glyph
      assert.deepEqual(
        [0, 65533, 65534, 0x80000, 0x10ffff].map((c) => glyphs.has(c)),
        [true, true, false, upper, false],
      );
    }
    const two = mappedCodePoints(wholeRange(2));
    assert.deepEqual([two.has(0), two.has(1), two.has(0x41)], [true, false, false], 'a font of two glyphs maps one');
  });

  test('format 4: overlapping segments count once each (the first to end wins), in bounded time', () => {
    const claimAll: Array<[number, number, number]> = Array.from({ length: 8000 }, () => [0, 0xfffe, 1]);
    const file = sfnt({
      cmap: cmap(4, [format4([[0x41, 0x5a, 0xffc0 + 3], ...claimAll, [0xffff, 0xffff, 1]])]),
      maxp: maxp(100),
    });
    const started = performance.now();
    const glyphs = mappedCodePoints(file);
    assert.ok(performance.now() - started < 250, `${performance.now() - started} ms`);
    // A-Z on glyphs 4..29; below A nothing (A-Z ends first); after Z the all-claiming segment, glyph c + 1, up to glyph 99
    assert.deepEqual(
      [0x40, 0x41, 0x5a, 0x5b, 98, 99].map((c) => glyphs.has(c)),
      [false, true, true, true, true, false],
    );
  });

  test('a refused font keeps nothing: not its glyphs, not a Skia family', async () => {
    global.gc?.();
    const heap = process.memoryUsage().heapUsed;
    for (let i = 0; i < 20; i++) {
      const path = join(dir, `refused-${i}.ttf`);
      await writeFile(path, wholeRange(65535 - i, 4));
      assert.deepEqual(
        loadFontFile(path, `refused-${String(i).padStart(8, '0')}`),
        { refused: 'is not a font Skia can read (TTF, OTF or WOFF2)' },
        'Skia reads no font of a cmap alone',
      );
      assert.equal(GlobalFonts.has(family(`refused-${String(i).padStart(8, '0')}`)), false);
    }
    global.gc?.();
    assert.deepEqual(heldFontFiles(), []);
    // each kept a 48 MB Set for ever: 20 of them took the heap past 900 MB
    const grown = process.memoryUsage().heapUsed - heap;
    assert.ok(grown < 50 * 2 ** 20, `heap grew ${mb(grown)} MB`);
  });

  test('a fontUrl file over the size a font may be fails its layer unread, naming the limit', async () => {
    const path = join(dir, 'huge.ttf');
    await writeFile(path, Buffer.concat([wholeRange(65535), Buffer.alloc(DEFAULT_TEXT_LIMITS.fontFileBytes)]));
    await assert.rejects(plan(textMovie([text('brand', { fontFamily: 'Brand', fontUrl: path })])), (err: Error) => {
      assert.ok(err instanceof LayerSourceError);
      assert.equal(
        err.message,
        `layer "brand" (movie.scenes[0].layers[0]): ${path}: is larger than the 64 MiB a font may be (${64 * 2 ** 20 + wholeRange(65535).length} bytes)`,
      );
      return true;
    });
  });

  test('fontUrl fonts are kept within their budget, least recently used out, and removed from Skia', async () => {
    const fonts = (await readdir(join(ROOT, 'node_modules/@fontsource/inter/files')))
      .filter((f) => f.endsWith('.woff2'))
      .slice(0, 12)
      .map((f) => join(ROOT, 'node_modules/@fontsource/inter/files', f));
    // room for the last three, counted as the font cache counts: the file and its glyph ranges
    const bytes = await Promise.all(
      fonts.map(async (path) => (await readFile(path)).length + mappedCodePoints(await readFile(path)).bytes),
    );
    holdFontBytes(bytes.slice(-3).reduce((sum, b) => sum + b, 0));
    try {
      const families = userFamilies();
      for (const [i, path] of fonts.entries()) assert.ok(loadFontFile(path, interDigest(i)), path);
      const held = heldFontFiles();
      assert.deepEqual(
        held.map(([, path]) => path),
        fonts.slice(-3),
        'the three most recently used',
      );
      assert.equal(userFamilies() - families, held.length, 'the evicted ones are no longer registered');
      assert.equal(GlobalFonts.has(family(interDigest(0))), false);
      assert.equal(GlobalFonts.has(family(interDigest(fonts.length - 1))), true);
    } finally {
      holdFontBytes(0);
    }
  });
});

describe('text threads', () => {
  test('100 layers of a 4,990-letter word in 8x8 boxes plan in seconds, and the event loop keeps turning', async () => {
    const word = 'x'.repeat(4990);
    const layers = Array.from({ length: 100 }, (_, i) =>
      text(`t${i}`, {
        text: word,
        position: { x: (i % 40) * 8, y: 8 * Math.floor(i / 40) },
        size: { width: 8, height: 8 },
      }),
    );
    const movie = textMovie(layers);
    // a timer every 10 ms: the gaps between its ticks are how long the event loop was held
    // (monitorEventLoopDelay reported 9 ms while the old layout held the loop 4.4 s)
    const gaps: number[] = [];
    let last = performance.now();
    const ticking = setInterval(() => {
      gaps.push(performance.now() - last);
      last = performance.now();
    }, 10);
    const started = performance.now();
    const planned = await plan(movie);
    const seconds = (performance.now() - started) / 1000;
    await new Promise((resolve) => setTimeout(resolve, 50));
    clearInterval(ticking);
    assert.equal(planned.scenes[0].inputs.size, 100);
    // 200 such layers held the event loop 594 s on the issue's server (2.2 s a layer); 100 take 2-9 s on two threads here
    assert.ok(seconds < 60, `${seconds} s`);
    gaps.sort((a, b) => a - b);
    const [median, longest] = [gaps[gaps.length >> 1], gaps.at(-1)!];
    assert.ok(median < 50 && longest < 1000, `timer gaps: median ${median} ms, longest ${longest} ms`);
  });

  test('50 distinct fontUrl fonts: a few stay registered and memory stays level', async () => {
    // 50 of the files Noto Sans JP is cut into, 20-60 kB each
    const jp = join(ROOT, 'node_modules/@fontsource/noto-sans-jp/files');
    const files = (await readdir(jp))
      .filter((f) => f.endsWith('-400-normal.woff2'))
      .slice(0, 50)
      .map((f) => join(jp, f));
    const sized = await Promise.all(files.map(async (path) => ({ path, size: (await stat(path)).size })));
    const largest = Math.max(...sized.map((f) => f.size));
    const digests = new Map(
      await Promise.all(
        files.map(
          async (path) =>
            [
              family(
                createHash('sha256')
                  .update(await readFile(path))
                  .digest('hex'),
              ),
              path,
            ] as const,
        ),
      ),
    );
    const size = new Map(sized.map((f) => [f.path, f.size]));
    const budget = 200_000;
    setTextLimits({ fontBytes: budget });
    try {
      global.gc?.();
      const rss = process.memoryUsage().rss;
      const layers = files.map((fontUrl, i) => text(`f${i}`, { fontFamily: 'Theirs', fontUrl }));
      for (let from = 0; from < layers.length; from += 10) await plan(textMovie(layers.slice(from, from + 10)));
      const kept = GlobalFonts.families.map((f) => digests.get(f.family)).filter((path) => path !== undefined);
      const bytes = kept.reduce((sum, path) => sum + size.get(path)!, 0);
      // each of the two threads keeps half the budget, and the font it used last even if larger
      assert.ok(kept.length >= 1 && bytes <= budget + 2 * largest, `${kept.length} of 50 kept, ${bytes} bytes`);
      global.gc?.();
      const grown = process.memoryUsage().rss - rss;
      assert.ok(grown < 300 * 2 ** 20, `RSS grew ${mb(grown)} MB (two text threads start too)`);
    } finally {
      setTextLimits({});
    }
  });

  test('a draw past its time limit fails its layer, named, as SOURCE_UNAVAILABLE; the next draw has a fresh thread', async () => {
    const movie = textMovie([text('title'), text('other', { position: { x: 0, y: 100 } })]);
    setTextLimits({ drawSeconds: 0.001 });
    try {
      await assert.rejects(plan(movie), (err: Error) => {
        assert.ok(err instanceof LayerSourceError);
        assert.match(
          err.message,
          /^layer "(title|other)" \(movie\.scenes\[0\]\.layers\[[01]\]\): \(text\): took longer than 0\.001 s to lay out and draw$/,
        );
        assert.equal(failureOf(err).code, 'SOURCE_UNAVAILABLE');
        return true;
      });
    } finally {
      setTextLimits({});
    }
    assert.equal((await plan(movie)).scenes[0].inputs.size, 2);
  });

  test('a cancel stops the draw under way: its thread is stopped at once, and the next draw has a fresh one', async () => {
    const pool = new TextPool({ ...DEFAULT_TEXT_LIMITS, threads: 1 });
    const layer = textMovie([text('t')]).scenes[0].layers[0] as TextLayer;
    const cancel = new AbortController();
    try {
      const drawing = pool.draw({ layer, out: join(dir, 'cancelled.png') }, 'r', cancel.signal);
      // once the draw is on its thread (starting it takes longer than this)
      await new Promise((r) => setTimeout(r, 20));
      const started = performance.now();
      cancel.abort();
      await assert.rejects(drawing, (err: Error) => err.name === 'AbortedError');
      assert.ok(performance.now() - started < 1000, 'the cancelled draw ended at once');
      assert.deepEqual(await pool.draw({ layer, out: join(dir, 'next.png') }, 'r'), { missing: [] });
    } finally {
      await pool.close();
    }
  });

  test("a stopped thread's fontUrl fonts are removed from Skia by the thread that replaces it", async () => {
    const pool = new TextPool({ ...DEFAULT_TEXT_LIMITS, threads: 1 });
    const layer = textMovie([text('t')]).scenes[0].layers[0] as TextLayer;
    const font = {
      path: join(ROOT, 'node_modules/@fontsource/inter/files/inter-latin-800-normal.woff2'),
      digest: 'f'.repeat(64),
    };
    try {
      assert.equal((await pool.draw({ layer, font, out: join(dir, 'own.png') }, 'r')).refused, undefined);
      assert.equal(GlobalFonts.has(family(font.digest)), true);
      await pool.close();
      assert.equal(GlobalFonts.has(family(font.digest)), true, 'left registered by the stopped thread');
      await pool.draw({ layer, out: join(dir, 'after.png') }, 'r');
      assert.equal(GlobalFonts.has(family(font.digest)), false);
    } finally {
      await pool.close();
    }
  });

  test('a thread that runs out of memory fails the draw, not the process', async () => {
    const pool = new TextPool({ ...DEFAULT_TEXT_LIMITS, threads: 1, threadHeapMb: 4 });
    const layer = textMovie([text('t')]).scenes[0].layers[0] as TextLayer;
    try {
      await assert.rejects(pool.draw({ layer, out: join(dir, 'oom.png') }, 'r'), (err: Error) => {
        assert.ok(err instanceof TextDrawError, String(err));
        assert.match(err.message, /needed more than 4 MB of memory to lay out and draw/);
        return true;
      });
    } finally {
      await pool.close();
    }
  });
});
