// A quality preset's name as a schema, from the one table of presets (render/workers.ts):
// on its own so the plans file can be checked without loading the movie schema.
import { Type } from '@sinclair/typebox';
import { describePresets, QUALITY_PRESETS } from '../render/workers.ts';

/** A quality preset's name, from the one table of presets. */
export const QualityPresetName = Type.Union(
  QUALITY_PRESETS.map((name) => Type.Literal(name)),
  { description: `parallel scene workers: ${describePresets()}; the plan says which it allows` },
);
