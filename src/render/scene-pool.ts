// A pool of scene workers. A render has one of its own, or shares one with other renders
// (the service's jobs do): a task starts when a worker is free and its owner is below its
// own limit (the preset's or requestedConcurrency's workers).

interface Waiting {
  owner: string;
  limit: number;
  start: () => void;
}

export class ScenePool {
  private running = 0;
  private perOwner = new Map<string, number>();
  private queue: Waiting[] = [];

  constructor(readonly size: number) {}

  run<T>(owner: string, limit: number, task: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({
        owner,
        limit,
        start: () => {
          task()
            .then(resolve, reject)
            .finally(() => {
              this.running--;
              this.perOwner.set(owner, (this.perOwner.get(owner) ?? 1) - 1);
              this.pump();
            });
        },
      });
      this.pump();
    });
  }

  /** Starts waiting tasks in order, skipping those whose owner is at its limit. */
  private pump(): void {
    for (let i = 0; i < this.queue.length && this.running < this.size; ) {
      const next = this.queue[i];
      const active = this.perOwner.get(next.owner) ?? 0;
      if (active >= next.limit) {
        i++;
        continue;
      }
      this.queue.splice(i, 1);
      this.running++;
      this.perOwner.set(next.owner, active + 1);
      next.start();
    }
  }
}
