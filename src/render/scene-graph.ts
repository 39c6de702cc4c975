// Compiling a scene into ONE ffmpeg command with ONE encoder. Each still span is
// composed and encoded once, as one IDR picture, and becomes a chunk when the pictures
// that repeat it are appended (repeat-pictures.ts); each motion span is one chunk encoded
// whole. The chunks are joined into one stream numbered frame by frame (so no frame is
// dropped or doubled), keyframes are forced where chunks begin, and the segment muxer
// cuts the encoded stream there into one raw H.264 file per chunk: bytes that join by
// concatenation, in any order, because each begins with an IDR picture and its
// parameter sets. Pure: paths in, arguments out.
import { join } from 'node:path';
import {
  ffmpegColour,
  ffmpegFrameDuration,
  ffmpegRate,
  frameSeconds,
  type NormalizedScene,
  type VisualLayer,
} from '../movie/index.ts';
import { fromRgb, rgbaToYuva, TO_RGB } from './colour.ts';
import { fitFilters } from './fit.ts';
import { CHUNK_EXTENSION, sceneOutputArgs, type Canvas, type EncoderProfile } from './encoder.ts';
import type { LayerInput, ScenePlan } from './plan.ts';
import { layersAt, type Span } from './spans.ts';
import { FilterGraph as Graph, seek } from './filter-graph.ts';

export interface SceneCommand {
  args: string[];
  /** The scene's frames as chunk file names in play order. */
  playlist: string[];
  /**
   * Each chunk file the command writes: the frames the encoder writes into it (1 for a
   * still span) and the frames it holds once its repeated pictures are appended.
   */
  chunks: Array<{ name: string; encoded: number; frames: number }>;
  /** Frames the command encodes, as ffmpeg's progress counts them. */
  encodedFrames: number;
}

export function compileScene(
  plan: ScenePlan,
  canvas: Canvas,
  encoder: EncoderProfile,
  threads: number,
  dir: string,
): SceneCommand {
  // decoders get the encoder's share of the cores too: more only add memory and contention
  const graph = new Graph(threads);
  const stills = stillStreams(graph, plan);
  const chunks = plan.spans.map((span) => {
    const frames = span.end - span.start;
    const encoded = span.kind === 'motion' ? frames : 1;
    return { label: composeSpan(graph, span, encoded, plan, canvas, stills), encoded, frames };
  });

  // frame n of the scene's stream is at n / fps whatever timestamps the pieces brought; the
  // spans, composed in 4:4:4, become 4:2:0 together, once
  const [stream] = graph.chain(
    chunks.map((c) => c.label),
    `concat=n=${chunks.length}:v=1:a=0,settb=${ffmpegFrameDuration(canvas.fps)},setpts=N,${TO_420}`,
  );
  const starts = chunks.map((_, i) => chunks.slice(0, i).reduce((sum, c) => sum + c.encoded, 0));
  const stillStarts = starts.filter((_, i) => chunks[i].encoded < chunks[i].frames);
  const encodedFrames = chunks.reduce((sum, c) => sum + c.encoded, 0);
  const name = (i: number) => `chunk${String(i).padStart(4, '0')}${CHUNK_EXTENSION}`;
  const args = [
    ...graph.inputArgs,
    '-filter_complex',
    graph.chains.join(';'),
    '-map',
    `[${stream}]`,
    ...sceneOutputArgs(encoder, canvas, encodedFrames, threads, starts.slice(1), stillStarts),
    `file:${join(dir, `chunk%04d${CHUNK_EXTENSION}`)}`,
  ];
  return {
    args,
    playlist: chunks.map((_, i) => name(i)),
    chunks: chunks.map((c, i) => ({ name: name(i), encoded: c.encoded, frames: c.frames })),
    encodedFrames,
  };
}

/** A command for one frame of a scene as a PNG, composed exactly as the scene's video is. */
export function compileFrame(plan: ScenePlan, frame: number, canvas: Canvas, pngPath: string): string[] {
  const graph = new Graph();
  const span: Span = {
    kind: 'motion',
    start: frame,
    end: frame + 1,
    layers: layersAt(plan.scene, frame).filter((l) => plan.inputs.has(l.id)),
  };
  const stills = stillStreams(graph, { ...plan, spans: [span] });
  // to 4:2:0 and back to RGB as a browser decodes the video, so the preview is what it shows
  const [rgb] = graph.chain([composeSpan(graph, span, 1, plan, canvas, stills)], `${TO_420},${TO_RGB}`);
  return [
    ...graph.inputArgs,
    '-filter_complex',
    graph.chains.join(';'),
    '-map',
    `[${rgb}]`,
    '-frames:v',
    '1',
    '-f',
    'image2',
    '-c:v',
    'png',
    `file:${pngPath}`,
  ];
}

/**
 * Reads each still layer (a fitted picture, a text raster) once, with its opacity, and
 * splits it for every span that shows it. Returns per-layer queues of stream labels.
 */
function stillStreams(graph: Graph, plan: ScenePlan): Map<VisualLayer, string[]> {
  const uses = new Map<VisualLayer, number>();
  for (const span of plan.spans)
    for (const l of span.layers) if (l.type !== 'video') uses.set(l, (uses.get(l) ?? 0) + 1);
  const streams = new Map<VisualLayer, string[]>();
  for (const [layer, count] of uses) {
    const input = inputOf(plan, layer);
    // a picture comes fitted and in the output's YUV already (fitted-picture.ts); a text raster is RGBA
    const filters = ['trim=end_frame=1'];
    if (layer.type === 'text') filters.push(rgbaToYuva([fromRgb('yuva444p')], [], `t${streams.size}`));
    if (layer.type === 'image' && layer.opacity < 1) filters.push(`lutyuv=a=val*${layer.opacity}`);
    if (count > 1) filters.push(`split=${count}`);
    streams.set(layer, graph.chain([graph.input(input)], filters.join(','), count));
  }
  return streams;
}

/** The span's picture over `frames` frames (1 for a still span): base colour, then layers in order. */
function composeSpan(
  graph: Graph,
  span: Span,
  frames: number,
  plan: ScenePlan,
  canvas: Canvas,
  stills: Map<VisualLayer, string[]>,
): string {
  const scene: NormalizedScene = plan.scene;
  // one frame of the colour, made as RGB (the color source's own YUV is BT.601) and converted once;
  // layers are placed on it in 4:4:4, so they land on any pixel (the scene becomes 4:2:0 once,
  // at the end: about 2 % more CPU than placing a 1080p video in 4:2:0)
  let [picture] = graph.chain(
    [],
    `color=c=${ffmpegColour(scene.bgColor)}:s=${canvas.width}x${canvas.height}:r=${ffmpegRate(canvas.fps)},format=rgb24,trim=end_frame=1,${fromRgb('yuv444p')}` +
      (frames > 1 ? `,${repeatFilter(frames, canvas.fps)}` : ''),
  );
  for (const layer of span.layers) {
    // the layer's frames within this output: [from, to)
    const from = Math.max(layer.startFrame, span.start) - span.start;
    const to = Math.min(layer.endFrame, span.end) - span.start;
    const window =
      from === 0 && to >= frames
        ? ''
        : `:enable='between(t,${frameSeconds(from - 0.5, canvas.fps)},${frameSeconds(to - 0.5, canvas.fps)})'`;
    const overlayStream =
      layer.type === 'video' ? videoStream(graph, layer, span, from, to, plan, canvas) : stills.get(layer)!.shift()!;
    // the stream holds what the canvas shows of the layer (fit.ts)
    const { at } = inputOf(plan, layer).placement;
    [picture] = graph.chain([picture, overlayStream], `overlay=x=${at.x}:y=${at.y}:format=yuv444${window}`);
  }
  return picture;
}

/** A video layer trimmed, conformed to the movie's fps, fitted, and placed at its first frame. */
function videoStream(
  graph: Graph,
  layer: VisualLayer & { type: 'video' },
  span: Span,
  from: number,
  to: number,
  plan: ScenePlan,
  canvas: Canvas,
): string {
  const input = inputOf(plan, layer);
  const skipped = frameSeconds(Math.max(0, span.start - layer.startFrame), canvas.fps);
  const at = sourcePosition(layer.trimStart + skipped, input.duration, layer.loop, canvas.fps);
  const { before, cut } = seek(input, input.start, at);
  const read = input.read!;
  const filters = [
    ...read.decoded,
    // time 0 becomes `at` on the source's clock (shared with its sound); each movie frame shows
    // the source frame nearest to it, the first one held if the picture starts later
    `setpts=PTS-(${cut})/TB`,
    `fps=${ffmpegRate(canvas.fps)}:start_time=0`,
    `trim=end_frame=${to - from}`,
    ...read.beforeFit,
    ...fitFilters(input.placement, read.conversion),
    ...(layer.opacity < 1 ? ['format=yuva444p', `lutyuv=a=val*${layer.opacity}`] : []),
    `setpts=PTS+${from}/(${ffmpegRate(canvas.fps)}*TB)`,
  ];
  return graph.chain(
    [graph.input(input, [...(layer.loop ? ['-stream_loop', '-1'] : []), ...before, ...read.inputArgs])],
    filters.join(','),
  )[0];
}

/**
 * Where in a video source (seconds from its start) to start reading for a span that begins `position` seconds in:
 * past the end, a looping source has wrapped round (a loop restarts from 0), and any other
 * holds its last frame, as the video does.
 */
export function sourcePosition(position: number, duration: number | undefined, loop: boolean, fps: number): number {
  if (duration === undefined || position < duration) return position;
  return loop ? (position - duration) % duration : Math.max(0, duration - frameSeconds(1, fps));
}

/** The output's chroma: the picture, composed in 4:4:4, converted once. */
const TO_420 = 'format=yuv420p';

/** The base colour repeated with its own timestamps: a motion span's overlays and windows are timed against them. */
function repeatFilter(frames: number, fps: number): string {
  return `loop=loop=${frames - 1}:size=1:start=0,setpts=N/(${ffmpegRate(fps)}*TB)`;
}

function inputOf(plan: ScenePlan, layer: VisualLayer): LayerInput {
  return plan.inputs.get(layer.id)!;
}
