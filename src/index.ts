// `import ... from 'reelsmith'`: the engine as a library. A Movie is checked (validateMovie),
// normalized (normalizeMovie: defaults, frames), rendered (renderMovie) or previewed
// (renderFrame); `Movie` is both its type and its JSON Schema. The HTTP client is
// `reelsmith/client`.
export {
  Movie,
  Scene,
  Layer,
  validateMovie,
  normalizeMovie,
  formatProblem,
  MovieError,
  type ValidateOptions,
  type NormalizeOptions,
  type NormalizedMovie,
  type Problem,
  type ProblemReport,
} from './movie/index.ts';
export {
  renderMovie,
  renderFrame,
  LayerSourceError,
  AbortedError,
  FfmpegTimeoutError,
  BinaryUnavailableError,
  type RenderOptions,
  type RenderResult,
  type RenderProgress,
  type RenderPhase,
  type MediaData,
} from './render/index.ts';
