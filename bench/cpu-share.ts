// How much of the machine's CPU went to processes outside the bench while it ran.
// On a shared 2-core box any other job slows renders and baselines alike, so the
// report says how busy the machine was rather than leave the numbers to be trusted blindly.
import { readFileSync } from 'node:fs';
import { cpuSeconds, TICKS_PER_SECOND } from './proc-usage.ts';

interface CpuTimes {
  /** Seconds of all CPUs: busy ones, and busy plus idle. */
  busy: number;
  total: number;
  /** Seconds of the bench's processes and their reaped children (every finished ffmpeg). */
  mine: number;
}

/**
 * Starts counting; the function returned gives the share (0..1) of all CPU time others used since
 * (`alsoOurs`: seconds of the bench's that these processes do not count). `ours`: the bench's
 * processes, alive at the start and the end (default: this one).
 */
export function foreignCpuShare(ours: () => number[] = () => [process.pid]): (alsoOurs?: number) => number {
  const start = cpuTimes(ours());
  return (alsoOurs = 0) => {
    const end = cpuTimes(ours());
    const total = end.total - start.total;
    const others = end.busy - start.busy - (end.mine - start.mine) - alsoOurs;
    return total > 0 ? Math.max(0, others) / total : 0;
  };
}

function cpuTimes(pids: number[]): CpuTimes {
  // cpu  user nice system idle iowait irq softirq steal ... (guest time is already in user), in USER_HZ ticks
  const [user, nice, system, idle, iowait, irq, softirq, steal] = readFileSync('/proc/stat', 'utf8')
    .split('\n')[0]
    .trim()
    .split(/\s+/)
    .slice(1)
    .map((ticks) => Number(ticks) / TICKS_PER_SECOND);
  const busy = user + nice + system + irq + softirq + (steal || 0);
  const mine = pids.map(cpuSeconds).reduce((sum, cpu) => sum + cpu.own + cpu.children, 0);
  return { busy, total: busy + idle + iowait, mine };
}
