// Plans and their limits, from a JSON config file (config/plans.json unless told otherwise);
// what a plan allows is checked by jobs/ (jobs/plan.ts).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Value } from '@sinclair/typebox/value';
// jobs/plan.ts is light (no movie schema, no render graph): the CLI checks a plans file at start
import { Plan } from '../jobs/plan.ts';

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
