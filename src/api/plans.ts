// Plans and their limits, from a JSON config file (config/plans.json unless told otherwise).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { SubmitLimits } from '../jobs/index.ts';
import { QualityPresetName } from '../jobs/quality-preset.ts';

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
export type Plans = Record<string, Plan>;

export const DEFAULT_PLANS_FILE = join(import.meta.dirname, '../../config/plans.json');

export function loadPlans(path = DEFAULT_PLANS_FILE): Plans {
  const json = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  for (const [id, plan] of Object.entries(json)) {
    const error = Value.Errors(Plan, plan).First();
    if (error) throw new Error(`${path}: plan "${id}"${error.path.replace(/\//g, '.')}: ${error.message}`);
  }
  return json as Plans;
}

export function fitsResolution(plan: Plan, width: number, height: number): boolean {
  const { width: w, height: h } = plan.maxResolution;
  return (width <= w && height <= h) || (width <= h && height <= w);
}

export function submitLimits(plan: Plan): SubmitLimits {
  const seconds = (minutes: number | null) => (minutes === null ? null : minutes * 60);
  return {
    concurrentJobs: plan.concurrentJobs,
    monthlySeconds: seconds(plan.monthlyMinutes),
    dailySeconds: seconds(plan.dailyMinutes),
  };
}
