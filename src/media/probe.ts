// What a source file is: ffprobe on a local file only (protocol whitelist `file`).
import { runFfprobe } from './run-ffmpeg.ts';

export interface MediaInfo {
  /** A single picture (png, jpeg, webp, ...) rather than a moving video. */
  isImage: boolean;
  video?: { width: number; height: number; duration?: number };
  audio?: { channels: number; sampleRate: number; duration?: number };
  /** Seconds, when the container knows. */
  duration?: number;
}

const IMAGE_CODECS = new Set(['png', 'mjpeg', 'webp', 'gif', 'bmp', 'tiff', 'jpegls', 'jpeg2000', 'apng']);

interface ProbeJson {
  streams?: Array<{ codec_type?: string; codec_name?: string; width?: number; height?: number; channels?: number; sample_rate?: string; duration?: string; nb_frames?: string }>;
  format?: { format_name?: string; duration?: string };
}

export async function probeMedia(path: string, signal?: AbortSignal): Promise<MediaInfo> {
  const out = await runFfprobe(
    ['-protocol_whitelist', 'file', '-show_streams', '-show_format', '-of', 'json', `file:${path}`],
    { signal },
  );
  const json = JSON.parse(out) as ProbeJson;
  const streams = json.streams ?? [];
  const v = streams.find((s) => s.codec_type === 'video');
  const a = streams.find((s) => s.codec_type === 'audio');
  const format = json.format?.format_name ?? '';
  const num = (s: string | undefined) => (s !== undefined && Number.isFinite(Number(s)) ? Number(s) : undefined);
  const isImage =
    !!v && !a && (format.includes('image2') || format.endsWith('_pipe') || (IMAGE_CODECS.has(v.codec_name ?? '') && (num(v.nb_frames) ?? 1) <= 1));
  return {
    isImage,
    video: v && v.width && v.height ? { width: v.width, height: v.height, duration: num(v.duration) } : undefined,
    audio: a ? { channels: a.channels ?? 2, sampleRate: num(a.sample_rate) ?? 48000, duration: num(a.duration) } : undefined,
    duration: num(json.format?.duration),
  };
}
