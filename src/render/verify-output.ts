// The engine's last word before "done": the finished MP4 read back from its boxes and
// compared with the plan. Exactly the movie's frames, each lasting 1/fps, the picture
// size asked for, and audio as long as the video (to one AAC frame). Any difference
// fails the render, saying what differs and, for missing frames, from which scene on;
// what the service and the CLI report of the file comes from this reading, never the plan.
import { stat } from 'node:fs/promises';
import { fpsOfRate, frameRate } from '../movie/index.ts';
import { readMp4, type Mp4Info, type Mp4Track } from './mp4-tracks.ts';

export interface MediaData {
  duration: number;
  width: number;
  height: number;
  fps: number;
  frames: number;
  bytes: number;
}

/** What the plan says the file must be. */
export interface ExpectedOutput {
  width: number;
  height: number;
  fps: number;
  frames: number;
  scenes: Array<{ id: string; frames: number }>;
}

/** Samples in one AAC frame: the audio may end up to this much past the video. */
const AAC_FRAME = 1024;

class OutputMismatchError extends Error {
  constructor(problems: string[]) {
    super(`the finished file is not the movie asked for: ${problems.join('; ')}`);
    this.name = 'OutputMismatchError';
  }
}

/** Reads the MP4 at `path`, throws OutputMismatchError unless it is `expected`, and returns what it holds. */
export async function verifyOutput(path: string, expected: ExpectedOutput): Promise<MediaData> {
  const info = await readMp4(path);
  const problems = outputProblems(info, expected);
  if (problems.length > 0 || !info) throw new OutputMismatchError(problems);
  return { ...videoFacts(videoTrack(info)!), bytes: (await stat(path)).size };
}

/** Every way `info` differs from `expected` (empty: none). */
export function outputProblems(info: Mp4Info | undefined, expected: ExpectedOutput): string[] {
  if (!info) return ['it has no MP4 index (moov box)'];
  const video = videoTrack(info);
  if (!video) return ['it has no video track'];
  const problems: string[] = [];
  const facts = videoFacts(video);
  if (facts.frames !== expected.frames)
    problems.push(
      `its video has ${facts.frames} frames, expected ${expected.frames}${whereMissing(facts.frames, expected.scenes)}`,
    );
  const rate = frameRate(expected.fps);
  const tick = (video.timescale * rate.den) / rate.num;
  if (!Number.isInteger(tick) || video.durations.some((d) => d.delta !== tick)) {
    const seen = [...new Set(video.durations.map((d) => d.delta))].map((d) => `${d}/${video.timescale} s`).join(', ');
    problems.push(`its video frames do not each last 1/${expected.fps} s (they last ${seen})`);
  }
  if (video.edits.some((e) => e.mediaTime > 0)) problems.push('its video track skips its first frames (edit list)');
  if (facts.width !== expected.width || facts.height !== expected.height)
    problems.push(`its picture is ${facts.width}x${facts.height}, expected ${expected.width}x${expected.height}`);
  const audio = info.tracks.find((t) => t.handler === 'soun');
  if (!audio) problems.push('it has no audio track');
  else {
    const audioSeconds = presentedSeconds(audio, info.timescale);
    // edit list durations are in the movie's timescale, so they may round by one of its ticks
    const slack = AAC_FRAME / audio.timescale + 1 / info.timescale;
    if (Math.abs(audioSeconds - facts.duration) > slack)
      problems.push(`its audio lasts ${audioSeconds.toFixed(3)} s and its video ${facts.duration.toFixed(3)} s`);
  }
  return problems;
}

function videoTrack(info: Mp4Info): Mp4Track | undefined {
  return info.tracks.find((t) => t.handler === 'vide');
}

function videoFacts(video: Mp4Track): Omit<MediaData, 'bytes'> {
  const ticks = video.durations.reduce((sum, d) => sum + d.count * d.delta, 0);
  const delta = video.durations[0]?.delta ?? 0;
  return {
    frames: video.samples,
    duration: ticks / video.timescale,
    fps: delta > 0 ? fpsOfRate(video.timescale, delta) : 0,
    width: video.width,
    height: video.height,
  };
}

/** Seconds a track plays: its edit list when it has one, else all its samples. */
function presentedSeconds(track: Mp4Track, movieTimescale: number): number {
  const edits = track.edits.filter((e) => e.mediaTime >= 0);
  if (edits.length > 0) return edits.reduce((sum, e) => sum + e.duration, 0) / movieTimescale;
  return track.durations.reduce((sum, d) => sum + d.count * d.delta, 0) / track.timescale;
}

/** Which scene the first of the frames missing after `found` belongs to. */
function whereMissing(found: number, scenes: ExpectedOutput['scenes']): string {
  let start = 0;
  for (const [index, scene] of scenes.entries()) {
    if (found < start + scene.frames)
      return `: from frame ${found - start} of scene "${scene.id}" (movie.scenes[${index}]) on, frames are missing`;
    start += scene.frames;
  }
  return '';
}
