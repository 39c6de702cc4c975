// A job's life: the phases of the seed, and the coarser status a client polls.
//   queued → planning → dispatching → waiting → rendering → assembling → uploading → done
// A job can fail or be cancelled in any phase before done.

export const PHASES = [
  'queued',
  'planning',
  'dispatching',
  'waiting',
  'rendering',
  'assembling',
  'uploading',
  'done',
] as const;
export type Phase = (typeof PHASES)[number];

/** queued: waiting for the worker; running: planning..uploading; then one of the three ends. */
export type Status = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';
export const TERMINAL: ReadonlySet<string> = new Set(['done', 'failed', 'cancelled']);
/** Statuses that hold reserved minutes and count against concurrent jobs. */
export const ACTIVE: readonly Status[] = ['queued', 'running'];

export function statusOf(phase: Phase): Status {
  return phase === 'queued' ? 'queued' : phase === 'done' ? 'done' : 'running';
}

/** Per-scene state shown on the job. */
export type SceneState = 'queued' | 'rendering' | 'done' | 'cached';

/** Event types on a job's stream (SSE and webhooks). */
export type EventType = 'phase' | 'progress' | 'done' | 'failed' | 'cancelled';

export function isTerminal(status: string): boolean {
  return TERMINAL.has(status);
}
