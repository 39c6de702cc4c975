// The jobs module's public surface.
export { RenderService, type ServiceOptions } from './render-service.ts';
export { QualityPresetName, RenderRequest, requestProblems, type RequestPolicy } from './render-request.ts';
export { Accounts } from './accounts.ts';
export { ANSWERS, FAILURES, ServiceError, type AnswerCode, type ErrorCode, type FailureCode } from './errors.ts';
export { downloadName } from './output-key.ts';
export { checkReadiness, type Readiness } from './readiness.ts';
export { DataFolderInUse, lockDataFolder } from './data-folder-lock.ts';
export { createPrivately, keepPrivate } from './private-files.ts';
export { JobStore, type SubmitLimits, type SubmitOutcome, type Usage } from './job-store.ts';
export {
  DELIVERY_STATUSES,
  PHASES,
  SCENE_STATES,
  STATUSES,
  isTerminal,
  type Phase,
  type Status,
  type SceneState,
} from './job-state.ts';
export { databaseFile, type JobRow, type JobEvent, type AccountRow, type ProjectRow } from './database.ts';
// the presets' worker counts, for the API's plan checks
export { DEFAULT_PRESET, PRESET_WORKERS, sceneWorkers, type QualityPreset } from '../render/index.ts';
