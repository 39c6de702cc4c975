// The render module's public surface: whole-movie rendering for the CLI, and the steps
// (plan, scene, audio, assemble) the job service composes with its own bookkeeping.
export { renderMovie, type RenderOptions, type RenderResult, type MediaData } from './render-movie.ts';
export { renderFrame } from './render-frame.ts';
export { planMovie, LayerSourceError, ENGINE_VERSION, type MoviePlan, type ScenePlan } from './plan.ts';
export { renderScene } from './render-scene.ts';
export { renderAudio } from './audio-mix.ts';
export { assemble } from './assemble.ts';
export { DEFAULT_ENCODER, checkEncoder, type EncoderProfile } from './encoder.ts';
export { progressOf, type RenderProgress, type RenderPhase } from './progress.ts';
export { PRESET_WORKERS, sceneWorkers, threadsPerProcess, type QualityPreset } from './workers.ts';
export { bundledFontFiles } from './fonts.ts';
// what the job service needs of media, so that jobs/ depends on render/ alone
export { SourceStore, AbortedError, postJson, urlRefusal, networkPolicyFromEnv, type NetworkPolicy, type FetchLimits } from '../media/index.ts';
