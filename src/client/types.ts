// What the API sends and takes, as types derived from the server's own TypeBox schemas
// (type-only imports: nothing of the server's code reaches a client's bundle).
import type { Static } from '@sinclair/typebox';
import type { ErrorBody } from '../api/errors.ts';
import type { JobEventBody as JobEventSchema } from '../api/job-event.ts';
import type { JobView } from '../api/job-view.ts';
import type { JobList as JobListSchema } from '../api/routes/jobs.ts';
import type { RenderRequest } from '../jobs/index.ts';

/** The body of POST /v1/render/jobs: `{ kind: "movie", projectId, movie, renderOptions?, callbackUrl? }`. */
export type { RenderRequest };
/** A job as GET /v1/jobs/{jobId} shows it. */
export type Job = Static<typeof JobView>;
export type JobStatus = Job['status'];
export type JobPhase = Job['phase'];
export type MediaData = NonNullable<Job['mediaData']>;
/** The answer to a submit: 202 `{ jobId, status }` (the status a job has: `queued`, or a replayed job's). */
export type SubmitReply = Pick<Job, 'jobId' | 'status'>;
/** One page of GET /v1/jobs, newest first; `nextCursor` asks for the next one. */
export type JobList = Static<typeof JobListSchema>;
/** An error answer's `error`: `{ code, message, details? }`. */
export type ErrorDetail = Static<typeof ErrorBody>['error'];

/**
 * What one progress event (SSE) or webhook carries: `phase` on every phase change,
 * `progress` as frames are encoded, and one final `done`, `failed` or `cancelled`.
 */
export type JobEventBody = Static<typeof JobEventSchema>;

/** A progress event with its stream id (what `Last-Event-ID` resumes after). */
export type JobEvent = JobEventBody & { id: string };
