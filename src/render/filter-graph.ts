// An ffmpeg -filter_complex under construction: inputs, chains, unique labels.

export class FilterGraph {
  readonly inputArgs: string[] = [];
  readonly chains: string[] = [];
  private inputs = 0;
  private labels = 0;

  /** Adds a file input (with input options such as -ss before it); returns its video stream's label. */
  input(path: string, before: string[] = []): string {
    return `${this.addInput(path, before)}:v`;
  }

  /** The same, returning its audio stream's label. */
  audioInput(path: string, before: string[] = []): string {
    return `${this.addInput(path, before)}:a`;
  }

  private addInput(path: string, before: string[]): number {
    this.inputArgs.push(...before, '-i', `file:${path}`);
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
