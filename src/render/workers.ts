// How many scenes render at once, and how many threads each ffmpeg gets.

/** Workers for a preset, unless a concurrency is asked for directly: the one table the API, plans and CLI derive from. */
export const PRESET_WORKERS = { stable: 2, balanced: 3, fast: 4, turbo: 6 } as const;
export type QualityPreset = keyof typeof PRESET_WORKERS;
export const QUALITY_PRESETS = Object.keys(PRESET_WORKERS) as QualityPreset[];
export const DEFAULT_PRESET: QualityPreset = 'balanced';

/** The scene workers a render may ask for directly (requestedConcurrency, --concurrency). */
export const CONCURRENCY_RANGE = { min: 1, max: 32 } as const;

/** "stable 2, balanced 3 (default), fast 4, turbo 6" */
export function describePresets(): string {
  return Object.entries(PRESET_WORKERS)
    .map(([name, n]) => `${name} ${n}${name === DEFAULT_PRESET ? ' (default)' : ''}`)
    .join(', ');
}

export function sceneWorkers(preset: QualityPreset = DEFAULT_PRESET, requested?: number): number {
  return requested ?? PRESET_WORKERS[preset];
}

/**
 * Scene encoders a process runs at once for all its jobs, by default: one per core, and two
 * on one core, so that one encodes while the other fetches or decodes its sources.
 */
export function sharedSceneSlots(cores: number): number {
  return Math.max(2, cores);
}

/** Threads per ffmpeg so that `workers` processes at once do not oversubscribe `cores`. */
export function threadsPerProcess(cores: number, workers: number): number {
  return Math.max(1, Math.floor(cores / Math.max(1, workers)));
}

/** 1920x1080 pixels: where encoders start to weigh (memory here, time in time-limits). */
export const FULL_HD = 1920 * 1080;

/** Whether a canvas has at least 1080p's pixels (either orientation). */
export function atLeastFullHd(canvas: { width: number; height: number }): boolean {
  return canvas.width * canvas.height >= FULL_HD;
}

/**
 * Scene encoders run at once for a canvas: from 1080p up, at most one per core. Each such
 * ffmpeg holds 170-250 MB (x264 at veryfast, one thread, plus a large photo decoded),
 * and a third one on two cores only waits for CPU while holding its memory (bench T2/T4:
 * 3 at once peaked at 1.04-1.07 GB).
 */
export function encodersAtOnce(workers: number, cores: number, canvas: { width: number; height: number }): number {
  return atLeastFullHd(canvas) ? Math.max(1, Math.min(workers, cores)) : workers;
}
