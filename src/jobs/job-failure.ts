// Why a job failed, as its owner is told: one code of the catalogue (jobs/errors.ts) and a
// message, from whatever the run threw. The one mapping from errors to failure codes.
import {
  BinaryUnavailableError,
  FfmpegTimeoutError,
  isDiskFull,
  LayerSourceError,
  PictureFitError,
  SourceTooLarge,
  WorkBudgetError,
} from '../render/index.ts';
import { StorageError, StorageUnavailableError } from '../storage/index.ts';
import { DISK_FULL_WHILE_RENDERING } from './disk-space.ts';
import type { FailureCode } from './errors.ts';
import { SceneTaskFailed } from './scene-coordinator.ts';

export interface Failure {
  code: FailureCode;
  /** For the tenant: names their layers and URLs, never our paths. */
  message: string;
  /** For the server's log only, when the operator has something to fix (it may name our paths). */
  log?: string;
}

export function failureOf(err: unknown): Failure {
  // a full disk is told as such, whatever part of the work hit it
  if (isDiskFull(err)) return { code: 'INSUFFICIENT_STORAGE', message: DISK_FULL_WHILE_RENDERING };
  if (err instanceof LayerSourceError) return { code: layerFailureCode(err.cause), message: err.message };
  if (err instanceof WorkBudgetError) return { code: 'SOURCE_TOO_LARGE', message: err.message };
  // told by the worker it failed on, as it would have been told here
  if (err instanceof SceneTaskFailed) return err.failure;
  if (err instanceof FfmpegTimeoutError) return { code: 'RENDER_TIMEOUT', message: err.message };
  // which bucket and endpoint are the operator's to know
  if (err instanceof StorageUnavailableError)
    return {
      code: 'STORAGE_UNAVAILABLE',
      message: `Object storage could not be reached (${err.attempts} tries); submit the job again later`,
      log: err.message,
    };
  if (err instanceof StorageError)
    return {
      code: 'RENDER_FAILED',
      message: 'The server could not store the output (its log says why)',
      log: err.message,
    };
  if (err instanceof BinaryUnavailableError)
    return {
      code: 'RENDER_FAILED',
      message: `The server cannot run ${err.program} (its log says why)`,
      log: err.message,
    };
  return { code: 'RENDER_FAILED', message: (err as Error).message ?? String(err) };
}

/** A layer's failure: its source too large, unavailable, or (read, then not fitted) the render's own. */
function layerFailureCode(cause: unknown): FailureCode {
  if (cause instanceof SourceTooLarge) return 'SOURCE_TOO_LARGE';
  return cause instanceof PictureFitError ? 'RENDER_FAILED' : 'SOURCE_UNAVAILABLE';
}
