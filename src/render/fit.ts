// Fitting a picture or a video into a layer's box, converting its colour on the way. Pure.
import type { Fit } from '../movie/index.ts';
import type { Conversion } from './colour.ts';

/**
 * ffmpeg filters that fit media into a width x height box, converting its colour in the
 * same `scale` pass (`colour.scale` are that pass's options, `colour.after` follow it).
 * Contain pads with transparent black, the same YUV in every matrix.
 */
export function fitFilter(fit: Fit, width: number, height: number, colour: Conversion): string {
  const then = colour.after.join(',');
  switch (fit) {
    case 'fill':
      return `scale=${width}:${height}:${colour.scale},${then}`;
    case 'cover':
      return `scale=${width}:${height}:force_original_aspect_ratio=increase:${colour.scale},${then},crop=${width}:${height}`;
    case 'contain':
      return `scale=${width}:${height}:force_original_aspect_ratio=decrease:${colour.scale},${then},format=yuva420p,pad=${width}:${height}:(ow-iw)/2:(oh-ih)/2:color=black@0`;
  }
}
