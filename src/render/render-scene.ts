// One scene to its encoded chunks: ONE ffmpeg process with one encoder, writing into the
// scene's folder; every chunk is finished (a still's repeated pictures appended) and
// counted frame by frame before the scene counts as rendered.
import { join } from 'node:path';
import { failureIn, layerNames, runFfmpeg } from '../media/index.ts';
import { finishChunk } from './finish-chunk.ts';
import type { Canvas, EncoderProfile } from './encoder.ts';
import type { ScenePlan } from './plan.ts';
import { compileScene } from './scene-graph.ts';
import { sceneLimits, type TimeLimits } from './time-limits.ts';

export interface SceneRenderOptions {
  encoder: EncoderProfile;
  threads: number;
  limits: TimeLimits;
  signal?: AbortSignal;
  /** Frames of this scene encoded so far (chunks repeated later count in full). */
  onFrames?: (frames: number) => void;
}

/** Renders the scene's chunks into `dir`; returns the playlist of chunk file names, in play order. */
export async function renderScene(
  plan: ScenePlan,
  canvas: Canvas,
  dir: string,
  options: SceneRenderOptions,
): Promise<string[]> {
  const command = compileScene(plan, canvas, options.encoder, options.threads, dir);
  const frames = plan.scene.frames;
  const scene = `scene "${plan.scene.id}" (movie.scenes[${plan.scene.index}])`;
  // scenes fill the cores around the movie's audio mix, the one step that cannot be split
  await runFfmpeg(command.args, {
    yieldsCpu: true,
    signal: options.signal,
    limits: sceneLimits(options.limits, command.encodedFrames, canvas, options.encoder.preset),
    // the segment muxer names each chunk it writes in `dir`: those are called by the folder's name
    names: new Map([...inputNames(plan), [dir, 'the scene folder']]),
    onFrames: (n) =>
      options.onFrames?.(Math.min(frames, Math.round((n / Math.max(1, command.encodedFrames)) * frames))),
  }).catch(failureIn(scene));
  for (const [i, chunk] of command.chunks.entries()) {
    const found = await finishChunk(join(dir, chunk.name), chunk.frames - chunk.encoded).catch(() => undefined);
    if (found !== chunk.frames)
      throw new SceneFramesError(
        `${scene}: chunk ${i + 1} of ${command.chunks.length} holds ${found ?? 'no readable'} frames, not ${chunk.frames}`,
      );
  }
  options.onFrames?.(frames);
  return command.playlist;
}

/** Each file the scene's graph reads by the layer it belongs to, for ffmpeg's messages. */
export function inputNames(plan: ScenePlan): Map<string, string> {
  return layerNames([...plan.inputs.values()].map((input) => ({ layerId: input.layer.id, path: input.path })));
}

/** A scene whose encoded frames are not the ones planned. */
export class SceneFramesError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SceneFramesError';
  }
}
