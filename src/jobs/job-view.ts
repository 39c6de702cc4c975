// A job as its owner is told it (GET /v1/jobs/{jobId}, lists, cancel replies; the API's Job
// schema), and one stored event as SSE clients and webhooks are told it: built from what the
// store holds, with a freshly signed outputUrl once the job is done.
import type { MediaData } from '../render/index.ts';
import type { JobEvent, JobRow, JobSceneRow } from './database.ts';
import type { FailureCode } from './errors.ts';
import type { EventType, Phase, SceneState, Status } from './job-state.ts';

export interface Job {
  jobId: string;
  projectId: string;
  status: Status;
  phase: Phase;
  progress: number;
  createdAt: string;
  startedAt: string | null;
  updatedAt: string;
  finishedAt: string | null;
  scenes: Array<{ sceneId: string; frames: number; state: SceneState }>;
  outputUrl?: string;
  mediaData?: MediaData;
  error?: { code: FailureCode; message: string };
  warnings: string[];
}

/** The job as stored and its scenes; `outputUrl`: a link to its output, once it is done. */
export function jobOf(job: JobRow, scenes: JobSceneRow[], outputUrl: string | undefined): Job {
  return {
    jobId: job.id,
    projectId: job.project_id,
    status: job.status as Status,
    phase: job.phase as Phase,
    progress: job.progress,
    createdAt: job.created_at,
    startedAt: job.started_at,
    updatedAt: job.updated_at,
    finishedAt: job.finished_at,
    scenes: scenes.map((s) => ({ sceneId: s.scene_id, frames: s.frames, state: s.state as SceneState })),
    ...(job.status === 'done' && outputUrl ? { outputUrl } : {}),
    ...(job.media_data ? { mediaData: JSON.parse(job.media_data) as MediaData } : {}),
    ...(job.error_code ? { error: { code: job.error_code as FailureCode, message: job.error_message ?? '' } } : {}),
    warnings: job.warnings ? (JSON.parse(job.warnings) as string[]) : [],
  };
}

/** One event of a job as it is told: its id on the stream, its type, and the body (the API's JobEvent). */
export interface JobMessage {
  id: number;
  jobId: string;
  type: EventType;
  body: Record<string, unknown>;
}

/**
 * The seed's fields plus phase; a `done` event also carries the output's URL and media data
 * (`job`: the job as stored now, and `outputUrl` a link to its output, which a done event's body needs).
 */
export function messageOf(
  event: JobEvent,
  done?: { job: JobRow | undefined; outputUrl: string | undefined },
): JobMessage {
  const data = JSON.parse(event.data) as Record<string, unknown>;
  const body: Record<string, unknown> = { event: event.type, jobId: event.job_id, ...data };
  if (event.type === 'done') {
    if (done?.outputUrl) body.outputUrl = done.outputUrl;
    if (done?.job?.media_data) body.mediaData = JSON.parse(done.job.media_data);
  }
  return { id: event.id, jobId: event.job_id, type: event.type as EventType, body };
}
