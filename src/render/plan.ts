// Planning: every source fetched and probed once, text rasterized, each scene's spans
// and cache key worked out, and the movie's audio tracks placed on the global timeline.
import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { layerPath, type NormalizedMovie, type NormalizedScene, type VisualLayer } from '../movie/index.ts';
import {
  asVideo,
  ffmpegFeatures,
  FORMATS,
  PICTURE_DEMUXER,
  PictureFitError,
  SourceRefusal,
  type LocalSource,
  type MediaInfo,
  type SourceStore,
} from '../media/index.ts';
import { APNG_LOOPS, WebpVideos } from './animated-webp.ts';
import type { SourceColour } from './colour.ts';
import type { EncoderProfile } from './encoder.ts';
import type { SourceFile } from './filter-graph.ts';
import { type Placement, placeSource } from './fit.ts';
import { FittedPictures } from './fitted-picture.ts';
import { missingGlyphs } from './font-fallback.ts';
import { bundledFontPackages } from './fonts.ts';
import { ScenePool } from './scene-pool.ts';
import { missingFeatures, type SourceFilters, sourceFilters } from './source-filters.ts';
import { sceneSpans, type Span } from './spans.ts';
import { TextDrawError, textPool } from './text-pool.ts';
import { visibleRegion } from './visible-region.ts';
import { rasterBytes, WorkBudget } from './work-budget.ts';

/** The placement of a picture no frame shows: a pixel, enough for its strict decode. */
const PIXEL: Placement = {
  scaled: { width: 1, height: 1 },
  cut: { x: 0, y: 0, width: 1, height: 1 },
  at: { x: 0, y: 0 },
};

/** Scenes whose sources are fetched, probed and rasterized at once. */
const PLANNED_AT_ONCE = 4;

/** Bumped whenever the engine's output for the same scene would change. */
export const ENGINE_VERSION = 5;

export class LayerSourceError extends Error {
  constructor(
    readonly sceneIndex: number,
    readonly layerIndex: number,
    readonly layerId: string,
    readonly source: string,
    readonly reason: string,
    /** `cause`: the source's own error (a SourceTooLarge is told as SOURCE_TOO_LARGE). */
    options?: ErrorOptions,
  ) {
    super(`layer "${layerId}" (${layerPath(sceneIndex, layerIndex)}): ${source}: ${reason}`, options);
    this.name = 'LayerSourceError';
  }
}

/** A visual layer with the file the scene graph reads for it (source, or text raster) and its demuxer. */
export interface LayerInput extends SourceFile {
  layer: VisualLayer;
  /** Content digest of that file. */
  digest: string;
  /** Seconds from the source's start (its earliest stream's) to the end of its video, when the container says. */
  duration?: number;
  /** A video's colour, to convert it from. */
  colour?: SourceColour;
  /** Transparent pixels that must stay so through the fit (a video's alpha; pictures and text keep theirs anyway). */
  hasAlpha?: boolean;
  /** How a video is decoded and read before its fit: alpha, deinterlacing, tone mapping (source-filters.ts). */
  read?: SourceFilters;
  /** The source's start: its container's start time, the timestamp that trimStart and every position count from (0 for pictures and text). */
  start: number;
  /** What shows of the layer and where: all the file holds of a picture or text (their `cut`), what is read, scaled and cut of a video. */
  placement: Placement;
}

export interface ScenePlan {
  scene: NormalizedScene;
  spans: Span[];
  inputs: Map<string, LayerInput>;
  /** Scene cache key: same key, same encoded frames. */
  key: string;
}

export interface AudioTrack extends SourceFile {
  layerId: string;
  channels: number;
  /** The source's start (its container's start time), and seconds from there to its first sound: 0.48 for sound that starts after the picture. */
  start: number;
  audioStart: number;
  trimStart: number;
  loop: boolean;
  /** First frame on the movie's timeline, and length in frames. */
  startFrame: number;
  frames: number;
  volume: number;
  fadeIn: number;
  fadeOut: number;
}

export interface MoviePlan {
  movie: NormalizedMovie;
  scenes: ScenePlan[];
  /** Things the user should know that do not stop the render (characters no font has), in scene and layer order. */
  warnings: string[];
}

export interface PlanContext {
  store: SourceStore;
  /** Where text rasters are written. */
  workDir: string;
  encoder: EncoderProfile;
  /** Pictures decoded at once (default: this machine's cores). */
  cores?: number;
  /** The disk its work files may take (default: DEFAULT_WORK_DISK_BYTES). */
  budget?: WorkBudget;
  signal?: AbortSignal;
}

/**
 * The movie's sound on the global timeline: every audio layer, and every video layer's own
 * sound, probed (a source is fetched and probed once per render, so planMovie finds them
 * ready). Known before any picture is fitted, so the mix can run while pictures are.
 */
export async function planSound(movie: NormalizedMovie, ctx: PlanContext): Promise<AudioTrack[]> {
  const soundOf = async (scene: NormalizedScene, layer: NormalizedScene['layers'][number]) => {
    if (layer.type !== 'audio' && layer.type !== 'video') return undefined;
    const media = await ctx.store
      .probe(layer.source, ctx.signal)
      .catch((err: Error) => layerFailure(scene, layer, reasonOf(err), err));
    if (layer.type === 'audio' && !media.audio)
      layerFailure(scene, layer, `has no audio stream (${describeMedia(media)})`);
    const heard = layer.endFrame > layer.startFrame && media.audio && !(layer.type === 'video' && layer.mute);
    return heard ? track(layer, scene, media) : undefined;
  };
  // a few scenes at a time, as planMovie: a movie of many video layers does not probe them all at once
  const planning = new ScenePool(PLANNED_AT_ONCE);
  const perScene = await Promise.all(
    movie.scenes.map((scene) =>
      planning.run('sound', PLANNED_AT_ONCE, () => Promise.all(scene.layers.map((layer) => soundOf(scene, layer)))),
    ),
  );
  return perScene
    .flat()
    .filter((t) => t !== undefined)
    .sort((a, b) => a.startFrame - b.startFrame || a.layerId.localeCompare(b.layerId));
}

/** Throws the failure of one layer's source, named by layer id, JSON path and source. */
function layerFailure(
  scene: NormalizedScene,
  layer: NormalizedScene['layers'][number],
  reason: string,
  cause?: Error,
): never {
  const source = layer.type === 'text' ? layer.fontUrl : layer.source;
  throw new LayerSourceError(scene.index, layer.index, layer.id, source ?? '(text)', reason, { cause });
}

export async function planMovie(movie: NormalizedMovie, ctx: PlanContext): Promise<MoviePlan> {
  const warnings: Array<{ scene: number; layer: number; text: string }> = [];
  // scenes plan side by side (fetches and probes overlap), a few at a time
  const planning = new ScenePool(PLANNED_AT_ONCE);
  const budget = ctx.budget ?? new WorkBudget();
  const pictures = new FittedPictures(ctx.workDir, ctx.cores ?? availableParallelism(), budget);
  const webpVideos = new WebpVideos(ctx.workDir, ctx.cores ?? availableParallelism(), budget);
  const planScene = async (scene: NormalizedScene): Promise<ScenePlan> => {
    const inputs = new Map<string, LayerInput>();
    await Promise.all(
      scene.layers.map(async (layer) => {
        const fail = (reason: string): never => layerFailure(scene, layer, reason);
        const named = <T>(pending: Promise<T>) =>
          pending.catch((err: Error) => layerFailure(scene, layer, reasonOf(err), err));
        const where = `layer "${layer.id}" (${layerPath(scene.index, layer.index)})`;
        // every source is fetched and checked, even for a layer too short to show or off the canvas
        const shown = (placement: Placement | undefined): placement is Placement =>
          layer.endFrame > layer.startFrame && placement !== undefined;
        // the engine's own files hold at most a canvas (which may pass the limit on sources' pictures)
        const pixels = movie.width * movie.height;
        switch (layer.type) {
          case 'text': {
            const region = visibleRegion(layer, movie);
            const placement = region && {
              scaled: { width: layer.width, height: layer.height },
              cut: region,
              at: { x: layer.x + region.x, y: layer.y + region.y },
            };
            const visible = shown(placement);
            const font =
              layer.fontUrl === undefined ? undefined : await named(ctx.store.file(layer.fontUrl, ctx.signal));
            const path = join(ctx.workDir, `text-${scene.index}-${layer.index}.png`);
            if (visible) budget.take(rasterBytes(placement.cut), where);
            // on a text thread, under its time limit, only the part of the box the canvas shows;
            // the font of a layer never seen is read all the same
            const own = font && { path: font.path, digest: font.digest };
            const { refused, missing } = await textPool()
              .draw(
                { layer, font: own, out: visible ? path : undefined, region: region ?? PIXEL.cut },
                ctx.workDir,
                ctx.signal,
              )
              .catch((err: Error) => (err instanceof TextDrawError ? fail(err.reason) : Promise.reject(err)));
            if (refused) fail(refused);
            if (!visible) return;
            if (missing.length > 0) {
              const text = `text ${where}: ${missingGlyphs(missing, own !== undefined)}`;
              warnings.push({ scene: scene.index, layer: layer.index, text });
            }
            const digest = digestOf(layer, `${font?.digest ?? ''} ${bundledFontPackages().join(' ')}`);
            inputs.set(layer.id, {
              layer,
              path,
              demuxer: FORMATS.png.demuxer,
              pixels,
              digest,
              start: 0,
              placement,
            });
            return;
          }
          case 'image': {
            const media = await named(ctx.store.probe(layer.source, ctx.signal));
            if (media.format.kind !== 'image') fail(`is not an image (${describeMedia(media)})`);
            const placement = placeSource(layer.fit, layer, media.video!, movie);
            // a picture the canvas never shows is still decoded (strictly), into one pixel only
            const path = await named(pictures.fit(placement ?? PIXEL, media, where, ctx.signal));
            if (shown(placement))
              inputs.set(layer.id, {
                layer,
                path,
                demuxer: PICTURE_DEMUXER,
                pixels,
                digest: media.digest,
                start: 0,
                placement,
              });
            return;
          }
          case 'video': {
            const probed = await named(ctx.store.probe(layer.source, ctx.signal));
            // an animated WebP plays from the APNG its frames are written into (animated-webp.ts)
            const media = probed.animatedWebp
              ? await named(webpVideos.asVideo(probed, where, ctx.signal))
              : asVideo(probed);
            if (!media.video || media.format.kind === 'image') fail(`is not a video (${describeMedia(media)})`);
            const { sampleAspect: aspect, ...size } = media.video!;
            const placement = placeSource(layer.fit, layer, { ...size, aspect }, movie);
            if (!shown(placement)) return;
            const colour = { ...media.video!.colour, height: media.video!.height };
            const read = sourceFilters({ ...media.video!, colour }, layer.opacity < 1);
            if (probed.animatedWebp && layer.loop) read.inputArgs.unshift(...APNG_LOOPS);
            const lacking = read.needs.length > 0 && missingFeatures(read.needs, await named(ffmpegFeatures()));
            if (lacking) fail(lacking);
            for (const note of read.notes)
              warnings.push({ scene: scene.index, layer: layer.index, text: `${where}: ${note}` });
            inputs.set(layer.id, {
              hasAlpha: read.hasAlpha,
              read,
              layer,
              path: media.path,
              demuxer: media.format.demuxer,
              digest: media.digest,
              duration: videoEnd(media),
              start: media.start ?? 0,
              colour,
              placement,
            });
            return;
          }
          case 'audio':
            return; // planSound's
        }
      }),
    );
    const spans = sceneSpans(scene, (layer) => inputs.has(layer.id));
    return { scene, spans, inputs, key: sceneKey(scene, inputs, movie, ctx.encoder) };
  };
  const scenes = await Promise.all(
    movie.scenes.map((scene) => planning.run('plan', PLANNED_AT_ONCE, () => planScene(scene))),
  );
  warnings.sort((a, b) => a.scene - b.scene || a.layer - b.layer);
  return { movie, scenes, warnings: warnings.map((w) => w.text) };
}

function track(
  layer: {
    id: string;
    startFrame: number;
    endFrame: number;
    trimStart: number;
    loop: boolean;
    volume: number;
    fadeIn?: number;
    fadeOut?: number;
  },
  scene: NormalizedScene,
  media: MediaInfo & LocalSource,
): AudioTrack {
  return {
    layerId: layer.id,
    path: media.path,
    demuxer: media.format.demuxer,
    channels: media.audio!.channels,
    start: media.start ?? 0,
    audioStart: sinceStart(media, media.audio!.start),
    trimStart: layer.trimStart,
    loop: layer.loop,
    startFrame: scene.offset + layer.startFrame,
    frames: layer.endFrame - layer.startFrame,
    volume: layer.volume,
    fadeIn: layer.fadeIn ?? 0,
    fadeOut: layer.fadeOut ?? 0,
  };
}

/** Seconds from the source's start to a stream's first timestamp (0 when either is unknown). */
function sinceStart(media: MediaInfo, streamStart: number | undefined): number {
  return media.start === undefined || streamStart === undefined ? 0 : Math.max(0, streamStart - media.start);
}

/** Seconds from the source's start to the end of its video, or the container's length. */
function videoEnd(media: MediaInfo): number | undefined {
  return media.video?.duration === undefined
    ? media.duration
    : sinceStart(media, media.video.start) + media.video.duration;
}

/**
 * Scene cache key: the scene's content, its files' digests in layer order (the order
 * `inputs` was filled in is the order fetches happened to finish, so it is never used),
 * the canvas, the encoder and the engine version.
 */
export function sceneKey(
  scene: NormalizedScene,
  inputs: Map<string, LayerInput>,
  movie: Pick<NormalizedMovie, 'width' | 'height' | 'fps'>,
  encoder: EncoderProfile,
): string {
  const { offset: _offset, index: _index, ...content } = scene;
  const digests = scene.layers.flatMap((l) => {
    const input = inputs.get(l.id);
    return input ? [[l.id, input.digest]] : [];
  });
  const material = JSON.stringify({
    content,
    digests,
    width: movie.width,
    height: movie.height,
    fps: movie.fps,
    encoder,
    ENGINE_VERSION,
  });
  return createHash('sha256').update(material).digest('hex').slice(0, 32);
}

function digestOf(value: unknown, extra = ''): string {
  return createHash('sha256')
    .update(JSON.stringify(value) + extra)
    .digest('hex');
}

/** What a source turned out to be: "PNG image 64x36", "MP3 with audio", "MP4/MOV with video 320x180 and audio". */
function describeMedia(m: MediaInfo): string {
  if (m.format.kind === 'image') return `${m.format.label} image ${m.video!.width}x${m.video!.height}`;
  const parts = [
    m.video ? `video ${m.video.width}x${m.video.height}` : undefined,
    m.audio ? 'audio' : undefined,
  ].filter(Boolean);
  return `${m.format.label} with ${parts.join(' and ') || 'no picture or sound'}`;
}

/** The reason a source failed, as it follows the source in a LayerSourceError; anything else (a cancel) passes through. */
function reasonOf(err: Error): string {
  if (err.name === 'FetchError') return (err as Error & { reason: string }).reason;
  if (err instanceof SourceRefusal || err instanceof PictureFitError) return err.reason;
  throw err;
}
