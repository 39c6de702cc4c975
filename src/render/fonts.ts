// Fonts for text layers, loaded lazily: a text asks for the fonts its characters need, and
// only those files are read and registered with Skia (a Latin title never reads a CJK file).
// Each file is registered under a family of its own, so the family list a text is drawn
// with names exactly the files chosen for it, never a host font.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { type FontKey, GlobalFonts } from '@napi-rs/canvas';
import { BUNDLED_FONTS, fallbackOrder, nearestWeight, type BundledFont } from './bundled-fonts.ts';
import { ByteLru } from './byte-lru.ts';
import type { CodePointRanges } from './code-point-ranges.ts';
import { mappedCodePoints } from './font-cmap.ts';
import { parseFontFaces } from './font-faces.ts';
import { resolveText, type Face, type ResolvedText } from './font-fallback.ts';
import { DEFAULT_TEXT_LIMITS } from './text-limits.ts';

const require = createRequire(import.meta.url);
const packageDir = (name: string) => dirname(require.resolve(`${name}/package.json`));

/** What the caches of bundled files may hold; their files are fixed, so these only cap a thread's share. */
const STYLESHEETS_BYTES = 2 * 2 ** 20;
const GLYPHS_BYTES = 16 * 2 ** 20;

/** Stylesheets read, by package and weight. */
const facesRead = new ByteLru<string, Face[]>(STYLESHEETS_BYTES);
/** Bundled font files whose cmap has been read, by path. */
const glyphsRead = new ByteLru<string, CodePointRanges>(GLYPHS_BYTES);
/** Families this thread registered with Skia: the bundled ones are never removed (there are only so many). */
const registered = new Set<string>();
/** fontUrl fonts kept registered with Skia for the next layer that uses them, by digest (a text thread's share: holdFontBytes). */
const DEFAULT_FONT_BYTES = 16 * 2 ** 20;
const userFonts = new ByteLru<string, { face: Face; key: FontKey }>(DEFAULT_FONT_BYTES, ({ face, key }) => {
  GlobalFonts.remove(key);
  registered.delete(face.family);
});

/** A bundled font's files at the shipped weight nearest `weight`, from its stylesheet. */
function bundledFaces(font: BundledFont, weight: number): Face[] {
  const shipped = nearestWeight(font.weights, weight);
  const key = `${font.package}@${shipped}`;
  let faces = facesRead.get(key);
  if (!faces) {
    const dir = packageDir(font.package);
    const short = font.package.split('/').pop()!;
    faces = parseFontFaces(readFileSync(join(dir, font.stylesheet(shipped)), 'utf8'), dir)
      .filter((face) => face.weight === shipped)
      // where ranges overlap, the rule defined last is tried first (CSS Fonts 4, as browsers do): Inter's latin file before its others
      .reverse()
      .map(({ file, ranges }) => ({
        family: `rs-${short}-${basename(file, '.woff2').replace(`${short}-`, '')}`,
        file,
        ranges,
      }));
    facesRead.set(key, faces, facesBytes(faces));
  }
  return faces;
}

/** About what a stylesheet's faces hold: their strings (two bytes a character) and ranges (two numbers each). */
const facesBytes = (faces: Face[]) =>
  faces.reduce((sum, face) => sum + 2 * (face.family.length + face.file.length) + 16 * face.ranges.length + 64, 0);

function bundledGlyphs(file: string): CodePointRanges {
  let glyphs = glyphsRead.get(file);
  if (!glyphs) {
    glyphs = mappedCodePoints(readFileSync(file));
    glyphsRead.set(file, glyphs, glyphs.bytes);
  }
  return glyphs;
}

const hasGlyph = (face: Face, codePoint: number) => (face.glyphs ?? bundledGlyphs(face.file)).has(codePoint);

function register(face: Face): void {
  if (registered.has(face.family)) return;
  if (!GlobalFonts.registerFromPath(face.file, face.family))
    throw new Error(`cannot load the bundled font ${basename(face.file)}`);
  registered.add(face.family);
}

/**
 * The fonts that draw `text` at `weight`: the layer's own font first (from fontUrl), then the
 * bundled ones in fallback order. Registers just those with Skia.
 */
export function fontsForText(text: string, weight: number, own?: Face): ResolvedText {
  const chain = [...(own ? [own] : []), ...fallbackOrder(text).flatMap((font) => bundledFaces(font, weight))];
  const resolved = resolveText(text, chain, hasGlyph);
  resolved.faces.forEach(register);
  return resolved;
}

/**
 * A font file from a layer's fontUrl, registered under a family of its own and kept for the
 * next layers that use it, least recently used out first past the budget (counting the file,
 * which Skia keeps a copy of, and its glyph ranges). Refused, with the reason, when larger
 * than `maxBytes` or not a font Skia and we can read; then nothing of it is kept.
 */
export function loadFontFile(
  path: string,
  digest: string,
  maxBytes = DEFAULT_TEXT_LIMITS.fontFileBytes,
): { face: Face } | { refused: string } {
  const known = userFonts.get(digest);
  if (known) return known;
  const size = statSync(path).size;
  if (size > maxBytes) return { refused: `is larger than the ${maxBytes / 2 ** 20} MiB a font may be (${size} bytes)` };
  const notFont = { refused: 'is not a font Skia can read (TTF, OTF or WOFF2)' };
  let file: Buffer;
  let glyphs: CodePointRanges;
  try {
    file = readFileSync(path);
    glyphs = mappedCodePoints(file);
  } catch {
    return notFont;
  }
  const face: Face = { family: `font-${digest.slice(0, 16)}`, file: path, ranges: [[0, 0x10ffff]], glyphs };
  const key = GlobalFonts.register(file, face.family);
  if (!key) return notFont;
  registered.add(face.family);
  userFonts.set(digest, { face, key }, file.length + glyphs.bytes);
  return { face };
}

/** How many bytes of fontUrl fonts this thread keeps registered. */
export function holdFontBytes(bytes: number): void {
  userFonts.budget = bytes;
  userFonts.trim();
}

/** The fontUrl fonts this thread holds registered: [digest, path]. */
export function heldFontFiles(): Array<[string, string]> {
  return [...userFonts].map(([digest, { face }]) => [digest, face.file]);
}

/**
 * Removes fontUrl fonts that a stopped thread had registered: Skia keys a typeface by its
 * bytes, so registering the same file again gives the key that removes it (a file no longer
 * there stays registered).
 */
export function forgetFontFiles(fonts: Array<[string, string]>): void {
  for (const [, path] of fonts) {
    const key = existsSync(path) ? GlobalFonts.register(readFileSync(path)) : null;
    if (key) GlobalFonts.remove(key);
  }
}

let packages: string[] | undefined;

/**
 * `Inter (@fontsource/inter@5.3.0)`, ...: what ships; part of a text raster's identity too
 * (another font version, other pixels). Read once: it cannot change while we run.
 */
export function bundledFontPackages(): string[] {
  return (packages ??= BUNDLED_FONTS.map(
    (font) =>
      `${font.family} (${font.package}@${(require(`${font.package}/package.json`) as { version: string }).version})`,
  ));
}
