// How many scenes render at once, and how many threads each ffmpeg gets.

/** Workers for a preset, unless a concurrency is asked for directly. */
export const PRESET_WORKERS = { stable: 2, balanced: 3, fast: 4, turbo: 6 } as const;
export type QualityPreset = keyof typeof PRESET_WORKERS;

export function sceneWorkers(preset: QualityPreset = 'balanced', requested?: number): number {
  return requested ?? PRESET_WORKERS[preset];
}

/** Threads per ffmpeg so that `workers` processes at once do not oversubscribe `cores`. */
export function threadsPerProcess(cores: number, workers: number): number {
  return Math.max(1, Math.floor(cores / Math.max(1, workers)));
}
