// Compiling a scene into ONE ffmpeg command. Each still span is composed once on a
// one-frame yuv420p base, repeated by the loop filter, and encoded as a short chunk
// that the segment list plays again and again; each motion span is encoded whole.
// Pure: paths in, arguments out.
import { ffmpegColour, type Fit, type NormalizedScene, type VisualLayer } from '../movie/index.ts';
import { videoOutputArgs, type EncoderProfile } from './encoder.ts';
import type { LayerInput, ScenePlan } from './plan.ts';
import { stillChunks, type Span } from './spans.ts';
import { FilterGraph as Graph, seek } from './filter-graph.ts';

export interface Canvas {
  width: number;
  height: number;
  fps: number;
}

export interface SceneCommand {
  args: string[];
  /** The scene's frames as chunk files in play order (a chunk may appear many times). */
  playlist: string[];
  /** Frames of the first output, the one ffmpeg's progress counts. */
  progressFrames: number;
}

export function compileScene(
  plan: ScenePlan,
  canvas: Canvas,
  encoder: EncoderProfile,
  threads: number,
  chunkPath: (name: string) => string,
): SceneCommand {
  const graph = new Graph();
  const stills = stillStreams(graph, plan);
  const outputs: Array<{ label: string; frames: number; path: string }> = [];
  const playlist: string[] = [];

  plan.spans.forEach((span, s) => {
    if (span.kind === 'motion') {
      const label = composeSpan(graph, span, span.end - span.start, plan, canvas, stills);
      const path = chunkPath(`span${s}`);
      outputs.push({ label, frames: span.end - span.start, path });
      playlist.push(path);
      return;
    }
    const { unit, repeat, rest } = stillChunks(span.end - span.start, canvas.fps);
    const frame = composeSpan(graph, span, 1, plan, canvas, stills);
    const [forUnit, forRest] = rest > 0 ? graph.chain([frame], 'split=2', 2) : [frame];
    const unitPath = chunkPath(`span${s}-unit`);
    outputs.push({ label: repeatFrame(graph, forUnit, unit, canvas.fps), frames: unit, path: unitPath });
    playlist.push(...Array<string>(repeat).fill(unitPath));
    if (rest > 0) {
      const restPath = chunkPath(`span${s}-rest`);
      outputs.push({ label: repeatFrame(graph, forRest, rest, canvas.fps), frames: rest, path: restPath });
      playlist.push(restPath);
    }
  });

  // the longest output first: ffmpeg's progress reports frames of the first output
  outputs.sort((a, b) => b.frames - a.frames);
  const args = [
    ...graph.inputArgs,
    '-filter_complex', graph.chains.join(';'),
    ...outputs.flatMap((o) => ['-map', `[${o.label}]`, ...videoOutputArgs(encoder, canvas.fps, o.frames, threads), `file:${o.path}`]),
  ];
  return { args, playlist, progressFrames: outputs[0]?.frames ?? 0 };
}

/** A command for one frame of a scene as a PNG, composed exactly as the scene's video is. */
export function compileFrame(plan: ScenePlan, frame: number, canvas: Canvas, pngPath: string): string[] {
  const graph = new Graph();
  const layers = plan.spans.flatMap((s) => s.layers).filter((l, i, all) => all.indexOf(l) === i && l.startFrame <= frame && frame < l.endFrame);
  const span: Span = { kind: 'motion', start: frame, end: frame + 1, layers };
  const stills = stillStreams(graph, { ...plan, spans: [span] });
  const label = composeSpan(graph, span, 1, plan, canvas, stills);
  return [...graph.inputArgs, '-filter_complex', graph.chains.join(';'), '-map', `[${label}]`, '-frames:v', '1', '-f', 'image2', '-c:v', 'png', `file:${pngPath}`];
}

/**
 * Decodes each still layer (image, text) once, fitted to its box with its opacity, and
 * splits it for every span that shows it. Returns per-layer queues of stream labels.
 */
function stillStreams(graph: Graph, plan: ScenePlan): Map<VisualLayer, string[]> {
  const uses = new Map<VisualLayer, number>();
  for (const span of plan.spans) for (const l of span.layers) if (l.type !== 'video') uses.set(l, (uses.get(l) ?? 0) + 1);
  const streams = new Map<VisualLayer, string[]>();
  for (const [layer, count] of uses) {
    const input = inputOf(plan, layer);
    const filters = ['trim=end_frame=1'];
    if (layer.type === 'image') filters.push(fitFilter(layer.fit, layer.width, layer.height));
    filters.push('format=yuva420p');
    if (layer.type === 'image' && layer.opacity < 1) filters.push(`lutyuv=a=val*${layer.opacity}`);
    if (count > 1) filters.push(`split=${count}`);
    streams.set(layer, graph.chain([graph.input(input.path)], filters.join(','), count));
  }
  return streams;
}

/** The span's picture over `frames` frames (1 for a still span): base colour, then layers in order. */
function composeSpan(graph: Graph, span: Span, frames: number, plan: ScenePlan, canvas: Canvas, stills: Map<VisualLayer, string[]>): string {
  const scene: NormalizedScene = plan.scene;
  let [picture] = graph.chain(
    [],
    `color=c=${ffmpegColour(scene.bgColor)}:s=${canvas.width}x${canvas.height}:r=${canvas.fps},format=yuv420p,trim=end_frame=${frames}`,
  );
  for (const layer of span.layers) {
    // the layer's frames within this output: [from, to)
    const from = Math.max(layer.startFrame, span.start) - span.start;
    const to = Math.min(layer.endFrame, span.end) - span.start;
    const window = from === 0 && to >= frames ? '' : `:enable='between(t,${(from - 0.5) / canvas.fps},${(to - 0.5) / canvas.fps})'`;
    const overlayStream = layer.type === 'video' ? videoStream(graph, layer, span, from, to, plan, canvas) : stills.get(layer)!.shift()!;
    [picture] = graph.chain([picture, overlayStream], `overlay=x=${layer.x}:y=${layer.y}${window}`);
  }
  return picture;
}

/** A video layer trimmed, conformed to the movie's fps, fitted, and placed at its first frame. */
function videoStream(graph: Graph, layer: VisualLayer & { type: 'video' }, span: Span, from: number, to: number, plan: ScenePlan, canvas: Canvas): string {
  const skipped = Math.max(0, span.start - layer.startFrame) / canvas.fps;
  const before = [...(layer.loop ? ['-stream_loop', '-1'] : []), ...seek(layer.trimStart + skipped)];
  const needsAlpha = layer.opacity < 1 || layer.fit === 'contain';
  const filters = [
    'setpts=PTS-STARTPTS',
    `fps=${canvas.fps}`,
    `trim=end_frame=${to - from}`,
    fitFilter(layer.fit, layer.width, layer.height),
    ...(needsAlpha ? ['format=yuva420p'] : []),
    ...(layer.opacity < 1 ? [`lutyuv=a=val*${layer.opacity}`] : []),
    `setpts=PTS+${from}/(${canvas.fps}*TB)`,
  ];
  return graph.chain([graph.input(inputOf(plan, layer).path, before)], filters.join(','))[0];
}

/** One frame played `frames` times at the movie's rate. */
function repeatFrame(graph: Graph, label: string, frames: number, fps: number): string {
  return graph.chain([label], `loop=loop=${frames - 1}:size=1:start=0,setpts=N/(${fps}*TB)`)[0];
}

/** ffmpeg filters that fit media into a width x height box. */
export function fitFilter(fit: Fit, width: number, height: number): string {
  switch (fit) {
    case 'fill':
      return `scale=${width}:${height}`;
    case 'cover':
      return `scale=${width}:${height}:force_original_aspect_ratio=increase,crop=${width}:${height}`;
    case 'contain':
      return `scale=${width}:${height}:force_original_aspect_ratio=decrease,format=yuva420p,pad=${width}:${height}:(ow-iw)/2:(oh-ih)/2:color=black@0`;
  }
}

function inputOf(plan: ScenePlan, layer: VisualLayer): LayerInput {
  return plan.inputs.get(layer.id)!;
}
