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

const FULL_HD = 1920 * 1080;

/**
 * Scene encoders run at once for a canvas: from 1080p up, one per two cores, each with two
 * threads. A 1080p x264 holds about 170 MB (250 MB with a large photo decoded beside it)
 * whether it has one thread or two, and with two it runs nearly twice as fast, so fewer,
 * wider encoders give the same throughput in less memory (bench, 2 cores: one encoder
 * peaked at 542-581 MB for T2/T4 where two peaked at 820-880 MB, for 3-5 % more time).
 */
export function encodersAtOnce(workers: number, cores: number, canvas: { width: number; height: number }): number {
  return canvas.width * canvas.height >= FULL_HD ? Math.max(1, Math.min(workers, Math.floor(cores / 2))) : workers;
}
