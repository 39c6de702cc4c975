// Fonts for text layers, loaded lazily: a text asks for the fonts its characters need, and
// only those files are read and registered with Skia (a Latin title never reads a CJK file).
// Each file is registered under a family of its own, so the family list a text is drawn
// with names exactly the files chosen for it, never a host font.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { GlobalFonts } from '@napi-rs/canvas';
import { BUNDLED_FONTS, fallbackOrder, nearestWeight, type BundledFont } from './bundled-fonts.ts';
import { mappedCodePoints } from './font-cmap.ts';
import { parseFontFaces } from './font-faces.ts';
import { resolveText, type Face, type ResolvedText } from './font-fallback.ts';

const require = createRequire(import.meta.url);
const packageDir = (name: string) => dirname(require.resolve(`${name}/package.json`));

/** Stylesheets read, by package and weight. */
const facesRead = new Map<string, Face[]>();
/** Font files whose cmap has been read, by path. */
const glyphsRead = new Map<string, Set<number>>();
const registered = new Set<string>();
const userFonts = new Map<string, Face>();

/** A bundled font's files at the shipped weight nearest `weight`, from its stylesheet (read once). */
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
    facesRead.set(key, faces);
  }
  return faces;
}

function glyphsOf(file: string): Set<number> {
  let glyphs = glyphsRead.get(file);
  if (!glyphs) {
    glyphs = mappedCodePoints(readFileSync(file));
    glyphsRead.set(file, glyphs);
  }
  return glyphs;
}

const hasGlyph = (face: Face, codePoint: number) => glyphsOf(face.file).has(codePoint);

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

/** A font file from a layer's fontUrl, under a family of its own; undefined when it is not a font Skia and we can read. */
export function loadFontFile(path: string, digest: string): Face | undefined {
  const known = userFonts.get(digest);
  if (known) return known;
  const face: Face = { family: `font-${digest.slice(0, 16)}`, file: path, ranges: [[0, 0x10ffff]] };
  try {
    glyphsOf(path);
  } catch {
    return undefined;
  }
  if (!GlobalFonts.registerFromPath(path, face.family)) return undefined;
  registered.add(face.family);
  userFonts.set(digest, face);
  return face;
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
