// The disk a render's work files may take: fitted pictures and text rasters live in its
// work folder until the movie is assembled, and a tenant decides how many there are and how
// large. Each is counted before it is written, at the most it can take, so a job that would
// pass its budget fails naming the layer where it ran out, before the disk fills for everyone.
import { mebibytes } from '../media/process-limits.ts';

/** A render's work files, at most, by default: about 500 distinct full-canvas 1080p pictures (8.3 MB each). */
export const DEFAULT_WORK_DISK_BYTES = 4 * 1024 ** 3;

/** Bytes a decoded picture of the region takes in the work folder (YUVA 4:4:4, 4 bytes a pixel, plus its container). */
export function pictureBytes(region: { width: number; height: number }): number {
  return region.width * region.height * 4 + 4096;
}

/** Bytes a text raster of the region takes at most (RGBA PNG, which compresses: never more than raw plus its container). */
export function rasterBytes(region: { width: number; height: number }): number {
  return region.width * region.height * 4 + 4096;
}

export class WorkBudgetError extends Error {
  constructor(
    what: string,
    readonly limitBytes: number,
  ) {
    super(
      `${what}: the job's work files would pass its ${mebibytes(limitBytes)} budget (the fitted pictures and text rasters of the whole movie); use fewer or smaller distinct pictures`,
    );
    this.name = 'WorkBudgetError';
  }
}

export class WorkBudget {
  #used = 0;

  constructor(readonly limitBytes: number = DEFAULT_WORK_DISK_BYTES) {}

  /** Counts `bytes` for `what` (`layer "bg" (movie.scenes[0].layers[1])`); throws WorkBudgetError past the limit. */
  take(bytes: number, what: string): void {
    if (this.#used + bytes > this.limitBytes) throw new WorkBudgetError(what, this.limitBytes);
    this.#used += bytes;
  }
}
