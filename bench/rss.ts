// Peak memory of a render as the machine sees it: the VmRSS of this process plus every
// descendant (each ffmpeg and ffprobe) summed at the same moment, sampled from /proc.
// ffmpeg's memory is invisible to process.memoryUsage(), and summing per-process peaks
// would overstate it, since children that never ran together would be added up.
import { readdirSync, readFileSync } from 'node:fs';

export interface RssSampler {
  /** Stops sampling (once; later calls just answer); returns the largest sum seen, in bytes. */
  stop(): number;
}

/** Samples the process tree under `root` (`withRoot` false: its descendants only) every `intervalMs` until stopped. */
export function sampleTreeRss(root = process.pid, intervalMs = 50, withRoot = true): RssSampler {
  let peak = 0;
  let running = true;
  const sample = () => (peak = Math.max(peak, treeRss(root, withRoot)));
  sample();
  const timer = setInterval(sample, intervalMs);
  return {
    stop() {
      if (running) {
        clearInterval(timer);
        sample();
        running = false;
      }
      return peak;
    },
  };
}

/** Sum of VmRSS over `root` (unless not `withRoot`) and its descendants, in bytes. */
export function treeRss(root: number, withRoot = true): number {
  const children = childrenByParent();
  let total = 0;
  const pending = [root];
  while (pending.length > 0) {
    const pid = pending.pop()!;
    if (pid !== root || withRoot) total += vmRss(pid);
    pending.push(...(children.get(pid) ?? []));
  }
  return total;
}

/** Every live process's children, from the ppid field of /proc/<pid>/stat. */
function childrenByParent(): Map<number, number[]> {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readProc(`/proc/${name}/stat`);
    if (!stat) continue;
    // the command name (field 2) may hold spaces and parentheses: parse after the last ')'
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    const siblings = children.get(ppid) ?? [];
    siblings.push(Number(name));
    children.set(ppid, siblings);
  }
  return children;
}

function vmRss(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readProc(`/proc/${pid}/status`) ?? '');
  return match ? Number(match[1]) * 1024 : 0;
}

/** A /proc file's text, or undefined when the process has exited meanwhile. */
function readProc(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}
