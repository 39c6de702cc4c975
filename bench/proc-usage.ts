// What a process has used so far, from /proc (Linux): CPU time, bytes written, peak memory.
// The kernel adds a child's CPU time (cutime, cstime) and I/O counts into its parent's when
// the parent waits for it, so a worker's figures include every ffmpeg it has run and reaped.
import { readFileSync } from 'node:fs';

/** USER_HZ, the unit of /proc/<pid>/stat times: 100 on Linux (`getconf CLK_TCK`). */
export const TICKS_PER_SECOND = 100;

export interface CpuSeconds {
  /** The process itself (user + system). */
  own: number;
  /** Its children that have exited and been waited for (user + system). */
  children: number;
}

export function cpuSeconds(pid: number): CpuSeconds {
  // after the command name (which may hold spaces and parentheses): state ppid ... utime(11) stime(12) cutime(13) cstime(14)
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat
    .slice(stat.lastIndexOf(')') + 2)
    .split(' ')
    .map(Number);
  return {
    own: (fields[11] + fields[12]) / TICKS_PER_SECOND,
    children: (fields[13] + fields[14]) / TICKS_PER_SECOND,
  };
}

export interface BytesWritten {
  /** Bytes the process (and its reaped children) caused to be written to storage. */
  written: number;
  /** Of those, bytes of files truncated or removed before they reached the disk (work files). */
  cancelled: number;
}

export function bytesWritten(pid: number): BytesWritten {
  const io = readFileSync(`/proc/${pid}/io`, 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}: (\\d+)$`, 'm').exec(io)?.[1] ?? 0);
  return { written: field('write_bytes'), cancelled: field('cancelled_write_bytes') };
}

/** VmHWM: the most resident memory the process itself has had, in bytes. */
export function peakRss(pid: number): number {
  const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) * 1024 : 0;
}
