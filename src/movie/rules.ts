// Rules beyond one field's type: unique ids, layers inside their scene, colours,
// required fields per layer type, and where sources may come from.
// Written over unknown input so that they report alongside type errors.
import { parseColour } from './colour.ts';
import { DEFAULTS } from './defaults.ts';
import type { Problem } from './problems.ts';

export interface SourcePolicy {
  /** Local file paths are accepted only from the CLI; the service reads URLs only. */
  allowLocalFiles: boolean;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const list = (v: unknown): Obj[] => (Array.isArray(v) ? v.filter(isObj) : []);

export const BUNDLED_FONT = DEFAULTS.fontFamily;
const VISUAL = new Set(['text', 'image', 'video']);
const NEEDS_SOURCE = new Set(['image', 'video', 'audio']);

export function semanticProblems(movie: unknown, policy: SourcePolicy): Problem[] {
  if (!isObj(movie)) return [{ path: 'movie', message: 'must be an object' }];
  const problems: Problem[] = [];
  const fps = typeof movie.fps === 'number' && movie.fps > 0 ? movie.fps : DEFAULTS.fps;
  const sceneIds = new Map<string, number>();

  (Array.isArray(movie.scenes) ? movie.scenes : []).forEach((scene, si) => {
    if (!isObj(scene)) return;
    const at = `movie.scenes[${si}]`;
    uniqueId(scene.id, si, sceneIds, `${at}.id`, 'scene', problems);
    colour(scene.bgColor, `${at}.bgColor`, problems);
    const duration = typeof scene.duration === 'number' ? scene.duration : undefined;
    if (duration !== undefined && duration > 0 && Math.round(duration * fps) < 1) {
      problems.push({ path: `${at}.duration`, message: `is shorter than one frame at ${fps} fps` });
    }

    const layerIds = new Map<string, number>();
    list(scene.layers).forEach((layer, li) => {
      const lat = `${at}.layers[${li}]`;
      uniqueId(layer.id, li, layerIds, `${lat}.id`, 'layer in this scene', problems);
      const start = typeof layer.startTime === 'number' ? layer.startTime : 0;
      if (duration !== undefined && duration > 0 && start >= duration) {
        problems.push({ path: `${lat}.startTime`, message: `must be less than the scene's duration (${duration} s)` });
      }
      colour(layer.color, `${lat}.color`, problems);
      colour(layer.backgroundColor, `${lat}.backgroundColor`, problems);
      const type = layer.type;
      if (type === 'text' && typeof layer.text !== 'string') {
        problems.push({ path: `${lat}.text`, message: 'is required for a text layer' });
      }
      if (typeof type === 'string' && NEEDS_SOURCE.has(type) && layer.source === undefined) {
        problems.push({ path: `${lat}.source`, message: `is required for ${/^[aeiou]/.test(type) ? 'an' : 'a'} ${type} layer` });
      }
      if (typeof type === 'string' && VISUAL.has(type) && isObj(layer.size)) {
        for (const side of ['width', 'height'] as const) {
          if (layer.size[side] === 0) problems.push({ path: `${lat}.size.${side}`, message: `must be greater than 0 for a ${type} layer` });
        }
      }
      if (typeof layer.fontFamily === 'string' && layer.fontFamily !== BUNDLED_FONT && layer.fontUrl === undefined) {
        problems.push({ path: `${lat}.fontFamily`, message: `"${layer.fontFamily}" is not bundled (only "${BUNDLED_FONT}" is); give fontUrl to use it` });
      }
      source(layer.source, `${lat}.source`, policy, problems);
      source(layer.fontUrl, `${lat}.fontUrl`, policy, problems);
    });
  });
  return problems;
}

function uniqueId(id: unknown, index: number, seen: Map<string, number>, path: string, what: string, out: Problem[]) {
  if (typeof id !== 'string' || id === '') return; // the schema reports missing ids
  const first = seen.get(id);
  if (first === undefined) seen.set(id, index);
  else out.push({ path, message: `"${id}" is already used by another ${what} (index ${first})` });
}

function colour(value: unknown, path: string, out: Problem[]) {
  if (typeof value === 'string' && !parseColour(value)) {
    out.push({ path, message: `"${value}" is not a colour; use #rgb, #rgba, #rrggbb or #rrggbbaa` });
  }
}

function source(value: unknown, path: string, policy: SourcePolicy, out: Problem[]) {
  if (typeof value !== 'string' || value === '') return;
  const url = parseUrl(value);
  if (url) {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      out.push({ path, message: `"${value}" uses ${url.protocol.slice(0, -1)}: only http and https URLs are allowed` });
    } else if (!isHttpUrl(value)) {
      out.push({ path, message: `"${value}" must start with http:// or https://` });
    }
    return;
  }
  if (!policy.allowLocalFiles) out.push({ path, message: `"${value}" must be an http or https URL` });
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
