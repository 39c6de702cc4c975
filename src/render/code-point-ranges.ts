// A set of code points kept as sorted, merged ranges: what a font's cmap covers is a handful
// of ranges however many code points they claim (a hostile cmap claims all 1,114,112 of
// them, several times over), so building, holding and asking it costs what the ranges
// given cost, never what they claim. Pure.

/** Inclusive [first, last] code point ranges, in any order, overlapping or not. */
export type RangeList = ReadonlyArray<readonly [number, number]>;

export class CodePointRanges {
  /** [first0, last0, first1, last1, ...]: sorted, disjoint and not adjacent. */
  private readonly bounds: Uint32Array;

  constructor(ranges: RangeList) {
    const sorted = ranges.filter(([first, last]) => first <= last).sort((a, b) => a[0] - b[0]);
    const merged: number[] = [];
    for (const [first, last] of sorted) {
      const end = merged.length - 1;
      if (end > 0 && first <= merged[end] + 1) merged[end] = Math.max(merged[end], last);
      else merged.push(first, last);
    }
    this.bounds = Uint32Array.from(merged);
  }

  /** Binary search for the range that would hold it. */
  has(codePoint: number): boolean {
    let [low, high] = [0, this.bounds.length / 2 - 1];
    while (low <= high) {
      const mid = (low + high) >> 1;
      if (codePoint < this.bounds[2 * mid]) high = mid - 1;
      else if (codePoint > this.bounds[2 * mid + 1]) low = mid + 1;
      else return true;
    }
    return false;
  }

  /** What it holds in memory, for caches that count bytes. */
  get bytes(): number {
    return this.bounds.byteLength;
  }
}
