// Which characters a font file really has: its cmap table, read from the file's bytes.
// A bundled file's unicode-range says which characters it was cut for; its cmap says which
// of them it has glyphs for, so a character is only ever given to a font that can draw it
// (Skia would otherwise fill the gap from the host's fonts). Fonts are WOFF2 or plain
// TrueType/OpenType (fontUrl fonts may be either).
import { brotliDecompressSync } from 'node:zlib';
import { CodePointRanges } from './code-point-ranges.ts';

/** WOFF2's table tags by their 6-bit index (WOFF2 spec, 5.1). */
const KNOWN_TAGS = [
  'cmap',
  'head',
  'hhea',
  'hmtx',
  'maxp',
  'name',
  'OS/2',
  'post',
  'cvt ',
  'fpgm',
  'glyf',
  'loca',
  'prep',
  'CFF ',
  'VORG',
  'EBDT',
  'EBLC',
  'gasp',
  'hdmx',
  'kern',
  'LTSH',
  'PCLT',
  'VDMX',
  'vhea',
  'vmtx',
  'BASE',
  'GDEF',
  'GPOS',
  'GSUB',
  'EBSC',
  'JSTF',
  'MATH',
  'CBDT',
  'CBLC',
  'COLR',
  'CPAL',
  'SVG ',
  'sbix',
  'acnt',
  'avar',
  'bdat',
  'bloc',
  'bsln',
  'cvar',
  'fdsc',
  'feat',
  'fmtx',
  'fvar',
  'gvar',
  'hsty',
  'just',
  'lcar',
  'mort',
  'morx',
  'opbd',
  'prop',
  'trak',
  'Zapf',
  'Silf',
  'Glat',
  'Gloc',
  'Feat',
  'Sill',
];

/** A font's tables uncompressed, at most (a full CJK font is about 30 MB): a fontUrl file is not trusted. */
const MAX_TABLE_BYTES = 128 * 2 ** 20;
const LAST_CODE_POINT = 0x10ffff;
const SFNT_SIGNATURES = new Set(['\0\x01\0\0', 'OTTO', 'true']);

/** The tables of a WOFF2 or TrueType/OpenType font file; throws on anything else (a truncated file: RangeError). */
function fontTables(file: Buffer): Map<string, Buffer> {
  const signature = file.toString('latin1', 0, 4);
  const tables = new Map<string, Buffer>();
  if (signature === 'wOF2') {
    const count = file.readUInt16BE(12);
    const compressedLength = file.readUInt32BE(20);
    let at = 48;
    const readBase128 = () => {
      let value = 0;
      for (let i = 0; i < 5; i++) {
        const byte = file[at++];
        value = value * 128 + (byte & 0x7f);
        if (!(byte & 0x80)) return value;
      }
      throw new Error('bad WOFF2 number');
    };
    const entries: Array<{ tag: string; length: number }> = [];
    for (let i = 0; i < count; i++) {
      const flags = file[at++];
      const tag = (flags & 0x3f) === 0x3f ? file.toString('latin1', at, (at += 4)) : KNOWN_TAGS[flags & 0x3f];
      const transform = flags >> 6;
      const original = readBase128();
      // glyf and loca are transformed unless version 3; hmtx only with version 1; nothing else is
      const transformed = tag === 'glyf' || tag === 'loca' ? transform !== 3 : transform !== 0;
      entries.push({ tag, length: transformed ? readBase128() : original });
    }
    const data = brotliDecompressSync(file.subarray(at, at + compressedLength), { maxOutputLength: MAX_TABLE_BYTES });
    let offset = 0;
    for (const { tag, length } of entries) {
      tables.set(tag, data.subarray(offset, offset + length));
      offset += length;
    }
  } else if (SFNT_SIGNATURES.has(signature)) {
    const count = file.readUInt16BE(4);
    for (let i = 0; i < count; i++) {
      const record = 12 + 16 * i;
      const offset = file.readUInt32BE(record + 8);
      tables.set(
        file.toString('latin1', record, record + 4),
        file.subarray(offset, offset + file.readUInt32BE(record + 12)),
      );
    }
  } else {
    throw new Error('not a TrueType, OpenType or WOFF2 font');
  }
  return tables;
}

/**
 * The code points a font maps to a glyph that it has (its Unicode cmap subtables, formats 4
 * and 12), as ranges: each subtable read once however many records name it, glyph ids at
 * or past the font's glyph count (maxp) not counted, so the work follows the file's size.
 */
export function mappedCodePoints(file: Buffer): CodePointRanges {
  const tables = fontTables(file);
  const cmap = tables.get('cmap');
  if (!cmap) return new CodePointRanges([]);
  const glyphs = glyphCount(tables.get('maxp'));
  let ranges: Array<[number, number]> = [];
  const read = new Set<number>();
  const count = cmap.readUInt16BE(2);
  for (let i = 0; i < count; i++) {
    const platform = cmap.readUInt16BE(4 + 8 * i);
    const encoding = cmap.readUInt16BE(6 + 8 * i);
    if (!(platform === 0 || (platform === 3 && (encoding === 1 || encoding === 10)))) continue;
    const offset = cmap.readUInt32BE(8 + 8 * i);
    if (read.has(offset)) continue;
    read.add(offset);
    const table = cmap.subarray(offset);
    const format = table.readUInt16BE(0);
    // concat, not push(...): a real font's subtable may hold more ranges than a call takes arguments
    if (format === 4) ranges = ranges.concat(format4Ranges(table, glyphs));
    if (format === 12) ranges = ranges.concat(format12Ranges(table, glyphs));
  }
  return new CodePointRanges(ranges);
}

/** Glyph ids run from 0 (the missing glyph) to numGlyphs - 1; 16-bit ids when there is no maxp to say. */
function glyphCount(maxp: Buffer | undefined): number {
  return maxp && maxp.length >= 6 ? maxp.readUInt16BE(4) : 0x10000;
}

/** Adds the code points of [first, last] whose glyph id, `codePoint + shift`, is a real glyph (1 to glyphs - 1). */
function addWithGlyphs(ranges: Array<[number, number]>, first: number, last: number, shift: number, glyphs: number) {
  const range: [number, number] = [Math.max(first, 1 - shift), Math.min(last, glyphs - 1 - shift)];
  if (range[0] <= range[1]) ranges.push(range);
}

/**
 * Format 4: segments sorted by their last code point; a code point belongs to the first
 * segment that ends at or after it, so each segment counts only past the ones before it
 * (at most 65,535 code points per subtable, whatever the segments claim).
 */
function format4Ranges(table: Buffer, glyphs: number): Array<[number, number]> {
  const ranges: Array<[number, number]> = [];
  const segments = table.readUInt16BE(6) / 2;
  const ends = 14;
  const starts = ends + 2 * segments + 2;
  const deltas = starts + 2 * segments;
  const rangeOffsets = deltas + 2 * segments;
  let covered = -1;
  for (let s = 0; s < segments; s++) {
    const start = table.readUInt16BE(starts + 2 * s);
    const end = table.readUInt16BE(ends + 2 * s);
    const delta = table.readUInt16BE(deltas + 2 * s);
    const rangeOffset = table.readUInt16BE(rangeOffsets + 2 * s);
    // U+FFFF is the last segment's end marker, never a character
    const [first, last] = [Math.max(start, covered + 1), Math.min(end, 0xfffe)];
    covered = Math.max(covered, end);
    if (first > last) continue;
    if (rangeOffset === 0) {
      // glyph = (c + delta) mod 65536: linear on each side of where it wraps
      const wrap = 0x10000 - delta;
      addWithGlyphs(ranges, first, Math.min(last, wrap - 1), delta, glyphs);
      addWithGlyphs(ranges, Math.max(first, wrap), last, delta - 0x10000, glyphs);
      continue;
    }
    for (let c = first; c <= last; c++) {
      // the offset counts from the idRangeOffset entry itself (OpenType cmap format 4)
      const glyph = table.readUInt16BE(rangeOffsets + 2 * s + rangeOffset + 2 * (c - start));
      const drawn = glyph === 0 ? 0 : (glyph + delta) & 0xffff;
      if (drawn === 0 || drawn >= glyphs) continue;
      const run = ranges.at(-1);
      if (run && run[1] === c - 1) run[1] = c;
      else ranges.push([c, c]);
    }
  }
  return ranges;
}

/** Format 12: groups of consecutive code points on consecutive glyphs, up to U+10FFFF. */
function format12Ranges(table: Buffer, glyphs: number): Array<[number, number]> {
  const ranges: Array<[number, number]> = [];
  const groups = table.readUInt32BE(12);
  for (let g = 0; g < groups; g++) {
    const at = 16 + 12 * g;
    const start = table.readUInt32BE(at);
    const end = Math.min(table.readUInt32BE(at + 4), LAST_CODE_POINT);
    addWithGlyphs(ranges, start, end, table.readUInt32BE(at + 8) - start, glyphs);
  }
  return ranges;
}
