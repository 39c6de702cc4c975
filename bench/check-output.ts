// A fast render is only worth timing if it is the right video: every rendered MP4 is
// checked against its movie before it is deleted (frames counted from packets, so
// nothing is decoded and the check costs well under a second).
import { runFfprobe } from '../src/media/index.ts';
import type { NormalizedMovie } from '../src/movie/index.ts';

interface ProbedStream {
  codec_type?: string;
  codec_name?: string;
  profile?: string;
  pix_fmt?: string;
  width?: number;
  height?: number;
  duration?: string;
  nb_read_packets?: string;
}

export interface OutputCheck {
  /** Video frames in the file. */
  frames: number;
  /** Everything that differs from what the movie asks for; empty when all is well. */
  problems: string[];
}

/** AAC's 1024-sample frames make the audio end up to one frame past the video. */
const AUDIO_SLACK_SECONDS = 1024 / 48_000 + 0.001;

export async function checkOutput(path: string, movie: NormalizedMovie): Promise<OutputCheck> {
  const out = await runFfprobe(['-count_packets', '-show_streams', '-of', 'json', `file:${path}`]);
  const streams = (JSON.parse(out) as { streams?: ProbedStream[] }).streams ?? [];
  const video = streams.find((s) => s.codec_type === 'video');
  const audio = streams.find((s) => s.codec_type === 'audio');
  if (!video) return { frames: 0, problems: ['no video stream'] };

  const frames = Number(video.nb_read_packets ?? 0);
  const seconds = movie.frames / movie.fps;
  const problems: string[] = [];
  if (frames !== movie.frames) problems.push(`${frames} video frames, expected ${movie.frames}`);
  if (video.width !== movie.width || video.height !== movie.height)
    problems.push(`${video.width}x${video.height}, expected ${movie.width}x${movie.height}`);
  if (video.codec_name !== 'h264' || video.profile !== 'High' || video.pix_fmt !== 'yuv420p') {
    problems.push(`video is ${video.codec_name} ${video.profile} ${video.pix_fmt}, expected h264 High yuv420p`);
  }
  if (!audio) problems.push('no audio stream');
  else if (Math.abs(Number(audio.duration) - seconds) > AUDIO_SLACK_SECONDS)
    problems.push(`audio lasts ${audio.duration} s, expected ${seconds} s`);
  return { frames, problems };
}
