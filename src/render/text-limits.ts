// What the text threads may take: how many there are, how long one text layer may take to
// lay out and draw, their heap, and the fontUrl fonts they keep. Light on purpose (no Skia):
// the CLI's settings read the defaults from here at start.
import { availableParallelism } from 'node:os';

export interface TextLimits {
  /** Worker threads that lay out and draw text layers. */
  threads: number;
  /** One text layer's layout and drawing, its font read, at most; past it the layer fails. */
  drawSeconds: number;
  /** A text thread's JavaScript heap, at most: a text that needs more fails its layer, never the process. */
  threadHeapMb: number;
  /** fontUrl fonts kept registered for the layers that use them again, all threads together (bytes of their files). */
  fontBytes: number;
  /** One fontUrl file, at most: a larger one fails its layer (the largest CJK fonts are 20-30 MB; a fetched source may be a gigabyte). */
  fontFileBytes: number;
}

export const DEFAULT_TEXT_LIMITS: TextLimits = {
  threads: Math.min(2, availableParallelism()),
  drawSeconds: 30,
  threadHeapMb: 256,
  fontBytes: 32 * 2 ** 20,
  fontFileBytes: 64 * 2 ** 20,
};
