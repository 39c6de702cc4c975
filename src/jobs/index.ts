// The jobs module's public surface: the service (its methods are the whole of what the API
// and the CLI do with jobs, accounts and outputs), and the vocabulary they share with it.
export { RenderService, type ServiceOptions, type Submission, type Submitted } from './render-service.ts';
export { RenderWorker, type WorkerOptions } from './render-worker.ts';
export { leasesOf } from './leases.ts';
export { RenderRequest, requestProblems, type RequestPolicy } from './render-request.ts';
export { QualityPresetName } from './quality-preset.ts';
export { Plan } from './plan.ts';
export { ANSWERS, FAILURES, ServiceError, type AnswerCode, type ErrorCode, type FailureCode } from './errors.ts';
export type { Job, JobMessage } from './job-view.ts';
export type { Delivery } from './webhooks.ts';
export type { Usage } from './job-store.ts';
export type { Readiness } from './readiness.ts';
export type { RequestCount } from './request-counts.ts';
export { downloadName } from './output-key.ts';
export { clockNow } from './clock.ts';
export { DataFolderInUse, lockDataFolder } from './data-folder-lock.ts';
export { createPrivately, keepPrivate } from './private-files.ts';
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
export { databaseFile, isDatabaseUnavailable, type AccountRow } from './database.ts';
