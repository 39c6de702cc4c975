// The movie's ONE audio mix: every audio track placed at its frame-exact offset on the
// global timeline, padded to the movie's exact length, and summed without normalising
// (amerge + pan, so a track's level does not depend on how many others play). Every sample
// position is read off the movie's one clock (timeline.ts sampleAt): a track's end is where
// its last frame ends, never its start plus a length rounded on its own, so a track that
// starts where another ends meets it to the sample at any fps (rounded apart, 1 join in 4 at
// 7, 72 or 90 fps had a one-sample hole, which clicks).
import { frameSeconds, sampleAt, sampleSpan } from '../movie/index.ts';
import { AUDIO_SAMPLE_RATE, audioOutputArgs } from './encoder.ts';
import { failureIn, layerNames, runFfmpeg } from '../media/index.ts';
import { FilterGraph, seek } from './filter-graph.ts';
import type { AudioTrack } from './plan.ts';
import { audioMixLimits, type TimeLimits } from './time-limits.ts';

export function compileAudioMix(tracks: AudioTrack[], totalFrames: number, fps: number, outPath: string): string[] {
  const graph = new FilterGraph();
  const total = sampleAt(totalFrames, fps, AUDIO_SAMPLE_RATE);
  const placed = tracks.map((t) => {
    const { before, cut } = seek(t, t.start, t.trimStart);
    const input = graph.audioInput(t, [...(t.loop ? ['-stream_loop', '-1'] : []), ...before]);
    // a source whose sound starts after trimStart (after its picture) is silent until then
    const silence = Math.round(Math.max(0, t.audioStart - t.trimStart) * AUDIO_SAMPLE_RATE);
    const { start: delay, length } = sampleSpan(t.startFrame, t.frames, fps, AUDIO_SAMPLE_RATE);
    const fadeIn = Math.min(length, Math.round(t.fadeIn * AUDIO_SAMPLE_RATE));
    const fadeOut = Math.min(length, Math.round(t.fadeOut * AUDIO_SAMPLE_RATE));
    const filters = [
      `atrim=start=${cut}`,
      'asetpts=PTS-STARTPTS',
      `aresample=${AUDIO_SAMPLE_RATE}`,
      // a mono source plays at full level on both sides rather than -3 dB
      ...(t.channels === 1 ? ['pan=stereo|c0=c0|c1=c0'] : []),
      'aformat=sample_fmts=fltp:channel_layouts=stereo',
      ...(silence > 0 ? [`adelay=${silence}S|${silence}S`] : []),
      `atrim=end_sample=${length}`,
      ...(t.volume !== 1 ? [`volume=${t.volume}`] : []),
      ...(fadeIn > 0 ? [`afade=t=in:ss=0:ns=${fadeIn}`] : []),
      ...(fadeOut > 0 ? [`afade=t=out:ss=${length - fadeOut}:ns=${fadeOut}`] : []),
      ...(delay > 0 ? [`adelay=${delay}S|${delay}S`] : []),
      `apad=whole_len=${total}`,
      `atrim=end_sample=${total}`,
    ];
    return graph.chain([input], filters.join(','))[0];
  });

  const mix =
    placed.length === 0
      ? graph.chain([], `anullsrc=r=${AUDIO_SAMPLE_RATE}:cl=stereo,atrim=end_sample=${total}`)[0]
      : sumTracks(graph, placed);
  return [
    ...graph.inputArgs,
    '-filter_complex',
    graph.chains.join(';'),
    '-map',
    `[${mix}]`,
    ...audioOutputArgs(),
    `file:${outPath}`,
  ];
}

/** Mixes and encodes the movie's audio track to `outPath` (AAC in MP4). */
export async function renderAudio(
  tracks: AudioTrack[],
  totalFrames: number,
  fps: number,
  outPath: string,
  options: { limits: TimeLimits; signal?: AbortSignal },
): Promise<void> {
  await runFfmpeg(compileAudioMix(tracks, totalFrames, fps, outPath), {
    signal: options.signal,
    limits: audioMixLimits(options.limits, frameSeconds(totalFrames, fps)),
    names: layerNames(tracks),
  }).catch(failureIn('the audio mix'));
}

/** pan takes at most 64 channels (32 stereo tracks), so larger mixes are summed in groups. */
const GROUP = 16;

/** Sums stereo streams sample by sample: amerge lays them side by side, pan adds them up. */
function sumTracks(graph: FilterGraph, labels: string[]): string {
  if (labels.length === 1) return labels[0];
  if (labels.length > GROUP) {
    const groups = Array.from({ length: Math.ceil(labels.length / GROUP) }, (_, g) =>
      labels.slice(g * GROUP, (g + 1) * GROUP),
    );
    return sumTracks(
      graph,
      groups.map((group) => sumTracks(graph, group)),
    );
  }
  const side = (s: number) => labels.map((_, i) => `c${2 * i + s}`).join('+');
  return graph.chain(labels, `amerge=inputs=${labels.length},pan=stereo|c0=${side(0)}|c1=${side(1)}`)[0];
}
