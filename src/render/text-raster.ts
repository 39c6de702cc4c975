// A text layer drawn by Skia into a transparent PNG the size of its box; the scene
// graph overlays it like any still image. Opacity is baked into the pixels.
import { writeFile } from 'node:fs/promises';
import { createCanvas } from '@napi-rs/canvas';
import { cssColour, type TextLayer } from '../movie/index.ts';
import { loadBundledFonts } from './fonts.ts';
import { placeLines, wrapText } from './text-layout.ts';

/** Draws the layer in `family` (the bundled font, or one loaded from fontUrl) and writes a PNG. */
export async function rasterizeText(layer: TextLayer, family: string, path: string): Promise<void> {
  loadBundledFonts();
  const canvas = createCanvas(Math.max(1, layer.width), Math.max(1, layer.height));
  const ctx = canvas.getContext('2d');
  ctx.globalAlpha = layer.opacity;
  if (layer.backgroundColor) {
    ctx.fillStyle = cssColour(layer.backgroundColor);
    ctx.fillRect(0, 0, layer.width, layer.height);
  }
  ctx.font = `${layer.fontWeight} ${layer.fontSize}px "${family}"`;
  ctx.textAlign = layer.textAlign;
  ctx.textBaseline = 'alphabetic';
  ctx.fillStyle = cssColour(layer.color);
  const metrics = ctx.measureText('Hg');
  const ascent = metrics.fontBoundingBoxAscent || layer.fontSize * 0.8;
  const descent = metrics.fontBoundingBoxDescent || layer.fontSize * 0.2;
  const lines = wrapText(layer.text, layer.width - 2 * layer.padding, (s) => ctx.measureText(s).width);
  for (const line of placeLines(lines, layer, ascent, descent)) ctx.fillText(line.text, line.x, line.y);
  await writeFile(path, await canvas.encode('png'));
}
