// A validated Movie with every default filled in and every time turned into frames.
// The engine only ever sees a NormalizedMovie.
import { isAbsolute, resolve } from 'node:path';
import { parseColour, type Rgba } from './colour.ts';
import { MovieError } from './problems.ts';
import type { Fit, Layer, Movie, Scene } from './schema.ts';
import { layerFrameRange, sceneOffsets, toFrames } from './timeline.ts';
import { validateMovie, type ValidateOptions } from './validate.ts';
import { isHttpUrl } from './rules.ts';
import { DEFAULTS } from './defaults.ts';

interface LayerBase {
  id: string;
  /** Position in the scene's layers array: breaks zIndex ties. */
  index: number;
  zIndex: number;
  /** Frames of the scene on which the layer is visible or audible: [startFrame, endFrame). */
  startFrame: number;
  endFrame: number;
  x: number;
  y: number;
  width: number;
  height: number;
  opacity: number;
}

export interface TextLayer extends LayerBase {
  type: 'text';
  text: string;
  fontSize: number;
  fontWeight: number;
  fontFamily: string;
  fontUrl?: string;
  color: Rgba;
  backgroundColor?: Rgba;
  padding: number;
  textAlign: 'left' | 'center' | 'right';
  verticalAlign: 'top' | 'middle' | 'bottom';
  lineHeight: number;
}

export interface ImageLayer extends LayerBase {
  type: 'image';
  source: string;
  fit: Fit;
}

export interface VideoLayer extends LayerBase {
  type: 'video';
  source: string;
  fit: Fit;
  trimStart: number;
  loop: boolean;
  mute: boolean;
  volume: number;
}

export interface AudioLayer extends LayerBase {
  type: 'audio';
  source: string;
  trimStart: number;
  loop: boolean;
  volume: number;
  fadeIn: number;
  fadeOut: number;
}

export type NormalizedLayer = TextLayer | ImageLayer | VideoLayer | AudioLayer;
export type VisualLayer = TextLayer | ImageLayer | VideoLayer;

export interface NormalizedScene {
  id: string;
  name?: string;
  index: number;
  frames: number;
  /** First frame of the scene on the movie's timeline. */
  offset: number;
  bgColor: Rgba;
  /** In compositing order: ascending zIndex, ties in array order. */
  layers: NormalizedLayer[];
}

export interface NormalizedMovie {
  id?: string;
  title?: string;
  width: number;
  height: number;
  fps: number;
  frames: number;
  scenes: NormalizedScene[];
}

export interface NormalizeOptions extends ValidateOptions {
  /** Folder that relative local sources are read from (the movie file's folder). */
  baseDir?: string;
}

/** Validates and normalizes; throws MovieError listing every problem. */
export function normalizeMovie(
  input: unknown,
  options: NormalizeOptions = { allowLocalFiles: false },
): NormalizedMovie {
  const { problems } = validateMovie(input, options);
  if (problems.length > 0) throw new MovieError(problems);
  const movie = input as Movie;
  const fps = movie.fps ?? DEFAULTS.fps;
  const width = movie.width ?? DEFAULTS.width;
  const height = movie.height ?? DEFAULTS.height;
  const frames = movie.scenes.map((s) => toFrames(s.duration, fps));
  const offsets = sceneOffsets(frames);
  const scenes = movie.scenes.map(
    (scene, index): NormalizedScene => ({
      id: scene.id,
      name: scene.name,
      index,
      frames: frames[index],
      offset: offsets[index],
      bgColor: colour(scene.bgColor ?? DEFAULTS.bgColor),
      layers: (scene.layers ?? [])
        .map((layer, li) => normalizeLayer(layer, li, scene, frames[index], { fps, width, height }, options))
        .sort((a, b) => a.zIndex - b.zIndex || a.index - b.index),
    }),
  );
  return {
    id: movie.id,
    title: movie.title,
    width,
    height,
    fps,
    frames: frames.reduce((a, b) => a + b, 0),
    scenes,
  };
}

function normalizeLayer(
  layer: Layer,
  index: number,
  scene: Scene,
  sceneFrames: number,
  canvas: { fps: number; width: number; height: number },
  options: NormalizeOptions,
): NormalizedLayer {
  const startTime = layer.startTime ?? 0;
  const range = layerFrameRange(startTime, layer.duration ?? scene.duration - startTime, canvas.fps, sceneFrames);
  const [x, width] = pixelSpan(layer.position?.x ?? 0, layer.size?.width ?? canvas.width);
  const [y, height] = pixelSpan(layer.position?.y ?? 0, layer.size?.height ?? canvas.height);
  const base: LayerBase = {
    id: layer.id,
    index,
    zIndex: layer.zIndex ?? 0,
    startFrame: range.start,
    endFrame: range.end,
    x,
    y,
    width,
    height,
    opacity: layer.transform?.opacity ?? DEFAULTS.opacity,
  };
  const source = layer.source === undefined ? '' : resolveSource(layer.source, options.baseDir);
  const media = { trimStart: layer.trimStart ?? 0, loop: layer.loop ?? false, volume: layer.volume ?? DEFAULTS.volume };
  switch (layer.type) {
    case 'text':
      return {
        ...base,
        type: 'text',
        text: layer.text ?? '',
        fontSize: layer.fontSize ?? DEFAULTS.fontSize,
        fontWeight: weight(layer.fontWeight ?? DEFAULTS.fontWeight),
        fontFamily: layer.fontFamily ?? DEFAULTS.fontFamily,
        fontUrl: layer.fontUrl === undefined ? undefined : resolveSource(layer.fontUrl, options.baseDir),
        color: colour(layer.color ?? DEFAULTS.color),
        backgroundColor: layer.backgroundColor === undefined ? undefined : colour(layer.backgroundColor),
        padding: layer.padding ?? DEFAULTS.padding,
        textAlign: layer.textAlign ?? DEFAULTS.textAlign,
        verticalAlign: layer.verticalAlign ?? DEFAULTS.verticalAlign,
        lineHeight: layer.lineHeight ?? DEFAULTS.lineHeight,
      };
    case 'image':
      return { ...base, type: 'image', source, fit: layer.fit ?? DEFAULTS.fit };
    case 'video':
      return { ...base, ...media, type: 'video', source, fit: layer.fit ?? DEFAULTS.fit, mute: layer.mute ?? false };
    case 'audio':
      return { ...base, ...media, type: 'audio', source, fadeIn: layer.fadeIn ?? 0, fadeOut: layer.fadeOut ?? 0 };
  }
}

function weight(w: string): number {
  return w === 'normal' ? 400 : w === 'bold' ? 700 : Number(w);
}

function colour(text: string): Rgba {
  // validateMovie has already rejected anything parseColour cannot read
  return parseColour(text)!;
}

function resolveSource(source: string, baseDir: string | undefined): string {
  if (isHttpUrl(source) || baseDir === undefined || isAbsolute(source)) return source;
  return resolve(baseDir, source);
}

export function isVisual(layer: NormalizedLayer): layer is VisualLayer {
  return layer.type !== 'audio';
}

/** Where the movie has a layer, as messages name it: `movie.scenes[0].layers[2]`. */
export function layerPath(sceneIndex: number, layerIndex: number): string {
  return `movie.scenes[${sceneIndex}].layers[${layerIndex}]`;
}

/** A visual layer's box, and where the movie has it (`movie.scenes[0].layers[2]`). */
export interface LayerBox {
  id: string;
  path: string;
  width: number;
  height: number;
}

/** Every visual layer's box. */
export function layerBoxes(movie: NormalizedMovie): LayerBox[] {
  return movie.scenes.flatMap((scene) =>
    scene.layers
      .filter(isVisual)
      .map(({ id, index, width, height }) => ({ id, path: layerPath(scene.index, index), width, height })),
  );
}

/**
 * The pixels a box covers along one axis, as start and length: from round(position) to
 * round(position + size), so its edges are where the Movie puts them and a size under half
 * a pixel may cover none.
 */
export function pixelSpan(position: number, size: number): [number, number] {
  const start = Math.round(position);
  return [start, Math.round(position + size) - start];
}
