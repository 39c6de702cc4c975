// Colours as the Movie writes them (#rgb, #rgba, #rrggbb, #rrggbbaa) parsed to RGBA.

export interface Rgba {
  r: number;
  g: number;
  b: number;
  /** 0..1 */
  a: number;
}

export function parseColour(text: string): Rgba | undefined {
  const m = /^#([0-9a-f]{3,4}|[0-9a-f]{6}|[0-9a-f]{8})$/i.exec(text.trim());
  if (!m) return undefined;
  let hex = m[1];
  if (hex.length <= 4) hex = [...hex].map((c) => c + c).join('');
  const byte = (i: number) => parseInt(hex.slice(i, i + 2), 16);
  return { r: byte(0), g: byte(2), b: byte(4), a: hex.length === 8 ? byte(6) / 255 : 1 };
}

/**
 * The form ffmpeg's colour options take, 0xRRGGBB, of the colour composited over black: a
 * scene's background has nothing under it, so its alpha darkens it as it would over a black player.
 */
export function ffmpegColour(c: Rgba): string {
  const over = (v: number) =>
    Math.round(v * c.a)
      .toString(16)
      .padStart(2, '0');
  return `0x${over(c.r)}${over(c.g)}${over(c.b)}`;
}

/** The form a canvas fillStyle takes. */
export function cssColour(c: Rgba): string {
  return `rgba(${c.r},${c.g},${c.b},${c.a})`;
}
