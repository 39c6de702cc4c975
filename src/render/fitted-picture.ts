// An image layer's picture, decoded once at planning (strictly: this is the decode that
// refuses a damaged picture) and fitted to the layer's box in the output's colour. Scenes
// then read a frame that is ready to overlay: no scene encoder holds a camera-sized decode
// beside its x264, and a photo shown in the same box by many layers is decoded once. Only
// the part of the picture the canvas shows is kept (fit.ts), in 4:4:4 with alpha, so it
// lands on any pixel.
import { join } from 'node:path';
import { decodePicture, FORMATS, type MediaFormat } from '../media/index.ts';
import { IMAGE_TO_RGBA, rgbaToYuva, TO_OUTPUT } from './colour.ts';
import { fitFilters, type Placement } from './fit.ts';
import { ScenePool } from './scene-pool.ts';
import { crop } from './visible-region.ts';
import { pictureBytes, type WorkBudget } from './work-budget.ts';

/**
 * The filters that turn a decoded picture into the layer's overlay: RGBA, what shows of it
 * read, fitted and converted to the output's YUV with alpha in one pass, cut to what shows; its
 * alpha plane fitted beside it (rgbaToYuva: exact), full range in and out (unsaid, the 2018
 * build stretches it as limited-range luma: 127 became 129).
 */
export function pictureFilter(placement: Placement, opaque = false): string {
  const { source, ...fitted } = placement;
  const fit = (scale: string, after: string[]) => fitFilters(fitted, { scale, after });
  // a format with no alpha (JPEG) has nothing for the alpha route to keep: its picture is
  // opaque, as swscale writes it (measured: 0.05-0.13 s a 4000x3000 photo saved)
  const colour = opaque
    ? fit(TO_OUTPUT, ['format=yuva444p']).join(',')
    : rgbaToYuva(fit(TO_OUTPUT, ['format=yuva444p']), fit('in_range=pc:out_range=pc', []), 'p');
  return [IMAGE_TO_RGBA, ...(source ? [crop(source)] : []), colour].join(',');
}

export class FittedPictures {
  private made = new Map<string, Promise<string>>();
  // a camera-sized decode holds 100-150 MB: no more at once than there are cores to run them
  private decoding: ScenePool;

  constructor(
    private readonly workDir: string,
    cores: number,
    private readonly budget: WorkBudget,
  ) {
    this.decoding = new ScenePool(cores);
  }

  /**
   * The file holding the placement of the source file `source` (what shows of it, fitted),
   * made at most once per content and placement; `what` names the layer if the job's work
   * budget runs out there.
   */
  fit(
    placement: Placement,
    source: { path: string; format: MediaFormat; digest: string },
    what: string,
    signal?: AbortSignal,
  ): Promise<string> {
    const key = `${source.digest} ${JSON.stringify({ ...placement, at: undefined })}`;
    let pending = this.made.get(key);
    if (!pending) {
      this.budget.take(pictureBytes(placement.cut), what);
      const out = join(this.workDir, `picture-${this.made.size}.nut`);
      pending = this.decoding
        .run('pictures', this.decoding.size, () =>
          decodePicture(
            source.path,
            source.format,
            pictureFilter(placement, source.format === FORMATS.jpeg),
            out,
            signal,
          ),
        )
        .then(() => out);
      this.made.set(key, pending);
    }
    return pending;
  }
}
