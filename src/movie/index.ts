// The movie module's public surface.
export * from './schema.ts';
export * from './problems.ts';
export * from './colour.ts';
export * from './timeline.ts';
export { collectProblems, movieProblems, schemaProblems, validateMovie, type ValidateOptions } from './validate.ts';
export * from './normalize.ts';
export { DEFAULTS } from './defaults.ts';
export { BUNDLED_FONT, isHttpUrl } from './rules.ts';
