// Fonts that travel: every script drawn by a bundled font (never a box, never a host font),
// colour emoji in colour, the same pixels whatever fonts the host has, a warning naming any
// character no font has (CLI and job), and CJK files read only when a text needs them.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, test } from 'node:test';
import { loadImage, createCanvas } from '@napi-rs/canvas';
import SQLite from 'better-sqlite3';
import { doctor } from '../src/cli/doctor.ts';
import { openSqlite } from '../src/jobs/database.ts';
import { normalizeMovie, type TextLayer } from '../src/movie/index.ts';
import { fallbackOrder, nearestWeight } from '../src/render/bundled-fonts.ts';
import { mappedCodePoints } from '../src/render/font-cmap.ts';
import { parseFontFaces, parseUnicodeRange } from '../src/render/font-faces.ts';
import { MISSING_GLYPH, missingGlyphs, resolveText, type Face } from '../src/render/font-fallback.ts';
import { fontsForText } from '../src/render/fonts.ts';
import { wrapText } from '../src/render/text-layout.ts';
import { rasterizeText } from '../src/render/text-raster.ts';
import type { Region } from '../src/render/visible-region.ts';
import { cli, collect, decodeFrames, ROOT, tempDir } from './helpers.ts';
import { api, startService, waitForJob } from './service-helpers.ts';

const dir = await tempDir();
const JAVANESE_KA = 0xa98f; // no bundled font has Javanese
const BRAILLE = 0x283f; // nor Braille, which DejaVu (on most hosts) has

const textLayer = (text: string, extra: Record<string, unknown> = {}): TextLayer => {
  const movie = {
    width: 640,
    height: 160,
    scenes: [
      {
        id: 's',
        duration: 1,
        layers: [
          {
            id: 'title',
            type: 'text',
            text,
            fontSize: 48,
            color: '#ffffff',
            position: { x: 0, y: 0 },
            size: { width: 640, height: 160 },
            ...extra,
          },
        ],
      },
    ],
  };
  return normalizeMovie(movie, { allowLocalFiles: true }).scenes[0].layers[0] as TextLayer;
};

interface Raster {
  width: number;
  height: number;
  data: Uint8ClampedArray;
  missing: number[];
}

let rasters = 0;
async function raster(text: string, extra: Record<string, unknown> = {}, region?: Region): Promise<Raster> {
  const path = join(dir, `text-${rasters++}.png`);
  const { missing } = await rasterizeText(textLayer(text, extra), undefined, path, region);
  const image = await loadImage(await readFile(path));
  const ctx = createCanvas(image.width, image.height).getContext('2d');
  ctx.drawImage(image, 0, 0);
  return {
    width: image.width,
    height: image.height,
    data: ctx.getImageData(0, 0, image.width, image.height).data,
    missing,
  };
}

/** The inked pixels' bounding box and count. */
function ink(r: Raster) {
  let count = 0;
  let [left, top, right, bottom] = [r.width, r.height, -1, -1];
  for (let y = 0; y < r.height; y++) {
    for (let x = 0; x < r.width; x++) {
      if (r.data[(y * r.width + x) * 4 + 3] < 64) continue;
      count++;
      [left, top, right, bottom] = [Math.min(left, x), Math.min(top, y), Math.max(right, x), Math.max(bottom, y)];
    }
  }
  return { count, left, top, right, bottom, width: right - left + 1 };
}

const samePixels = (a: Raster, b: Raster) => Buffer.from(a.data).equals(Buffer.from(b.data));

describe('font tables (pure)', () => {
  test('unicode-range parses to exact ranges, wildcards included', () => {
    assert.deepEqual(parseUnicodeRange('U+0400-045F,U+2116, U+4??'), [
      [0x400, 0x45f],
      [0x2116, 0x2116],
      [0x400, 0x4ff],
    ]);
  });

  test('@font-face rules give file, weight and ranges, in stylesheet order', () => {
    const css = `@font-face { font-weight: 700; src: url(./files/a-700.woff2) format('woff2'), url(./files/a-700.woff) format('woff'); unicode-range: U+0041-005A; }
      @font-face { font-weight: 400; src: url('./files/b.woff2') format(woff2); }`;
    assert.deepEqual(parseFontFaces(css, '/pkg'), [
      { file: '/pkg/files/a-700.woff2', weight: 700, ranges: [[0x41, 0x5a]] },
      { file: '/pkg/files/b.woff2', weight: 400, ranges: [[0, 0x10ffff]] },
    ]);
  });

  test('a font file says which characters it has (its cmap), not just its unicode-range', async () => {
    const file = await readFile(join(ROOT, 'node_modules/@fontsource/inter/files/inter-latin-400-normal.woff2'));
    const glyphs = mappedCodePoints(file);
    for (const c of 'AZaz09 €™') assert.ok(glyphs.has(c.codePointAt(0)!), c);
    assert.equal(glyphs.has('ж'.codePointAt(0)!), false, 'Cyrillic is in another file');
    assert.equal(glyphs.has(0x2060), false, 'in the latin unicode-range (U+2000-206F) but not in the font');
    assert.throws(() => mappedCodePoints(Buffer.from('not a font at all')), /not a TrueType, OpenType or WOFF2 font/);
  });

  test('shipped weights: the nearest, the heavier on a tie', () => {
    assert.deepEqual(
      [100, 400, 500, 550, 600, 900].map((w) => nearestWeight([400, 700], w)),
      [400, 400, 400, 700, 700, 700],
    );
  });

  test('kana make a text Japanese, hangul Korean, other Han Simplified Chinese', () => {
    const han = (text: string) =>
      fallbackOrder(text)
        .map((f) => f.script)
        .filter((s) => ['zh-Hans', 'zh-Hant', 'ja', 'ko'].includes(s));
    assert.deepEqual(han('夏のセール'), ['ja', 'zh-Hans', 'zh-Hant', 'ko']);
    assert.deepEqual(han('여름 세일'), ['ko', 'zh-Hans', 'zh-Hant', 'ja']);
    assert.deepEqual(han('夏季特賣'), ['zh-Hans', 'zh-Hant', 'ja', 'ko']);
    assert.deepEqual(
      fallbackOrder('x')
        .slice(0, 2)
        .map((f) => f.script),
      ['latin', 'emoji'],
    );
  });

  test('each character goes to the first face that has it; missing ones are boxes, reported once; invisible ones dropped', () => {
    const face = (family: string, from: number, to: number): Face => ({ family, file: family, ranges: [[from, to]] });
    const chain = [face('latin', 0x20, 0x7e), face('hole', 0x41, 0x5a), face('greek', 0x370, 0x3ff)];
    // "latin" has no "B": the next face with it in range and cmap draws it
    const has = (f: Face, c: number) => !(f.family === 'latin' && c === 0x42);
    const resolved = resolveText('AB Ω\nꦏ\u200dꦏx', chain, has);
    assert.equal(resolved.text, `AB Ω\n${MISSING_GLYPH}${MISSING_GLYPH}x`);
    assert.deepEqual(
      resolved.faces.map((f) => f.family),
      ['latin', 'hole', 'greek'],
    );
    assert.deepEqual(resolved.missing, [JAVANESE_KA]);
    assert.deepEqual(
      resolveText('ꦏ', chain, has).faces.map((f) => f.family),
      ['latin'],
      'the first face stays, for its box and metrics',
    );
  });

  test('a word wider than its box breaks between whole characters, never inside an emoji or a cluster', () => {
    const width = (s: string) => 10 * [...new Intl.Segmenter(undefined, { granularity: 'grapheme' }).segment(s)].length;
    assert.deepEqual(wrapText('🔥🎉👍🏽x', 20, width), ['🔥🎉', '👍🏽x']);
    assert.deepEqual(wrapText('नमस्ते', 10, width), ['न', 'म', 'स्ते']);
  });

  test('the warning names each missing character once, then counts the rest', () => {
    assert.equal(missingGlyphs([JAVANESE_KA, BRAILLE], false), 'no bundled font has U+A98F "ꦏ", U+283F "⠿"');
    assert.equal(
      missingGlyphs([0x10ffff - 1], true).startsWith('no bundled font nor its fontUrl font has U+10FFFE'),
      true,
    );
    assert.match(
      missingGlyphs(
        Array.from({ length: 11 }, (_, i) => 0xd9a + i),
        false,
      ),
      /U\+0DA1 "ඡ" and 3 more$/,
    );
  });
});

describe('which bundled file draws a character', () => {
  const drawnBy = (text: string, weight = 400) =>
    fontsForText(text, weight)
      .faces.slice(1)
      .map((f) => basename(f.file));
  const cases: Array<[string, number, string[]]> = [
    ['ж', 400, ['inter-cyrillic-400-normal.woff2']],
    ['ж', 700, ['inter-cyrillic-700-normal.woff2']],
    ['Ω', 400, ['inter-greek-400-normal.woff2']],
    ['ệ', 400, ['inter-vietnamese-400-normal.woff2']],
    ['ש', 300, ['noto-sans-hebrew-hebrew-400-normal.woff2']],
    ['ש', 800, ['noto-sans-hebrew-hebrew-700-normal.woff2']],
    ['ا', 400, ['noto-sans-arabic-arabic-400-normal.woff2']],
    ['क', 400, ['noto-sans-devanagari-devanagari-400-normal.woff2']],
    ['ก', 400, ['noto-sans-thai-thai-400-normal.woff2']],
    ['🔥', 400, ['10.woff2']],
    ['夏', 400, ['noto-sans-sc-114-400-normal.woff2']],
    ['夏の', 400, ['noto-sans-jp-119-400-normal.woff2', 'noto-sans-jp-106-400-normal.woff2']],
    ['한', 700, ['noto-sans-kr-118-700-normal.woff2']],
  ];
  for (const [text, weight, files] of cases) {
    test(`${text} at ${weight}: ${files.join(', ')}`, () => assert.deepEqual(drawnBy(text, weight), files));
  }
  test('Latin needs only Inter latin; Javanese no file at all', () => {
    assert.deepEqual(
      fontsForText('Hello', 400).faces.map((f) => basename(f.file)),
      ['inter-latin-400-normal.woff2'],
    );
    assert.deepEqual(fontsForText('ꦏ', 400).missing, [JAVANESE_KA]);
  });
});

describe('every script draws glyphs, not boxes', async () => {
  const samples: Array<[string, string, string]> = [
    ['emoji', 'Sale 🔥🎉', '@infolektuell/noto-color-emoji'],
    ['Japanese', '夏のセール', '@fontsource/noto-sans-jp'],
    ['Simplified Chinese', '夏季大促销', '@fontsource/noto-sans-sc'],
    ['Traditional Chinese', '夏季特賣會', '@fontsource/noto-sans-sc'],
    ['Korean', '여름 세일', '@fontsource/noto-sans-kr'],
    ['Arabic', 'تخفيضات الصيف', '@fontsource/noto-sans-arabic'],
    ['Hebrew', 'מבצע קיץ', '@fontsource/noto-sans-hebrew'],
    ['Devanagari', 'गर्मी की सेल', '@fontsource/noto-sans-devanagari'],
    ['Thai', 'ลดราคาฤดูร้อน', '@fontsource/noto-sans-thai'],
    ['Cyrillic', 'Летняя распродажа', '@fontsource/inter'],
    ['Greek', 'Καλοκαιρινές εκπτώσεις', '@fontsource/inter'],
    ['Vietnamese', 'Giảm giá mùa hè', '@fontsource/inter'],
    ['Bengali', 'বাংলা ভাষা', '@fontsource/noto-sans-bengali'],
    ['Tamil', 'தமிழ் மொழி', '@fontsource/noto-sans-tamil'],
    ['Telugu', 'తెలుగు భాష', '@fontsource/noto-sans-telugu'],
    ['Gujarati', 'ગુજરાતી ભાષા', '@fontsource/noto-sans-gujarati'],
    ['Gurmukhi', 'ਪੰਜਾਬੀ ਭਾਸ਼ਾ', '@fontsource/noto-sans-gurmukhi'],
    ['Kannada', 'ಕನ್ನಡ ಭಾಷೆ', '@fontsource/noto-sans-kannada'],
    ['Malayalam', 'മലയാളം ഭാഷ', '@fontsource/noto-sans-malayalam'],
    ['Sinhala', 'සිංහල භාෂාව', '@fontsource/noto-sans-sinhala'],
    ['Georgian', 'ქართული ენა', '@fontsource/noto-sans-georgian'],
    ['Armenian', 'Հայերեն լեզու', '@fontsource/noto-sans-armenian'],
    ['Ethiopic', 'አማርኛ ቋንቋ', '@fontsource/noto-sans-ethiopic'],
    ['Khmer', 'ភាសាខ្មែរ', '@fontsource/noto-sans-khmer'],
    ['Lao', 'ພາສາລາວ', '@fontsource/noto-sans-lao'],
    ['Myanmar', 'မြန်မာဘာသာ', '@fontsource/noto-sans-myanmar'],
    ['Tibetan', 'བོད་ཡིག', '@fontsource/noto-serif-tibetan'],
  ];
  const box = await raster(MISSING_GLYPH);

  for (const [script, text, pkg] of samples) {
    test(`${script}: ${text}`, async () => {
      const fonts = fontsForText(text, 400);
      assert.deepEqual(fonts.missing, []);
      assert.ok(
        fonts.faces.every((f) => f.family.startsWith('rs-')),
        'bundled families only',
      );
      assert.ok(
        fonts.faces.some((f) => f.file.includes(`/node_modules/${pkg}/`)),
        `${pkg} draws it: ${fonts.faces.map((f) => basename(f.file))}`,
      );
      // each character alone differs from the missing-glyph box
      for (const char of new Set([...text].filter((c) => c.trim()))) {
        assert.equal(
          samePixels(await raster(char), box),
          false,
          `${char} (U+${char.codePointAt(0)!.toString(16)}) is not a box`,
        );
      }
      const whole = ink(await raster(text));
      assert.ok(
        whole.count > 300 && whole.left >= 8 && whole.right < 632 && whole.top >= 0 && whole.bottom < 160,
        `drawn inside its box: ${JSON.stringify(whole)}`,
      );
    });
  }

  test('an emoji ZWJ sequence is one emoji: 🏳️‍🌈 and ❤️‍🔥 as wide as 🌈 and 🔥, drawn by one file', async () => {
    for (const [sequence, single] of [
      ['🏳️‍🌈', '🌈'],
      ['❤️‍🔥', '🔥'],
      ['👩‍👩‍👧', '👧'],
    ]) {
      const [one, drawn] = [ink(await raster(single)), ink(await raster(sequence))];
      // the rainbow flag is a flag, not a rainbow: its ink is about as wide as one emoji's, where two side by side were more than twice as wide
      assert.ok(
        drawn.width > 0.8 * one.width && drawn.width < 1.25 * one.width,
        `${sequence} ${drawn.width} px of ink, ${single} ${one.width} px`,
      );
      assert.equal(fontsForText(sequence, 400).faces.length, 2, 'Inter (first, for metrics) and the one emoji file');
    }
  });

  test('Indic conjuncts are shaped: Bengali ক্ষ is narrower than ক and ষ side by side', async () => {
    const [ka, ssa, kssa] = [ink(await raster('ক')), ink(await raster('ষ')), ink(await raster('ক্ষ'))];
    assert.ok(kssa.width < 0.8 * (ka.width + ssa.width), `ক্ষ ${kssa.width} px, ক ${ka.width} + ষ ${ssa.width} px`);
    const [ta, tta] = [ink(await raster('த')), ink(await raster('க்ஷ'))];
    assert.ok(tta.width > ta.width, 'Tamil க்ஷ draws');
  });

  test('doctor lists every script the bundled fonts draw', async () => {
    const { lines } = await doctor();
    const scripts = lines.find((line) => line.startsWith('scripts '));
    for (const [script] of samples.filter(([name]) => !['Cyrillic', 'Greek', 'Vietnamese'].includes(name)))
      assert.match(scripts ?? '', new RegExp(`\\b${script}\\b`, 'i'), `${script} in ${scripts}`);
    assert.match(scripts ?? '', /Latin, Cyrillic, Greek, Vietnamese/);
  });

  test('Arabic is shaped: joined letters take their narrow connecting forms', async () => {
    const alone = ink(await raster('ب'));
    const joined = ink(await raster('بببب'));
    assert.ok(joined.width < 3 * alone.width, `4 joined behs ${joined.width} px wide, one alone ${alone.width} px`);
  });

  test('Arabic and Hebrew run right to left: the first letter is at the right end', async () => {
    // reh joins no following letter, so it keeps its isolated form at the start of the word
    for (const [first, rest] of [
      ['ש', 'ללללל'],
      ['ر', 'ممممم'],
    ]) {
      const firstAlone = await raster(first, { textAlign: 'right' });
      const word = await raster(first + rest, { textAlign: 'right' });
      // the rightmost columns of the word are the first letter's, as when it is drawn alone right-aligned
      const right = ink(firstAlone);
      let same = 0;
      let lit = 0;
      for (let y = 0; y < 160; y++) {
        for (let x = right.left + 4; x <= right.right; x++) {
          const a = firstAlone.data[(y * 640 + x) * 4 + 3] > 128;
          if (a) lit++;
          if (a && word.data[(y * 640 + x) * 4 + 3] > 128) same++;
        }
      }
      assert.ok(
        lit > 20 && same / lit > 0.6,
        `${first}: ${same} of ${lit} pixels of the first letter at the right end`,
      );
    }
  });

  test('colour emoji are drawn in colour', async () => {
    const r = await raster('Sale 🔥🎉');
    let coloured = 0;
    for (let i = 0; i < r.data.length; i += 4) {
      const [red, green, blue, alpha] = r.data.subarray(i, i + 4);
      if (alpha > 200 && Math.max(red, green, blue) - Math.min(red, green, blue) > 100) coloured++;
    }
    assert.ok(coloured > 300, `${coloured} strongly coloured pixels (the text itself is white)`);
  });
});

describe('white space is kept as CSS pre-wrap keeps it (measured in pixels)', async () => {
  const left = { textAlign: 'left' };
  // Inter at 48 px, the font the spaces and tabs are measured with
  const ctx = createCanvas(10, 10).getContext('2d');
  ctx.font = `48px "${fontsForText(' ', 400).faces[0].family}"`;
  const space = ctx.measureText(' ').width;

  test('leading spaces and runs of spaces keep their width', async () => {
    const x = ink(await raster('x', left));
    assert.ok(Math.abs(ink(await raster('   x', left)).left - x.left - 3 * space) <= 1, 'three leading spaces');
    const one = ink(await raster('x x', left));
    const four = ink(await raster('x    x', left));
    assert.ok(
      Math.abs(four.right - one.right - 3 * space) <= 1,
      `${four.right - one.right} px for three more spaces of ${space}`,
    );
  });

  test('a tab advances to the next multiple of 8 space widths from the line start', async () => {
    const x = ink(await raster('x', left));
    const tabbedX = ink(await raster('\tx', left));
    assert.ok(
      Math.abs(tabbedX.left - x.left - 8 * space) <= 1,
      `${tabbedX.left - x.left} px for a tab of ${8 * space}`,
    );
    // text shorter than a stop does not move what follows the tab
    assert.equal(ink(await raster('ab\tx', left)).right, tabbedX.right);
    // right-aligned, the tabbed line ends at the box's right edge as any line does
    const right = ink(await raster('x', { textAlign: 'right' }));
    assert.equal(ink(await raster('ab\tx', { textAlign: 'right' })).right, right.right);
  });

  test('spaces at a wrap hang (right-aligned lines end at the edge); a last line keeps its trailing spaces', async () => {
    const style = { textAlign: 'right', size: { width: 200, height: 160 } };
    const word = ink(await raster('xxxx', style));
    const wrapped = await raster('xxxx      xxxx', style);
    assert.equal(ink(wrapped).right, word.right, 'both lines end where one word alone ends');
    const trailing = ink(await raster('xxxx   ', style));
    assert.ok(Math.abs(word.right - trailing.right - 3 * space) <= 1, 'trailing spaces that fit count');
  });
});

// the lead clips a layer's raster to what the canvas shows: the part must be that part of the whole
describe('a raster of part of the box', () => {
  const text = 'Summer sale 🔥 Летняя распродажа, twenty percent off everything';
  const style = {
    fontSize: 36,
    color: '#ffcc00',
    backgroundColor: '#203040',
    transform: { opacity: 0.8 },
    padding: 6,
    size: { width: 400, height: 260 },
  };
  for (const verticalAlign of ['top', 'middle', 'bottom']) {
    test(`${verticalAlign}-aligned: each part is that part of the whole box, pixel for pixel`, async () => {
      const whole = await raster(text, { ...style, verticalAlign });
      assert.deepEqual([whole.width, whole.height], [400, 260]);
      for (const part of [
        { x: 37, y: 11, width: 101, height: 53 },
        { x: 0, y: 150, width: 400, height: 110 },
        { x: 399, y: 259, width: 1, height: 1 },
      ]) {
        const got = await raster(text, { ...style, verticalAlign }, part);
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

/** Runs `code` (an ES module) in a fresh Node with tsx, optionally with the host's font folders hidden; its JSON output. */
async function inChild(code: string, hideHostFonts: boolean): Promise<Record<string, any>> {
  const node = [process.execPath, '--import', 'tsx', '--input-type=module', '-e', code];
  const folders = [
    '/usr/share/fonts',
    '/usr/local/share/fonts',
    join(process.env.HOME ?? '/root', '.fonts'),
    join(process.env.HOME ?? '/root', '.local/share/fonts'),
  ].filter(existsSync);
  // a mount namespace of its own: the host's font folders are empty there, and only there
  const hide = `${folders.map((f) => `mount -t tmpfs none '${f}'`).join(' && ')} && exec "$@"`;
  const [command, ...args] = hideHostFonts ? ['unshare', '--mount', 'sh', '-c', hide, 'sh', ...node] : node;
  const child = spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const { code: exit, stdout, stderr } = await collect(child);
  assert.equal(exit, 0, stderr);
  return JSON.parse(stdout) as Record<string, any>;
}

describe('host independence and lazy loading', () => {
  test('the same text gives the same pixels with and without the host fonts', {
    skip: process.getuid?.() !== 0 && 'hiding the host fonts takes a mount namespace of its own (root, as in CI)',
  }, async () => {
    // Cyrillic and Greek (which fell back to a host serif), Arabic and Hebrew (which only the host's DejaVu drew), Braille (which DejaVu has and we do not)
    const text = `Привет Γειά שלום مرحبا 夏のセール 🔥 ${String.fromCodePoint(BRAILLE)}`;
    const png = (name: string) => join(dir, name);
    const code = (out: string) => `
      import { GlobalFonts } from '@napi-rs/canvas';
      const hostFamilies = GlobalFonts.families.map((f) => f.family);
      const { rasterizeText } = await import('./src/render/text-raster.ts');
      const { missing } = await rasterizeText(${JSON.stringify(textLayer(text))}, undefined, ${JSON.stringify(out)});
      console.log(JSON.stringify({ hostFamilies, missing }));`;
    const withHost = await inChild(code(png('with-host.png')), false);
    const without = await inChild(code(png('without-host.png')), true);
    assert.ok(withHost.hostFamilies.length > 0, 'the host has fonts of its own (else this test shows nothing)');
    assert.deepEqual(without.hostFamilies, [], 'the host fonts are hidden in the second run');
    assert.deepEqual(withHost.missing, [BRAILLE]);
    assert.ok((await readFile(png('with-host.png'))).equals(await readFile(png('without-host.png'))), 'identical PNGs');
  });

  test('a Latin-only text reads and registers no other font', async () => {
    const out = await inChild(
      `
      import { GlobalFonts } from '@napi-rs/canvas';
      const before = new Set(GlobalFonts.families.map((f) => f.family));
      const { rasterizeText } = await import('./src/render/text-raster.ts');
      await rasterizeText(${JSON.stringify(textLayer('Summer sale, 20% off!'))}, undefined, ${JSON.stringify(join(dir, 'latin.png'))});
      const added = GlobalFonts.families.map((f) => f.family).filter((f) => !before.has(f));
      await rasterizeText(${JSON.stringify(textLayer('夏のセール'))}, undefined, ${JSON.stringify(join(dir, 'cjk.png'))});
      const afterCjk = GlobalFonts.families.map((f) => f.family).filter((f) => !before.has(f));
      console.log(JSON.stringify({ added, afterCjk }));`,
      false,
    );
    assert.deepEqual(out.added.sort(), ['Inter', 'rs-inter-latin-400-normal']);
    assert.ok(
      out.afterCjk.includes('rs-noto-sans-jp-119-400-normal'),
      `CJK registered once a text needs it: ${out.afterCjk}`,
    );
  });
});

describe('a character no font has is named, never a silent box', () => {
  const movie = {
    width: 320,
    height: 180,
    fps: 25,
    scenes: [
      {
        id: 'intro',
        duration: 0.4,
        bgColor: '#000000',
        layers: [
          {
            id: 'title',
            type: 'text',
            text: `Sale 🔥 ${String.fromCodePoint(JAVANESE_KA)}`,
            fontSize: 40,
            color: '#ffffff',
            position: { x: 0, y: 40 },
            size: { width: 320, height: 100 },
          },
        ],
      },
    ],
  };
  const warning = 'text layer "title" (movie.scenes[0].layers[0]): no bundled font has U+A98F "ꦏ"';

  test('the CLI prints the warning to stderr, renders, and the emoji is in colour in the video', async () => {
    const moviePath = join(dir, 'missing.json');
    const output = join(dir, 'missing.mp4');
    await writeFile(moviePath, JSON.stringify(movie));
    const run = await cli(['render', moviePath, '-o', output, '--quiet'], { timeoutMs: 120_000 });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stderr.trim(), `warning: ${warning}`);
    const frames = await decodeFrames(output, 320, 180, [0]);
    let coloured = 0;
    for (let y = 40; y < 140; y++) {
      for (let x = 0; x < 320; x++) {
        const [r, g, b] = frames.pixel(0, x, y);
        if (Math.max(r, g, b) - Math.min(r, g, b) > 100) coloured++;
      }
    }
    assert.ok(coloured > 100, `${coloured} coloured pixels of 🔥 in the decoded frame`);
  });

  test('the service keeps it in the job: GET /v1/jobs/{id} lists it under warnings', async () => {
    const svc = await startService();
    const { key, projectId } = await svc.tenant();
    const submit = async (m: unknown) => {
      const reply = await api(svc.url, key, '/v1/render/jobs', {
        method: 'POST',
        json: { kind: 'movie', projectId, movie: m },
      });
      assert.equal(reply.status, 202, await reply.clone().text());
      return waitForJob(svc.url, key, ((await reply.json()) as { jobId: string }).jobId, 120_000);
    };
    const job = await submit(movie);
    assert.equal(job.status, 'done', JSON.stringify(job.error));
    assert.deepEqual(job.warnings, [warning]);
    const clean = await submit({
      ...movie,
      scenes: [{ ...movie.scenes[0], layers: [{ ...movie.scenes[0].layers[0], text: 'Sale 🔥' }] }],
    });
    assert.equal(clean.status, 'done');
    assert.deepEqual(clean.warnings, []);
  });

  test('a data folder from before job warnings gets the column, once', async () => {
    const dataDir = await tempDir('reelsmith-old-data-');
    const old = new SQLite(join(dataDir, 'reelsmith.db'));
    // the jobs table as it was before
    const columns =
      'id, account_id, project_id, status, phase, progress, request, seconds, workers, callback_url, error_code, error_message, output_key, media_data, created_at, started_at, updated_at, finished_at';
    old.exec(`CREATE TABLE jobs (${columns.replace('id,', 'id text PRIMARY KEY,')})`);
    old.exec(`INSERT INTO jobs (id, account_id, project_id, status) VALUES ('job_old', 'acc', 'proj', 'done')`);
    old.close();
    for (let open = 0; open < 2; open++) {
      const db = await openSqlite(dataDir);
      const row = await db.selectFrom('jobs').select(['id', 'warnings']).executeTakeFirstOrThrow();
      assert.deepEqual(row, { id: 'job_old', warnings: null });
      await db.destroy();
    }
  });
});
