// Which font draws each character of a text. Skia, given a list of families, draws each
// character with the first family in the list that has it, and asks the host's fonts when
// none has; so the list it gets holds only our fonts, in our order, and a character none of
// them has is replaced by a noncharacter (drawn as the first font's missing-glyph box on any
// machine) and reported. Pure: the caller says what each font file has.
import { CodePointRanges } from './code-point-ranges.ts';
import type { CodeRanges } from './font-faces.ts';
import { graphemes } from './text-layout.ts';

export interface Face {
  /** The family name the file is registered under with Skia (one file per family). */
  family: string;
  file: string;
  ranges: CodeRanges;
  /** What its cmap maps, when read with the file (a fontUrl font); a bundled file's is read when first asked. */
  glyphs?: CodePointRanges;
}

/** Whether the face's file maps the code point to a glyph (its cmap). */
export type HasGlyph = (face: Face, codePoint: number) => boolean;

/** Drawn in place of a character no font has: no font maps a noncharacter, so every machine draws the same box. */
export const MISSING_GLYPH = '\uffff';

/** Characters with nothing to draw (joiners, variation selectors, controls): never reported; dropped when no font has them, but line breaks, tabs and zero-width spaces stay for wrapping. */
const INVISIBLE = /\p{Default_Ignorable_Code_Point}|\p{Cc}/u;
const LAYOUT = /[\t\n\v\f\r\u200b]/;

export interface ResolvedText {
  /** The text to draw: missing characters replaced by MISSING_GLYPH, invisible ones no font has dropped. */
  text: string;
  /** The faces that draw it, in chain order (the first face of the chain always, for its missing-glyph box and metrics). */
  faces: Face[];
  /** Code points no face has, each once, in order of appearance. */
  missing: number[];
}

/**
 * Each grapheme cluster of `text` goes whole to the first face of `chain` whose unicode-range
 * and cmap have all its characters (the invisible ones it lacks are dropped), so that a ZWJ
 * emoji sequence, a flag or a conjunct is shaped by one font: Skia, given the family list,
 * also takes a cluster whole to the first family that has it all. A cluster no face has
 * whole is resolved a character at a time, as the characters of a cluster no font can shape.
 * Asked once per distinct cluster and character, each face's ranges by binary search: a text
 * of 5,000 characters no font has asks each of the chain's hundreds of faces once per
 * character it uses, not once per character it has.
 */
export function resolveText(text: string, chain: readonly Face[], has: HasGlyph): ResolvedText {
  const inRange = chain.map((face) => new CodePointRanges(face.ranges));
  const hasAll = (face: Face, i: number, codePoints: number[]) =>
    codePoints.every((c) => inRange[i].has(c) && has(face, c));
  const chosen = new Map<string, Face | undefined>();
  const faceFor = (cluster: string, codePoints: number[]) => {
    if (!chosen.has(cluster))
      chosen.set(
        cluster,
        chain.find((face, i) => hasAll(face, i, codePoints)),
      );
    return chosen.get(cluster);
  };
  const used = new Set<Face>(chain.slice(0, 1));
  const missing = new Set<number>();
  let drawn = '';
  for (const cluster of graphemes(text)) {
    const chars = [...cluster];
    const visible = chars.filter((char) => !INVISIBLE.test(char) && !LAYOUT.test(char));
    const whole =
      visible.length > 0
        ? faceFor(
            cluster,
            visible.map((char) => char.codePointAt(0)!),
          )
        : undefined;
    if (whole) {
      used.add(whole);
      for (const char of chars) if (!INVISIBLE.test(char) || has(whole, char.codePointAt(0)!)) drawn += char;
      continue;
    }
    for (const char of chars) {
      const codePoint = char.codePointAt(0)!;
      const face = faceFor(char, [codePoint]);
      if (face || LAYOUT.test(char)) {
        if (face) used.add(face);
        drawn += char;
      } else if (!INVISIBLE.test(char)) {
        missing.add(codePoint);
        drawn += MISSING_GLYPH;
      }
    }
  }
  return { text: drawn, faces: chain.filter((face) => used.has(face)), missing: [...missing] };
}

/** Missing characters named in one warning; the rest are counted. */
const NAMED_AT_MOST = 8;

/** `no bundled font has U+0D9A "ක", U+0DBD "ල"`: the warning for a text's missing characters. */
export function missingGlyphs(missing: readonly number[], withOwnFont: boolean): string {
  const named = missing
    .slice(0, NAMED_AT_MOST)
    .map((c) => `U+${c.toString(16).toUpperCase().padStart(4, '0')} "${String.fromCodePoint(c)}"`);
  const more = missing.length > NAMED_AT_MOST ? ` and ${missing.length - NAMED_AT_MOST} more` : '';
  return `no bundled font${withOwnFont ? ' nor its fontUrl font' : ''} has ${named.join(', ')}${more}`;
}
