// "Did you mean": the known name closest to a mistyped one, offered only when it is close
// enough to be the likely intent (one slip in a short word, a few in a long one).

/**
 * Edits (insert, delete, substitute, swap two neighbours) from `a` to `b`, ignoring case; or
 * `Infinity` when that is more than `limit`, found out as early as possible (the lengths alone
 * can tell, so a huge value costs nothing).
 */
export function editDistance(a: string, b: string, limit = Number.POSITIVE_INFINITY): number {
  if (Math.abs(a.length - b.length) > limit) return Number.POSITIVE_INFINITY;
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  // rows i-2, i-1 and i of the table of distances between prefixes
  let before: number[] = [];
  let previous = Array.from({ length: t.length + 1 }, (_, j) => j);
  for (let i = 1; i <= s.length; i++) {
    const current = [i];
    let rowBest = i;
    for (let j = 1; j <= t.length; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      let d = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost);
      if (i > 1 && j > 1 && s[i - 1] === t[j - 2] && s[i - 2] === t[j - 1]) d = Math.min(d, before[j - 2] + 1);
      current.push(d);
      rowBest = Math.min(rowBest, d);
    }
    if (rowBest > limit) return Number.POSITIVE_INFINITY;
    before = previous;
    previous = current;
  }
  return previous[t.length] > limit ? Number.POSITIVE_INFINITY : previous[t.length];
}

/** How many edits still count as a slip for a word of this length: 1 up to 5 letters, then one per 3. */
function slips(length: number): number {
  return Math.max(1, Math.floor(length / 3));
}

/** The candidate `value` most likely meant, when one is close enough and closer than the others. */
export function closest(value: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  let tied = false;
  for (const candidate of candidates) {
    const d = editDistance(value, candidate, slips(candidate.length));
    if (d < bestDistance) [best, bestDistance, tied] = [candidate, d, false];
    else if (d === bestDistance) tied = true;
  }
  return bestDistance !== Number.POSITIVE_INFINITY && !tied ? best : undefined;
}
