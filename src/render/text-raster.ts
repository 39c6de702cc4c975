// A text layer drawn by Skia into a transparent PNG the size of its box (or of the part of
// it asked for); the scene graph overlays it like any still image. Opacity is baked into
// the pixels. Only lines that can show in what is drawn are drawn (and, top-aligned, laid out).
import { writeFile } from 'node:fs/promises';
import { createCanvas } from '@napi-rs/canvas';
import { cssColour, type TextLayer } from '../movie/index.ts';
import type { Face } from './font-fallback.ts';
import { fontsForText } from './fonts.ts';
import { linesAbove, placeLines, TAB_SPACES, tabbed, tabbedWidth, wrapText } from './text-layout.ts';
import { type Region, wholeBox } from './visible-region.ts';

const ZWSP = '\u200b';

/**
 * Draws the layer with the bundled fonts (after `own`, the font from its fontUrl) and writes a
 * PNG of `region` (default: the whole box); returns the code points no font had, drawn as
 * missing-glyph boxes.
 */
export async function rasterizeText(
  layer: TextLayer,
  own: Face | undefined,
  path: string,
  region: Region = wholeBox(layer),
): Promise<{ missing: number[] }> {
  const fonts = fontsForText(layer.text, layer.fontWeight, own);
  const canvas = createCanvas(Math.max(1, region.width), Math.max(1, region.height));
  const ctx = canvas.getContext('2d');
  ctx.translate(-region.x, -region.y);
  ctx.globalAlpha = layer.opacity;
  if (layer.backgroundColor) {
    ctx.fillStyle = cssColour(layer.backgroundColor);
    ctx.fillRect(0, 0, layer.width, layer.height);
  }
  ctx.font = `${layer.fontWeight} ${layer.fontSize}px ${fonts.faces.map((face) => `"${face.family}"`).join(', ')}`;
  ctx.textAlign = layer.textAlign;
  ctx.textBaseline = 'alphabetic';
  // 'auto' shapes an emoji ZWJ sequence that starts with a text-default character (❤️‍🔥, 🏳️‍🌈) as two emoji
  ctx.textRendering = 'optimizeLegibility';
  ctx.fillStyle = cssColour(layer.color);
  const metrics = ctx.measureText('Hg');
  const ascent = metrics.fontBoundingBoxAscent || layer.fontSize * 0.8;
  const descent = metrics.fontBoundingBoxDescent || layer.fontSize * 0.2;
  // a glyph may reach past the font's ascent and descent (stacked marks, tall emoji): a line counts as seen a font size further out
  const [top, bottom] = [region.y - ascent - layer.fontSize, region.y + region.height + descent + layer.fontSize];
  const shown = linesAbove(bottom, layer, ascent, descent);
  // zero-width spaces are kept for wrapping (a break opportunity) and never drawn
  const measure = (s: string) => ctx.measureText(s.replaceAll(ZWSP, '')).width;
  const tabStop = TAB_SPACES * measure(' ');
  const lines = wrapText(fonts.text, layer.width - 2 * layer.padding, (s) => tabbedWidth(s, measure, tabStop), shown);
  for (const line of placeLines(lines, layer, ascent, descent)) {
    if (line.y <= top || line.y >= bottom) continue;
    if (!line.text.includes('\t')) {
      ctx.fillText(line.text.replaceAll(ZWSP, ''), line.x, line.y);
      continue;
    }
    // tab stops count from the line's start, wherever the alignment puts it
    const { pieces, width } = tabbed(line.text, measure, tabStop);
    const start = line.x - width * { left: 0, center: 0.5, right: 1 }[layer.textAlign];
    ctx.textAlign = 'left';
    for (const piece of pieces) if (piece.text) ctx.fillText(piece.text.replaceAll(ZWSP, ''), start + piece.x, line.y);
    ctx.textAlign = layer.textAlign;
  }
  await writeFile(path, await canvas.encode('png'));
  return { missing: fonts.missing };
}
