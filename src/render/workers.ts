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

/**
 * Runs `tasks` with at most `limit` at once. On the first failure no new task starts and
 * `onFailure` runs (to abort the running ones); once they have settled, that error is thrown.
 */
export async function runPool<T>(tasks: Array<() => Promise<T>>, limit: number, onFailure?: () => void): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (!failure && next < tasks.length) {
      const i = next++;
      try {
        results[i] = await tasks[i]();
      } catch (error) {
        if (!failure) {
          failure = { error };
          onFailure?.();
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  if (failure) throw failure.error;
  return results;
}
