// A pool of scene workers. A render has one of its own, or shares one with other renders
// (the service's jobs do): a task starts when a worker is free and its owner (a render) is
// below its own limit (the preset's or requestedConcurrency's workers). Of the tasks that
// may start, the tenant with the fewest tasks running goes first, then the oldest task
// (fair-turn.ts): one tenant's many renders do not hold another's back for long.
import { addCount, nextTurn } from './fair-turn.ts';

interface Waiting {
  owner: string;
  tenant: string;
  limit: number;
  start: () => void;
}

export class ScenePool {
  private running = 0;
  private perOwner = new Map<string, number>();
  private perTenant = new Map<string, number>();
  private queue: Waiting[] = [];

  constructor(readonly size: number) {}

  /** Runs `task` in a worker of the pool; `tenant`: whose work it is (default: the owner's own). */
  run<T>(owner: string, limit: number, task: () => Promise<T>, tenant = owner): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({
        owner,
        tenant,
        limit,
        start: () => {
          // a task that throws at once (no async function) fails its own run, not whoever started it
          new Promise<T>((run) => run(task())).then(resolve, reject).finally(() => {
            this.running--;
            addCount(this.perOwner, owner, -1);
            addCount(this.perTenant, tenant, -1);
            this.pump();
          });
        },
      });
      this.pump();
    });
  }

  /** Starts waiting tasks while workers are free, each time the next in turn among those whose owner is below its limit. */
  private pump(): void {
    while (this.running < this.size) {
      const i = nextTurn(
        this.queue,
        (waiting) => waiting.tenant,
        (tenant) => this.perTenant.get(tenant) ?? 0,
        (waiting) => (this.perOwner.get(waiting.owner) ?? 0) < waiting.limit,
      );
      if (i < 0) return;
      const [next] = this.queue.splice(i, 1);
      this.running++;
      addCount(this.perOwner, next.owner, 1);
      addCount(this.perTenant, next.tenant, 1);
      next.start();
    }
  }
}
