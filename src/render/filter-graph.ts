// An ffmpeg -filter_complex under construction: inputs, chains, unique labels.
import { FORMATS, readInput } from '../media/index.ts';

/** A file the graph reads, and the ffmpeg demuxer that reads it. */
export interface SourceFile {
  path: string;
  demuxer: string;
  /** The largest picture the file may hold: a source's is the source limit, the engine's own (a fitted picture, a text raster) a canvas. */
  pixels?: number;
}

export class FilterGraph {
  readonly inputArgs: string[] = [];
  readonly chains: string[] = [];
  private inputs = 0;
  private labels = 0;

  /** `decoderThreads`: threads for each input's decoder (default: ffmpeg's, one per core and more). */
  constructor(private readonly decoderThreads?: number) {}

  /**
   * Adds a file input read by the demuxer intake chose for it (with input options such as
   * -ss before it); returns its video stream's label.
   */
  input(file: SourceFile, before: string[] = []): string {
    return `${this.addInput(file, before)}:v`;
  }

  /** The same, returning its audio stream's label. */
  audioInput(file: SourceFile, before: string[] = []): string {
    return `${this.addInput(file, before)}:a`;
  }

  private addInput(file: SourceFile, before: string[]): number {
    const threads = this.decoderThreads === undefined ? [] : ['-threads', String(this.decoderThreads)];
    this.inputArgs.push(...before, ...threads, ...readInput(file.demuxer, file.path, file.pixels));
    return this.inputs++;
  }

  /** Adds `[ins]filters[out]` and returns the output label. */
  chain(ins: string[], filters: string, outs = 1): string[] {
    const labels = Array.from({ length: outs }, () => `s${this.labels++}`);
    this.chains.push(`${ins.map((l) => `[${l}]`).join('')}${filters}${labels.map((l) => `[${l}]`).join('')}`);
    return labels;
  }
}

/**
 * Demuxers whose input seek lands past its target: MPEG-TS seeks to a byte position and
 * decoding resumes at the next keyframe (seconds late, or never near the end), so it is
 * read from its start and cut by timestamp. APNG has no seek of its own: looped by its
 * demuxer (an animated WebP's), a sought one started on the wrong frame; it is an animation, short.
 */
const SEEKS_LATE = new Set<string>([FORMATS.mpegts.demuxer, FORMATS.png.animation]);

/** How far before a position a source is sought: what must be decoded first (the frame nearest it, Opus's pre-roll) is no further back. */
const SEEK_LEAD = 1;

/**
 * How to read a source from `seconds` after `start`, its clock's start (the container's
 * start time: its earliest stream's first timestamp): input options, and the source's
 * own timestamp of that moment, where the graph cuts. The timestamps are the file's own
 * (-copyts: without it ffmpeg shifts them, and an MPEG-TS stream read alone starts at 0
 * whatever its start), so a source's picture and sound keep their offset. -copyts is
 * global to the command; every other input the engine reads (pictures, text rasters)
 * starts at 0 and is timed by frame count, not timestamp.
 */
export function seek(file: SourceFile, start: number, seconds: number): { before: string[]; cut: number } {
  const to = SEEKS_LATE.has(file.demuxer) ? 0 : Math.max(0, seconds - SEEK_LEAD);
  return { before: ['-copyts', ...(to > 0 ? ['-ss', to.toFixed(6)] : [])], cut: Number((start + seconds).toFixed(6)) };
}
