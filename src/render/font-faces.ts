// A font package's @font-face rules as a table: which file covers which characters at which
// weight. Font packages cut each font into files by unicode-range (a CJK font into a hundred);
// this reads their CSS, the one place that says which file holds what. Pure.
import { join } from 'node:path';

/** Inclusive code point ranges, in the order the CSS gives them. */
export type CodeRanges = ReadonlyArray<readonly [number, number]>;

export interface FontFace {
  /** Absolute path of the file (the WOFF2 source of the rule). */
  file: string;
  weight: number;
  ranges: CodeRanges;
}

/** `U+0400-045F,U+2116,U+4??` -> [[0x400, 0x45f], [0x2116, 0x2116], [0x400, 0x4ff]]. */
export function parseUnicodeRange(text: string): CodeRanges {
  return text
    .split(',')
    .map((part) => part.trim().replace(/^U\+/i, ''))
    .filter(Boolean)
    .map((part): [number, number] => {
      if (part.includes('?')) return [parseInt(part.replace(/\?/g, '0'), 16), parseInt(part.replace(/\?/g, 'f'), 16)];
      const [first, last = first] = part.split('-');
      return [parseInt(first, 16), parseInt(last, 16)];
    });
}

/** The @font-face rules of a stylesheet whose urls are relative to `dir`, in stylesheet order. */
export function parseFontFaces(css: string, dir: string): FontFace[] {
  const faces: FontFace[] = [];
  for (const [, body] of css.matchAll(/@font-face\s*{([^}]*)}/g)) {
    const woff2 = /url\(\s*['"]?([^'")]+\.woff2)['"]?\s*\)/.exec(body);
    if (!woff2) continue;
    const weight = /font-weight:\s*(\d+)/.exec(body);
    const range = /unicode-range:\s*([^;]+)/.exec(body);
    faces.push({
      file: join(dir, woff2[1]),
      weight: weight ? Number(weight[1]) : 400,
      ranges: range ? parseUnicodeRange(range[1]) : [[0, 0x10ffff]],
    });
  }
  return faces;
}
