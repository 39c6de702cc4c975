// A plan's limits, and what a submit is checked against under it: the canvas, the length,
// the preset and its workers, then (in the store's transaction) concurrent jobs and minutes.
// The API looks up which plan an account is on; the checks and what the tenant reads when one
// refuses are here, for every way a job is submitted. Light on purpose (the presets' table, no
// movie schema or render graph): the CLI checks a plans file at start.
import { type Static, Type } from '@sinclair/typebox';
import type { LayerBox } from '../movie/index.ts';
import { PRESET_WORKERS, type QualityPreset } from '../render/workers.ts';
import { ServiceError } from './errors.ts';
import type { LimitRefusal, SubmitLimits } from './job-store.ts';
import { QualityPresetName } from './quality-preset.ts';

const Nullable = (description: string) =>
  Type.Union([Type.Number({ minimum: 0 }), Type.Null()], { description: `${description}; null: no limit` });

export const Plan = Type.Object({
  name: Type.String(),
  apiAccess: Type.Boolean({ description: 'may render through the API' }),
  maxResolution: Type.Object({ width: Type.Integer(), height: Type.Integer() }, { description: 'either orientation' }),
  maxDurationMinutes: Nullable('longest movie'),
  monthlyMinutes: Nullable('render minutes per calendar month (UTC)'),
  dailyMinutes: Nullable('render minutes per day, reset at midnight UTC'),
  concurrentJobs: Nullable('jobs queued or running at once'),
  requestsPerMinute: Type.Integer({ minimum: 1 }),
  presets: Type.Array(QualityPresetName),
});
export type Plan = Static<typeof Plan>;

/**
 * A layer's box may be larger than the canvas (a photo panned past its edges), up to this
 * many times the plan's maximum resolution on each side: only the part the canvas shows is
 * rasterised, but pictures and videos are scaled to the whole box first.
 */
export const LAYER_BOX_SCALE = 2;

function fitsResolution(plan: Plan, width: number, height: number, scale = 1): boolean {
  const [w, h] = [plan.maxResolution.width * scale, plan.maxResolution.height * scale];
  return (width <= w && height <= h) || (width <= h && height <= w);
}

/** What the store checks atomically with the reservation, in seconds. */
export function submitLimits(plan: Plan): SubmitLimits {
  const seconds = (minutes: number | null) => (minutes === null ? null : minutes * 60);
  return {
    concurrentJobs: plan.concurrentJobs,
    monthlySeconds: seconds(plan.monthlyMinutes),
    dailySeconds: seconds(plan.dailyMinutes),
  };
}

/** Why `plan` does not take a movie of this canvas and length at this preset and worker count, if it does not. */
export function planRefusal(
  plan: Plan,
  movie: { width: number; height: number; seconds: number; boxes: LayerBox[] },
  preset: QualityPreset,
  workers: number,
): ServiceError | undefined {
  const max = plan.maxResolution;
  if (!fitsResolution(plan, movie.width, movie.height))
    return new ServiceError(
      'PLAN_RESOLUTION_EXCEEDED',
      `${movie.width}x${movie.height} exceeds the ${plan.name} plan's maximum of ${max.width}x${max.height}`,
    );
  const box = movie.boxes.find((b) => !fitsResolution(plan, b.width, b.height, LAYER_BOX_SCALE));
  if (box)
    return new ServiceError(
      'PLAN_RESOLUTION_EXCEEDED',
      `layer "${box.id}" (${box.path}) is ${box.width}x${box.height}; the ${plan.name} plan allows layer boxes up to ${max.width * LAYER_BOX_SCALE}x${max.height * LAYER_BOX_SCALE} (${LAYER_BOX_SCALE} times its maximum resolution)`,
    );
  if (plan.maxDurationMinutes !== null && movie.seconds > plan.maxDurationMinutes * 60)
    return new ServiceError(
      'PLAN_DURATION_EXCEEDED',
      `The movie lasts ${movie.seconds.toFixed(1)} s; the ${plan.name} plan allows ${plan.maxDurationMinutes} min per job`,
    );
  const maxWorkers = Math.max(...plan.presets.map((p) => PRESET_WORKERS[p]));
  if (!plan.presets.includes(preset) || workers > maxWorkers)
    return new ServiceError(
      'PRESET_NOT_ALLOWED',
      `The ${plan.name} plan allows presets ${plan.presets.join(', ')} (at most ${maxWorkers} workers)`,
    );
  return undefined;
}

/** What the tenant reads when the store refused a submit under `plan`. */
export function limitRefusal(plan: Plan, code: LimitRefusal): ServiceError {
  switch (code) {
    case 'CONCURRENCY_LIMIT_EXCEEDED':
      return new ServiceError(
        code,
        `The ${plan.name} plan runs at most ${plan.concurrentJobs} jobs at once. Wait for a job to complete.`,
      );
    case 'RENDER_QUOTA_EXCEEDED':
      return new ServiceError(
        code,
        `This job would pass the ${plan.name} plan's ${plan.monthlyMinutes} render minutes this month`,
      );
    case 'RENDER_QUOTA_DAILY_EXCEEDED':
      return new ServiceError(
        code,
        `This job would pass the ${plan.name} plan's ${plan.dailyMinutes} render minutes today. Resets at midnight UTC.`,
      );
    case 'IDEMPOTENCY_KEY_REUSED':
      return new ServiceError(code, 'This Idempotency-Key was used with a different request body');
  }
}
