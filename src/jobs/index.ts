// The jobs module's public surface.
export { RenderService, type ServiceOptions } from './render-service.ts';
export { RenderRequest, requestProblems, type RequestPolicy } from './render-request.ts';
export { QualityPresetName } from './quality-preset.ts';
export { Accounts } from './accounts.ts';
export { StorageFullError } from './disk-space.ts';
export { downloadName } from './output-key.ts';
export { checkReadiness, type Readiness } from './readiness.ts';
export { DataFolderInUse, lockDataFolder } from './data-folder-lock.ts';
export { createPrivately, keepPrivate } from './private-files.ts';
export { JobStore, type SubmitLimits, type SubmitOutcome, type Usage } from './job-store.ts';
export { PHASES, isTerminal, type Phase, type Status, type SceneState } from './job-state.ts';
export { databaseFile, type JobRow, type JobEvent, type AccountRow, type ProjectRow } from './database.ts';
// the presets' worker counts, for the API's plan checks
export { DEFAULT_PRESET, PRESET_WORKERS, sceneWorkers, type QualityPreset } from '../render/index.ts';
