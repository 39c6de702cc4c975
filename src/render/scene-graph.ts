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
import { type Conversion, fromRgb, rgbaToYuva, TO_RGB } from './colour.ts';
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
  const chroma = chromaOf(plan);
  const stills = stillStreams(graph, plan, chroma);
  const chunks = plan.spans.map((span) => {
    const frames = span.end - span.start;
    const encoded = span.kind === 'motion' ? frames : 1;
    return { label: composeSpan(graph, span, encoded, plan, canvas, stills, chroma), encoded, frames };
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
  const chroma = chromaOf(plan);
  const stills = stillStreams(graph, { ...plan, spans: [span] }, chroma);
  // to 4:2:0 and back to RGB as a browser decodes the video, so the preview is what it shows
  const [rgb] = graph.chain([composeSpan(graph, span, 1, plan, canvas, stills, chroma)], `${TO_420},${TO_RGB}`);
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
function stillStreams(graph: Graph, plan: ScenePlan, chroma: Chroma): Map<VisualLayer, string[]> {
  const uses = new Map<VisualLayer, number>();
  for (const span of plan.spans)
    for (const l of span.layers) if (l.type !== 'video') uses.set(l, (uses.get(l) ?? 0) + 1);
  const streams = new Map<VisualLayer, string[]>();
  for (const [layer, count] of uses) {
    const input = inputOf(plan, layer);
    // a picture comes fitted and in the output's YUV already (fitted-picture.ts); a text raster is RGBA
    const filters = ['trim=end_frame=1'];
    if (layer.type === 'text') filters.push(rgbaToYuva([fromRgb(chroma.layer)], [], `t${streams.size}`));
    // a picture is kept in 4:4:4; a 4:2:0 scene converts it once, not in every span
    if (layer.type === 'image' && chroma.layer !== 'yuva444p') filters.push(`format=${chroma.layer}`);
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
  chroma: Chroma,
): string {
  const scene: NormalizedScene = plan.scene;
  // one frame of the colour, made as RGB (the color source's own YUV is BT.601) and converted once,
  // in the scene's chroma (chromaOf)
  let [picture] = graph.chain(
    [],
    `color=c=${ffmpegColour(scene.bgColor)}:s=${canvas.width}x${canvas.height}:r=${ffmpegRate(canvas.fps)},format=rgb24,trim=end_frame=1,${fromRgb(chroma.base)}` +
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
      layer.type === 'video'
        ? videoStream(graph, layer, span, from, to, plan, canvas, chroma)
        : stills.get(layer)!.shift()!;
    // the stream holds what the canvas shows of the layer (fit.ts)
    const { at } = inputOf(plan, layer).placement;
    [picture] = graph.chain([picture, overlayStream], `overlay=x=${at.x}:y=${at.y}${chroma.overlay}${window}`);
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
  chroma: Chroma,
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
    // the fit's scale pass writes the scene's chroma: a 4:2:0 scene converts no frame twice
    ...fitFilters(input.placement, inChroma(read.conversion, chroma)),
    ...(layer.opacity < 1 ? [`format=${chroma.layer}`, `lutyuv=a=val*${layer.opacity}`] : []),
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

/** The output's chroma: a scene composed in 4:4:4 converted once (nothing to do for one composed in 4:2:0). */
const TO_420 = 'format=yuv420p';

/** How a scene is composed: the base picture's format, the layers', and the overlay's option. */
interface Chroma {
  base: 'yuv420p' | 'yuv444p';
  layer: 'yuva420p' | 'yuva444p';
  overlay: string;
}

/**
 * 4:2:0, the output's own, when every layer of the scene lands on even pixels (where ffmpeg's
 * 4:2:0 overlay puts a layer exactly), else 4:4:4, which places a layer on any pixel: a still
 * span at 1080p costs about 40 ms more in 4:4:4 (bench T1, T2, T4), so it is paid only where
 * a position needs it.
 */
function chromaOf(plan: ScenePlan): Chroma {
  const even = [...plan.inputs.values()].every(({ placement: { at } }) => at.x % 2 === 0 && at.y % 2 === 0);
  return even
    ? { base: 'yuv420p', layer: 'yuva420p', overlay: '' }
    : { base: 'yuv444p', layer: 'yuva444p', overlay: ':format=yuv444' };
}

/** A source's conversion writing the scene's chroma (the conversions write 4:4:4, with or without alpha). */
function inChroma(conversion: Conversion, chroma: Chroma): Conversion {
  const subsampling = chroma.base === 'yuv420p' ? '420' : '444';
  return {
    ...conversion,
    after: conversion.after.map((f) => f.replace(/^format=(yuva?)444p$/, `format=$1${subsampling}p`)),
  };
}

/** The base colour repeated with its own timestamps: a motion span's overlays and windows are timed against them. */
function repeatFilter(frames: number, fps: number): string {
  return `loop=loop=${frames - 1}:size=1:start=0,setpts=N/(${ffmpegRate(fps)}*TB)`;
}

function inputOf(plan: ScenePlan, layer: VisualLayer): LayerInput {
  return plan.inputs.get(layer.id)!;
}
