// A few slots that every probe of a process waits for: a job of many layers does not start
// all its ffprobes at once (each may take up to its memory limit). A free slot goes to the
// owner (one per render) with the fewest probes running, ties to the one that waited
// longest, so one job's long queue holds another's probe back by one probe, not by its queue.

export class ProbeSlots {
  private running = 0;
  private runningOf = new Map<object, number>();
  /** Each owner's waiting tasks, owners in the order they began to wait. */
  private waiting = new Map<object, Array<() => void>>();

  /** `size`: read at each start, so a changed setting applies to the next probe. */
  constructor(private readonly size: () => number) {}

  run<T>(owner: object, task: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const start = () => {
        // a task that throws at once fails its own run, and frees its slot like any other
        Promise.resolve()
          .then(task)
          .then(resolve, reject)
          .finally(() => {
            this.running--;
            this.count(owner, -1);
            this.pump();
          });
      };
      const queue = this.waiting.get(owner);
      if (queue) queue.push(start);
      else this.waiting.set(owner, [start]);
      this.pump();
    });
  }

  private pump(): void {
    while (this.running < this.size()) {
      let next: object | undefined;
      let fewest = Number.POSITIVE_INFINITY;
      for (const owner of this.waiting.keys()) {
        const running = this.runningOf.get(owner) ?? 0;
        if (running < fewest) [next, fewest] = [owner, running];
      }
      if (next === undefined) return;
      const queue = this.waiting.get(next)!;
      const start = queue.shift()!;
      // served: it waits again behind the others
      this.waiting.delete(next);
      if (queue.length > 0) this.waiting.set(next, queue);
      this.running++;
      this.count(next, 1);
      start();
    }
  }

  /** Adds `by` to an owner's running count; an owner with none running is forgotten. */
  private count(owner: object, by: number): void {
    const n = (this.runningOf.get(owner) ?? 0) + by;
    if (n === 0) this.runningOf.delete(owner);
    else this.runningOf.set(owner, n);
  }
}
