// The one home of a job's vocabulary: its phases (the seed's), the coarser status a client
// polls, its scenes' states, the types of the events it is told by, and its webhook
// deliveries' statuses. The store, the API's schemas and the client's types derive from these.
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
export const STATUSES = ['queued', 'running', 'done', 'failed', 'cancelled'] as const;
export type Status = (typeof STATUSES)[number];
export type FinalStatus = Extract<Status, 'done' | 'failed' | 'cancelled'>;
export const TERMINAL: ReadonlySet<string> = new Set<FinalStatus>(['done', 'failed', 'cancelled']);
/** Statuses that hold reserved minutes and count against concurrent jobs. */
export const ACTIVE: readonly Status[] = ['queued', 'running'];
/** Statuses whose seconds count as used this month: reserved (active) or spent (done). */
export const COUNTED: readonly Status[] = [...ACTIVE, 'done'];

export function statusOf(phase: Phase): Status {
  return phase === 'queued' ? 'queued' : phase === 'done' ? 'done' : 'running';
}

/** Per-scene state shown on the job; cached: reused from an earlier render of the same scene. */
export const SCENE_STATES = ['queued', 'rendering', 'done', 'cached'] as const;
export type SceneState = (typeof SCENE_STATES)[number];

/** Event types on a job's stream (SSE and webhooks): a final one per final status. */
export type EventType = 'phase' | 'progress' | FinalStatus;

/** A webhook delivery's: pending, (another) attempt is due; failed, every retry was spent. */
export const DELIVERY_STATUSES = ['pending', 'delivered', 'failed'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** Whether a status (or an event type) is final: the job never changes again. */
export function isTerminal(status: string): boolean {
  return TERMINAL.has(status);
}
