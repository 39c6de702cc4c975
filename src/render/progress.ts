// Progress of a render as one number 0..1: fixed slices for planning and assembling,
// the rest shared by scenes in proportion to their frames actually encoded (a scene
// taken from a scene store counts as encoded).

/** The seed's phases a render itself goes through (the service adds queued and uploading). */
export type RenderPhase = 'planning' | 'dispatching' | 'waiting' | 'rendering' | 'assembling' | 'done';

export interface RenderProgress {
  phase: RenderPhase;
  /** 0..1, never decreasing. */
  progress: number;
  scenesDone: number;
  scenesTotal: number;
  framesDone: number;
  framesTotal: number;
}

const PLANNING = 0.05;
const ASSEMBLING = 0.05;

export function progressOf(phase: RenderPhase, framesDone: number, framesTotal: number): number {
  if (phase === 'done') return 1;
  if (phase === 'planning') return 0;
  const frames = framesTotal > 0 ? Math.min(1, framesDone / framesTotal) : 1;
  const rendered = PLANNING + (1 - PLANNING - ASSEMBLING) * frames;
  return phase === 'assembling' ? Math.max(rendered, 1 - ASSEMBLING) : rendered;
}
