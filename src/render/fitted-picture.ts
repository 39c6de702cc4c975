// An image layer's picture, decoded once at planning (strictly: this is the decode that
// refuses a damaged picture) and fitted to the layer's box in the output's colour. Scenes
// then read a frame that is ready to overlay: no scene encoder holds a camera-sized decode
// beside its x264, and a photo shown in the same box by many layers is decoded once. Only
// the part of the box the canvas shows is kept (visible-region.ts).
import { join } from 'node:path';
import type { ImageLayer } from '../movie/index.ts';
import { decodePicture, type MediaFormat } from '../media/index.ts';
import { IMAGE_TO_RGBA, TO_OUTPUT } from './colour.ts';
import { fitFilter } from './fit.ts';
import { ScenePool } from './scene-pool.ts';
import { cropFilter, type Region } from './visible-region.ts';
import { pictureBytes, type WorkBudget } from './work-budget.ts';

/** The filters that turn a decoded picture into the layer's overlay: RGBA, fitted and converted to the output's YUV with alpha in one pass, cut to the region shown. */
export function pictureFilter(layer: Pick<ImageLayer, 'fit' | 'width' | 'height'>, region: Region): string {
  const fitted = fitFilter(layer.fit, layer.width, layer.height, { scale: TO_OUTPUT, after: ['format=yuva420p'] });
  return [IMAGE_TO_RGBA, fitted, ...cropFilter(region, layer)].join(',');
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
   * The file holding the region of `layer`'s fitted picture from the source file `source`,
   * made at most once per content, box and region; `what` names the layer if the job's work
   * budget runs out there.
   */
  fit(
    layer: ImageLayer,
    region: Region,
    source: { path: string; format: MediaFormat; digest: string },
    what: string,
    signal?: AbortSignal,
  ): Promise<string> {
    const key = `${source.digest} ${layer.fit} ${layer.width}x${layer.height} ${JSON.stringify(region)}`;
    let pending = this.made.get(key);
    if (!pending) {
      this.budget.take(pictureBytes(region), what);
      const out = join(this.workDir, `picture-${this.made.size}.nut`);
      pending = this.decoding
        .run('pictures', this.decoding.size, () =>
          decodePicture(source.path, source.format, pictureFilter(layer, region), out, signal),
        )
        .then(() => out);
      this.made.set(key, pending);
    }
    return pending;
  }
}
