// A job as clients see it (GET /v1/jobs/{jobId}, lists, cancel replies): the schema of what
// jobs/ builds (jobs/job-view.ts); the routes that answer with it check the two agree.
import { type Static, Type } from '@sinclair/typebox';
import { FAILURES, PHASES, SCENE_STATES, STATUSES, type FailureCode } from '../jobs/index.ts';

export const JobView = Type.Object(
  {
    jobId: Type.String(),
    projectId: Type.String(),
    status: Type.Union(
      STATUSES.map((s) => Type.Literal(s)),
      {
        description:
          'queued: waiting for a worker; running: in one of the phases planning..uploading; done, failed, cancelled: final',
      },
    ),
    phase: Type.Union(
      PHASES.map((p) => Type.Literal(p)),
      {
        description:
          'queued → planning → dispatching → waiting → rendering → assembling → uploading → done; stays where it was when a job fails or is cancelled',
      },
    ),
    progress: Type.Number({ minimum: 0, maximum: 1, description: 'never decreases' }),
    createdAt: Type.String(),
    startedAt: Type.Union([Type.String(), Type.Null()]),
    updatedAt: Type.String(),
    finishedAt: Type.Union([Type.String(), Type.Null()]),
    scenes: Type.Array(
      Type.Object({
        sceneId: Type.String(),
        frames: Type.Integer(),
        state: Type.Union(
          SCENE_STATES.map((s) => Type.Literal(s)),
          { description: 'cached: reused from an earlier render of the same scene' },
        ),
      }),
    ),
    outputUrl: Type.Optional(Type.String({ description: 'signed, expiring URL of the MP4 (done only)' })),
    mediaData: Type.Optional(
      Type.Object({
        duration: Type.Number(),
        width: Type.Integer(),
        height: Type.Integer(),
        fps: Type.Number({ description: 'a whole number, or an NTSC rate (29.97: exactly 30000/1001)' }),
        frames: Type.Integer(),
        bytes: Type.Integer(),
      }),
    ),
    error: Type.Optional(
      Type.Object(
        {
          code: Type.Unsafe<FailureCode>(
            Type.String({
              enum: Object.keys(FAILURES),
              description: Object.entries(FAILURES)
                .map(([code, when]) => `- \`${code}\`: ${when}`)
                .join('\n'),
            }),
          ),
          message: Type.String({ description: 'a sentence for people, naming the layer or scene' }),
        },
        { description: 'why the job failed (failed only)' },
      ),
    ),
    warnings: Type.Array(Type.String(), {
      description:
        'what the user should know about the output, e.g. a text character no bundled font has (drawn as a box); empty until done',
    }),
  },
  { $id: 'Job', description: 'A job' },
);
export type JobShown = Static<typeof JobView>;
