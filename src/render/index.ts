// The render module's public surface.
export { renderMovie, type RenderOptions, type RenderResult, type MediaData } from './render-movie.ts';
export { renderFrame } from './render-frame.ts';
export { DEFAULT_ENCODER, checkEncoder, type EncoderProfile } from './encoder.ts';
export { LayerSourceError, ENGINE_VERSION } from './plan.ts';
export type { RenderProgress, RenderPhase } from './progress.ts';
export { PRESET_WORKERS, sceneWorkers, type QualityPreset } from './workers.ts';
export { bundledFontFiles } from './fonts.ts';
