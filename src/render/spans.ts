// A scene's timeline as spans between layer events. The picture is constant inside a
// `still` span (no video plays), so it is composed and encoded once and then repeated;
// a `motion` span (some video visible) is encoded frame by frame.
import { isVisual, type NormalizedScene, type VisualLayer } from '../movie/index.ts';

export interface Span {
  kind: 'still' | 'motion';
  /** Frames [start, end) of the scene. */
  start: number;
  end: number;
  /** Visual layers visible somewhere in the span, in compositing order. */
  layers: VisualLayer[];
}

/** The scene's spans, of the layers `shown` (default: every layer that lasts a frame or more). */
export function sceneSpans(scene: NormalizedScene, shown: (layer: VisualLayer) => boolean = () => true): Span[] {
  const visuals = scene.layers
    .filter(isVisual)
    .filter((l) => l.endFrame > l.startFrame)
    .filter(shown);
  const cuts = new Set([0, scene.frames]);
  for (const l of visuals) cuts.add(l.startFrame).add(l.endFrame);
  const bounds = [...cuts].sort((a, b) => a - b);

  const spans: Span[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) {
    const [start, end] = [bounds[i], bounds[i + 1]];
    const layers = visuals.filter((l) => l.startFrame <= start && l.endFrame >= end);
    const kind = layers.some((l) => l.type === 'video') ? 'motion' : 'still';
    const last = spans.at(-1);
    if (kind === 'motion' && last?.kind === 'motion') {
      // consecutive motion spans are one encode; layers keep their own windows
      last.end = end;
      last.layers = visuals.filter((l) => l.startFrame < end && l.endFrame > last.start);
    } else {
      spans.push({ kind, start, end, layers });
    }
  }
  return spans;
}

/** The layers visible on one frame of the scene, in compositing order. */
export function layersAt(scene: NormalizedScene, frame: number): VisualLayer[] {
  return scene.layers.filter(isVisual).filter((l) => l.startFrame <= frame && frame < l.endFrame);
}
