// Which decoders and filters this ffmpeg has, asked once per binary: a source that needs
// one it lacks (VP9 alpha, HDR tone mapping, deinterlacing) fails its layer saying so, and
// `reelsmith doctor` lists them.
import { ffmpegBinary } from './binaries.ts';
import { run } from './run-ffmpeg.ts';

export interface FfmpegFeature {
  kind: 'decoder' | 'filter';
  /** ffmpeg's name: "libvpx-vp9", "zscale". */
  name: string;
}

const asked = new Map<string, Promise<(feature: FfmpegFeature) => boolean>>();

/** A test of whether the ffmpeg in use has a feature. */
export function ffmpegFeatures(): Promise<(feature: FfmpegFeature) => boolean> {
  const { path } = ffmpegBinary();
  let pending = asked.get(path);
  if (!pending) {
    pending = Promise.all([run(path, ['-hide_banner', '-decoders']), run(path, ['-hide_banner', '-filters'])]).then(
      ([decoders, filters]) => {
        const has = { decoder: listedNames(decoders), filter: listedNames(filters) };
        return (feature) => has[feature.kind].has(feature.name);
      },
    );
    // a failed ask is asked again next time
    pending.catch(() => asked.delete(path));
    asked.set(path, pending);
  }
  return pending;
}

/** The names of `-decoders` or `-filters` lines: flags, then the name (" V....D libvpx-vp9  libvpx VP9", " TS. bwdif  V->V ..."). */
export function listedNames(listing: string): Set<string> {
  const names = [...listing.matchAll(/^ [A-Z.]{3,6} +(\S+) /gm)].map((m) => m[1]);
  return new Set(names);
}
