// The one pool of scene workers every job shares. A task starts when a worker is free and
// its job is below its own limit (the preset's or requestedConcurrency's workers).

interface Waiting {
  jobId: string;
  limit: number;
  start: () => void;
}

export class ScenePool {
  private running = 0;
  private perJob = new Map<string, number>();
  private queue: Waiting[] = [];

  constructor(readonly size: number) {}

  run<T>(jobId: string, limit: number, task: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({
        jobId,
        limit,
        start: () => {
          task()
            .then(resolve, reject)
            .finally(() => {
              this.running--;
              this.perJob.set(jobId, (this.perJob.get(jobId) ?? 1) - 1);
              this.pump();
            });
        },
      });
      this.pump();
    });
  }

  /** Starts waiting tasks in order, skipping those whose job is at its limit. */
  private pump(): void {
    for (let i = 0; i < this.queue.length && this.running < this.size; ) {
      const next = this.queue[i];
      const active = this.perJob.get(next.jobId) ?? 0;
      if (active >= next.limit) {
        i++;
        continue;
      }
      this.queue.splice(i, 1);
      this.running++;
      this.perJob.set(next.jobId, active + 1);
      next.start();
    }
  }
}
