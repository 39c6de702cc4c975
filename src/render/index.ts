// The render module's public surface: one renderMovie for the CLI and the job service
// alike, frame previews, and the pieces the service passes in (a shared pool, a scene store).
export {
  renderMovie,
  type RenderOptions,
  type RenderResult,
  type ScenesOnlyOptions,
  type ScenesResult,
  type SceneStore,
  type SceneState,
} from './render-movie.ts';
export type { SceneDispatch } from './scene-dispatch.ts';
export type { MediaData } from './verify-output.ts';
export { ScenePool } from './scene-pool.ts';
export { renderFrame } from './render-frame.ts';
export { LayerSourceError, ENGINE_VERSION } from './plan.ts';
export { DEFAULT_TIME_LIMITS, type TimeLimits } from './time-limits.ts';
export { DEFAULT_ENCODER, checkEncoder, type EncoderProfile } from './encoder.ts';
export { progressOf, type RenderProgress, type RenderPhase } from './progress.ts';
export {
  CONCURRENCY_RANGE,
  DEFAULT_PRESET,
  describePresets,
  PRESET_WORKERS,
  QUALITY_PRESETS,
  sceneWorkers,
  sharedSceneSlots,
  threadsPerProcess,
  type QualityPreset,
} from './workers.ts';
export { coveredScripts } from './bundled-fonts.ts';
export { bundledFontPackages } from './fonts.ts';
export { setTextLimits } from './text-pool.ts';
export { WorkBudgetError } from './work-budget.ts';
// what the job service needs of media, so that jobs/ depends on render/ alone
export {
  SourceStore,
  SourceTooLarge,
  PictureFitError,
  AbortedError,
  BinaryUnavailableError,
  FfmpegTimeoutError,
  isDiskFull,
  postJson,
  urlRefusal,
  networkPolicyFromEnv,
  ffmpegBinary,
  ffprobeBinary,
  run,
  setProcessLimits,
  type Binary,
  type NetworkPolicy,
  type FetchLimits,
} from '../media/index.ts';
