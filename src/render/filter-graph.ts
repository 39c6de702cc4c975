// An ffmpeg -filter_complex under construction: inputs, chains, unique labels.
import { readInput } from '../media/index.ts';

/** A file the graph reads, and the ffmpeg demuxer that reads it. */
export interface SourceFile {
  path: string;
  demuxer: string;
}

export class FilterGraph {
  readonly inputArgs: string[] = [];
  readonly chains: string[] = [];
  private inputs = 0;
  private labels = 0;

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
    this.inputArgs.push(...before, ...readInput(file.demuxer, file.path));
    return this.inputs++;
  }

  /** Adds `[ins]filters[out]` and returns the output label. */
  chain(ins: string[], filters: string, outs = 1): string[] {
    const labels = Array.from({ length: outs }, () => `s${this.labels++}`);
    this.chains.push(`${ins.map((l) => `[${l}]`).join('')}${filters}${labels.map((l) => `[${l}]`).join('')}`);
    return labels;
  }
}


/** Input option that starts reading `seconds` into a source. */
export function seek(seconds: number): string[] {
  return seconds > 0 ? ['-ss', seconds.toFixed(6)] : [];
}
