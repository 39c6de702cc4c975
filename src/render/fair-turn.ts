// Whose work starts next when several tenants share a few slots: the waiting item of the
// tenant with the fewest running goes first, ties to the oldest. A tenant with a long queue
// then holds another's work back by the slot that frees next, not by its whole queue. The
// scene pool picks scenes so, and the embedded service its waiting jobs (a tenant: an account).

/**
 * The index in `waiting` (oldest first) of the item to start next; -1 when none may start
 * (`mayStart` false for each, e.g. every owner at its own limit).
 */
export function nextTurn<T>(
  waiting: readonly T[],
  tenantOf: (item: T) => string,
  running: (tenant: string) => number,
  mayStart: (item: T) => boolean = () => true,
): number {
  let next = -1;
  let fewest = Number.POSITIVE_INFINITY;
  for (let i = 0; i < waiting.length && fewest > 0; i++) {
    if (!mayStart(waiting[i])) continue;
    const count = running(tenantOf(waiting[i]));
    if (count < fewest) [next, fewest] = [i, count];
  }
  return next;
}

/** Adds `by` to `key`'s count; a count back at 0 is forgotten, so the map holds only what runs. */
export function addCount(counts: Map<string, number>, key: string, by: number): void {
  const count = (counts.get(key) ?? 0) + by;
  if (count === 0) counts.delete(key);
  else counts.set(key, count);
}
