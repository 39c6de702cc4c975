// Validation: the schema's type errors and the semantic rules, each with its JSON path and a
// plain sentence, found lazily so that listing and counting them stops at PROBLEM_CAPS.
import type { TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { Value } from '@sinclair/typebox/value';
import { ValueErrorType, type ValueError } from '@sinclair/typebox/errors';
import { Movie, MOVIE_LIMITS } from './schema.ts';
import { PROBLEM_CAPS, pointerParts, pointerToPath, type Problem, type ProblemReport } from './problems.ts';
import { isObj, semanticProblems, type SourcePolicy } from './rules.ts';
import { closest } from './suggest.ts';

export interface ValidateOptions extends SourcePolicy {}

/** The Movie schema compiled: checks a valid movie many times faster than walking it for errors. */
const movieTypes = TypeCompiler.Compile(Movie);

/** The movie's problems: the first PROBLEM_CAPS.listed, and how many there are. */
export function validateMovie(input: unknown, options: ValidateOptions = { allowLocalFiles: false }): ProblemReport {
  return collectProblems(movieProblems(input, options));
}

/**
 * Every problem of a movie, lazily, in document order: type errors, then the rules. A movie
 * with more scenes or layers than the schema allows is not looked into further: its size is
 * the problem, and walking it would cost whatever work the sender chose.
 */
export function* movieProblems(input: unknown, options: ValidateOptions): Generator<Problem> {
  const oversized = [...oversizedLists(input)];
  if (oversized.length > 0) return yield* oversized;
  if (!movieTypes.Check(input)) yield* schemaProblems(Movie, input);
  yield* semanticProblems(input, options);
}

/** A value's type errors against any schema, lazily, as problems with paths under `root` ('' for none). */
export function* schemaProblems(schema: TSchema, input: unknown, root = 'movie'): Generator<Problem> {
  for (const e of Value.Errors(schema, input))
    yield { path: pointerToPath(e.path, root).replace(/^\./, '') || '(body)', message: sentence(e) };
}

/**
 * Lists and counts problems up to PROBLEM_CAPS, one sentence per problem: each once, and a
 * missing field reported as missing, not also as mistyped (the schema reports it as missing first).
 */
export function collectProblems(found: Iterable<Problem>): ProblemReport {
  const problems: Problem[] = [];
  const seen = new Set<string>();
  const missing = new Set<string>();
  for (const p of found) {
    if (p.message === 'is required') missing.add(p.path);
    else if (missing.has(p.path)) continue;
    const key = `${p.path}\0${p.message}`;
    if (seen.has(key)) continue;
    if (seen.size === PROBLEM_CAPS.counted) return { problems, total: seen.size, countStopped: true };
    seen.add(key);
    if (problems.length < PROBLEM_CAPS.listed) problems.push(p);
  }
  return { problems, total: seen.size, countStopped: false };
}

/** Scene and layer lists longer than the schema allows (at most one per scene, so bounded). */
function* oversizedLists(movie: unknown): Generator<Problem> {
  const scenes = isObj(movie) && Array.isArray(movie.scenes) ? movie.scenes : [];
  if (scenes.length > MOVIE_LIMITS.scenes)
    return yield tooMany('movie.scenes', scenes.length, MOVIE_LIMITS.scenes, 'scenes');
  for (let i = 0; i < scenes.length; i++) {
    const layers: unknown = isObj(scenes[i]) ? scenes[i].layers : undefined;
    if (Array.isArray(layers) && layers.length > MOVIE_LIMITS.layersPerScene) {
      yield tooMany(`movie.scenes[${i}].layers`, layers.length, MOVIE_LIMITS.layersPerScene, 'layers');
    }
  }
}

function tooMany(path: string, count: number, max: number, what: string): Problem {
  return {
    path,
    message: `must have at most ${max.toLocaleString('en-US')} ${what} (it has ${count.toLocaleString('en-US')})`,
  };
}

/** `; did you mean "fontWeight"?` when one of the known names is close to the one given, else nothing. */
function didYouMean(given: string, known: string[]): string {
  const meant = closest(given, known);
  return meant === undefined ? '' : `; did you mean ${JSON.stringify(meant)}?`;
}

function sentence(e: ValueError): string {
  const s = e.schema as Record<string, unknown>;
  switch (e.type) {
    case ValueErrorType.ObjectRequiredProperty:
      return 'is required';
    case ValueErrorType.ObjectAdditionalProperties: {
      const name = pointerParts(e.path).at(-1) ?? '';
      return `is not a known property${didYouMean(name, Object.keys((s.properties as object) ?? {}))}`;
    }
    case ValueErrorType.Number:
      return 'must be a number';
    case ValueErrorType.Integer:
      return 'must be a whole number';
    case ValueErrorType.String:
      return 'must be a string';
    case ValueErrorType.Boolean:
      return 'must be true or false';
    case ValueErrorType.Object:
      return 'must be an object';
    case ValueErrorType.Array:
      return 'must be an array';
    case ValueErrorType.ArrayMinItems:
      return `must have at least ${s.minItems} item${s.minItems === 1 ? '' : 's'}`;
    case ValueErrorType.NumberExclusiveMinimum:
    case ValueErrorType.IntegerExclusiveMinimum:
      return `must be greater than ${s.exclusiveMinimum}`;
    case ValueErrorType.NumberMinimum:
    case ValueErrorType.IntegerMinimum:
      return `must be at least ${s.minimum}`;
    case ValueErrorType.NumberMaximum:
    case ValueErrorType.IntegerMaximum:
      return `must be at most ${s.maximum}`;
    case ValueErrorType.NumberMultipleOf:
    case ValueErrorType.IntegerMultipleOf:
      return s.multipleOf === 2 ? 'must be an even number' : `must be a multiple of ${s.multipleOf}`;
    case ValueErrorType.StringMinLength:
      return 'must not be empty';
    case ValueErrorType.StringMaxLength:
      return `must be at most ${s.maxLength} characters`;
    case ValueErrorType.Union: {
      const kinds = (s.anyOf as Array<Record<string, unknown>>) ?? [];
      // a range and a list (fps: 1..120 or an NTSC rate): say both
      const range = kinds.find((o) => o.type === 'integer');
      if (range) {
        const listed = kinds.filter((o) => 'const' in o).map((o) => JSON.stringify(o.const));
        return `must be a whole number from ${range.minimum} to ${range.maximum} or one of ${listed.join(', ')}`;
      }
      const options = kinds.map((o) => o.const);
      const names = options.filter((o): o is string => typeof o === 'string');
      const hint = typeof e.value === 'string' ? didYouMean(e.value, names) : '';
      return `must be one of ${options.map((o) => JSON.stringify(o)).join(', ')}${hint}`;
    }
    default:
      return e.message.replace(/^Expected/, 'must be');
  }
}
