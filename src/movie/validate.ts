// Validation: the schema's type errors and the semantic rules, every problem at once,
// each with its JSON path and a plain sentence.
import type { TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { ValueErrorType, type ValueError } from '@sinclair/typebox/errors';
import { Movie } from './schema.ts';
import { pointerToPath, type Problem } from './problems.ts';
import { semanticProblems, type SourcePolicy } from './rules.ts';

export interface ValidateOptions extends SourcePolicy {}

export function validateMovie(input: unknown, options: ValidateOptions = { allowLocalFiles: false }): Problem[] {
  return dedupe([...schemaProblems(Movie, input), ...semanticProblems(input, options)]);
}

/** A value's type errors against any schema, as problems with paths under `root` ('' for none). */
export function schemaProblems(schema: TSchema, input: unknown, root = 'movie'): Problem[] {
  return [...Value.Errors(schema, input)].map((e) => ({ path: pointerToPath(e.path, root).replace(/^\./, '') || '(body)', message: sentence(e) }));
}

/** One sentence per problem: a missing field is reported as missing, not also as mistyped. */
function dedupe(problems: Problem[]): Problem[] {
  const seen = new Set<string>();
  const missing = new Set(problems.filter((p) => p.message === 'is required').map((p) => p.path));
  return problems.filter((p) => {
    if (missing.has(p.path) && p.message !== 'is required') return false;
    const key = `${p.path}\0${p.message}`;
    return seen.has(key) ? false : (seen.add(key), true);
  });
}

function sentence(e: ValueError): string {
  const s = e.schema as Record<string, unknown>;
  switch (e.type) {
    case ValueErrorType.ObjectRequiredProperty:
      return 'is required';
    case ValueErrorType.ObjectAdditionalProperties:
      return 'is not a known property';
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
      const options = ((s.anyOf as Array<{ const?: unknown }>) ?? []).map((o) => JSON.stringify(o.const));
      return `must be one of ${options.join(', ')}`;
    }
    default:
      return e.message.replace(/^Expected/, 'must be');
  }
}
