// Rules beyond one field's type: unique ids, layers inside their scene, colours,
// required fields per layer type, and where sources may come from.
// Written over unknown input so that they report alongside type errors.
import { parseColour } from './colour.ts';
import { DEFAULTS } from './defaults.ts';
import { quote, shown, type Problem } from './problems.ts';
import { LAYER_NEEDS } from './schema.ts';
import { isFps, toFrames } from './timeline.ts';

export interface SourcePolicy {
  /** Local file paths are accepted only from the CLI; the service reads URLs only. */
  allowLocalFiles: boolean;
}

type Obj = Record<string, unknown>;
export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export const BUNDLED_FONT = DEFAULTS.fontFamily;
const VISUAL = new Set(['text', 'image', 'video']);

/** The rule problems of a movie, lazily and in document order (the caller may stop early). */
export function* semanticProblems(movie: unknown, policy: SourcePolicy): Generator<Problem> {
  if (!isObj(movie)) return yield { path: 'movie', message: 'must be an object' };
  // a rate the schema refuses is reported there; scenes are measured at the default meanwhile
  const fps = isFps(movie.fps) ? movie.fps : DEFAULTS.fps;
  const sceneIds = new Map<string, number>();
  const scenes = Array.isArray(movie.scenes) ? movie.scenes : [];

  for (let si = 0; si < scenes.length; si++) {
    const scene: unknown = scenes[si];
    if (!isObj(scene)) continue;
    const at = `movie.scenes[${si}]`;
    yield* uniqueId(scene.id, si, sceneIds, `${at}.id`, 'scene');
    yield* colour(scene.bgColor, `${at}.bgColor`);
    const duration = typeof scene.duration === 'number' ? scene.duration : undefined;
    if (duration !== undefined && duration > 0 && toFrames(duration, fps) < 1) {
      yield { path: `${at}.duration`, message: `is shorter than one frame at ${fps} fps` };
    }

    const layerIds = new Map<string, number>();
    const layers = Array.isArray(scene.layers) ? scene.layers : [];
    for (let li = 0; li < layers.length; li++) {
      const layer: unknown = layers[li];
      if (!isObj(layer)) continue;
      const lat = `${at}.layers[${li}]`;
      yield* uniqueId(layer.id, li, layerIds, `${lat}.id`, 'layer in this scene');
      const start = typeof layer.startTime === 'number' ? layer.startTime : 0;
      if (duration !== undefined && duration > 0 && start >= duration) {
        yield { path: `${lat}.startTime`, message: `must be less than the scene's duration (${duration} s)` };
      }
      yield* colour(layer.color, `${lat}.color`);
      yield* colour(layer.backgroundColor, `${lat}.backgroundColor`);
      const type = layer.type;
      if (typeof type === 'string' && Object.hasOwn(LAYER_NEEDS, type)) {
        const needed = LAYER_NEEDS[type as keyof typeof LAYER_NEEDS];
        if (layer[needed] === undefined)
          yield {
            path: `${lat}.${needed}`,
            message: `is required for ${/^[aeiou]/.test(type) ? 'an' : 'a'} ${type} layer`,
          };
      }
      if (typeof type === 'string' && VISUAL.has(type) && isObj(layer.size)) {
        for (const side of ['width', 'height'] as const) {
          if (layer.size[side] === 0)
            yield { path: `${lat}.size.${side}`, message: `must be greater than 0 for a ${type} layer` };
        }
      }
      if (typeof layer.fontFamily === 'string' && layer.fontFamily !== BUNDLED_FONT && layer.fontUrl === undefined) {
        yield {
          path: `${lat}.fontFamily`,
          message: `${quote(layer.fontFamily)} is not bundled (only "${BUNDLED_FONT}" is); give fontUrl to use it`,
        };
      }
      yield* source(layer.source, `${lat}.source`, policy);
      yield* source(layer.fontUrl, `${lat}.fontUrl`, policy);
    }
  }
}

function* uniqueId(
  id: unknown,
  index: number,
  seen: Map<string, number>,
  path: string,
  what: string,
): Generator<Problem> {
  if (typeof id !== 'string' || id === '') return; // the schema reports missing ids
  // ids are names shown back in errors and stored as text (Postgres text holds no NUL)
  if (/[\u0000-\u001f\u007f]/.test(id)) {
    yield { path, message: `${quote(id)} has a control character; an id is a name, e.g. "intro" or "logo-1"` };
    return;
  }
  const first = seen.get(id);
  if (first === undefined) seen.set(id, index);
  else yield { path, message: `${quote(id)} is already used by another ${what} (index ${first})` };
}

function* colour(value: unknown, path: string): Generator<Problem> {
  if (typeof value === 'string' && !parseColour(value)) {
    yield { path, message: `${quote(value)} is not a colour; use #rgb, #rgba, #rrggbb or #rrggbbaa` };
  }
}

function* source(value: unknown, path: string, policy: SourcePolicy): Generator<Problem> {
  if (typeof value !== 'string' || value === '') return;
  const url = parseUrl(value);
  if (url) {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      yield {
        path,
        message: `${quote(value)} uses ${shown(url.protocol.slice(0, -1))}: only http and https URLs are allowed`,
      };
    } else if (!isHttpUrl(value)) {
      yield { path, message: `${quote(value)} must start with http:// or https://` };
    }
    return;
  }
  if (!policy.allowLocalFiles) yield { path, message: `${quote(value)} must be an http or https URL` };
}

/** The one test of "this source is a URL" that normalizing and fetching also use. */
export function isHttpUrl(value: string): boolean {
  return /^https?:\/\//i.test(value);
}

/** A URL with a scheme (more than one letter, so Windows drive letters stay paths). */
function parseUrl(value: string): URL | undefined {
  if (!/^[a-z][a-z0-9+.-]+:/i.test(value)) return undefined;
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}
