// A cache bounded in bytes: past its budget the least recently used entries go, told to
// `onEvict` (to free what the cache cannot: a font registered with Skia). The newest stays,
// even alone over the budget (it was wanted just now). Nothing else here: callers put in only what they mean to keep.

export class ByteLru<K, V> {
  /** In use order: a Map iterates in insertion order, and each use inserts again. */
  private readonly entries = new Map<K, { value: V; bytes: number }>();
  private total = 0;
  private newest: K | undefined;

  constructor(
    /** Bytes it may hold; lowering it takes effect at the next `set` or `trim`. */
    public budget: number,
    private readonly onEvict: (value: V, key: K) => void = () => {},
  ) {}

  get(key: K): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    this.entries.set(key, entry);
    this.newest = key;
    return entry.value;
  }

  set(key: K, value: V, bytes: number): void {
    const old = this.entries.get(key);
    if (old) {
      this.entries.delete(key);
      this.total -= old.bytes;
    }
    this.entries.set(key, { value, bytes });
    this.total += bytes;
    this.newest = key;
    this.trim();
  }

  /** Evicts entries, oldest first, until the budget holds (as far as the newest allows). */
  trim(): void {
    for (const [key, { value, bytes }] of this.entries) {
      if (this.total <= this.budget) return;
      if (key === this.newest) continue;
      this.entries.delete(key);
      this.total -= bytes;
      this.onEvict(value, key);
    }
  }

  /** Keys and values, least recently used first (using none). */
  *[Symbol.iterator](): IterableIterator<[K, V]> {
    for (const [key, { value }] of this.entries) yield [key, value];
  }
}
