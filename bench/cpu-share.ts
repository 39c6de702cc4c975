// How much of the machine's CPU went to processes outside the bench while it ran.
// On a shared 2-core box any other job slows renders and baselines alike, so the
// report says how busy the machine was rather than leave the numbers to be trusted blindly.
import { readFileSync } from 'node:fs';

interface CpuTimes {
  /** Jiffies of all CPUs: busy ones, and busy plus idle. */
  busy: number;
  total: number;
  /** Jiffies of this process and its reaped children (every finished ffmpeg). */
  mine: number;
}

/** Starts counting; the function returned gives the share (0..1) of all CPU time others used since. */
export function foreignCpuShare(): () => number {
  const start = cpuTimes();
  return () => {
    const end = cpuTimes();
    const total = end.total - start.total;
    const others = end.busy - start.busy - (end.mine - start.mine);
    return total > 0 ? Math.max(0, others) / total : 0;
  };
}

function cpuTimes(): CpuTimes {
  // cpu  user nice system idle iowait irq softirq steal ... (guest time is already in user)
  const [user, nice, system, idle, iowait, irq, softirq, steal] = readFileSync('/proc/stat', 'utf8')
    .split('\n')[0]
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  const busy = user + nice + system + irq + softirq + (steal || 0);
  // after the command name: state ppid ... utime(11) stime(12) cutime(13) cstime(14)
  const self = readFileSync('/proc/self/stat', 'utf8');
  const fields = self
    .slice(self.lastIndexOf(')') + 2)
    .split(' ')
    .map(Number);
  return { busy, total: busy + idle + iowait, mine: fields[11] + fields[12] + fields[13] + fields[14] };
}
