// What one job event carries, as `data` on the progress stream and as a webhook's body: which
// event it is, and the job's fields as GET /v1/jobs/{jobId} names them. The API document's
// JobEvent (and its webhooks.jobEvent), and reelsmith/client's event types, come from here.
import { Type } from '@sinclair/typebox';
import { JobView } from './job-view.ts';

const { jobId, status, phase, progress, outputUrl, mediaData, error } = JobView.properties;
const count = (description: string) => Type.Integer({ minimum: 0, description });

export const JobEventBody = Type.Union(
  [
    Type.Object({
      event: Type.Union([Type.Literal('phase'), Type.Literal('cancelled')], {
        description: 'phase: the job entered `phase`; cancelled: the job was cancelled (final)',
      }),
      jobId,
      status,
      phase,
      progress,
    }),
    Type.Object({
      event: Type.Literal('progress', { description: 'frames were encoded' }),
      jobId,
      phase,
      progress,
      scenesDone: count('scenes encoded or taken from the scene cache'),
      scenesTotal: count('scenes in the movie'),
      framesDone: count('frames encoded (cached scenes count as encoded)'),
      framesTotal: count('frames in the movie'),
    }),
    Type.Object({
      event: Type.Literal('done', { description: 'the MP4 is stored (final)' }),
      jobId,
      status,
      phase,
      progress,
      outputUrl: Type.Optional(outputUrl, false),
      mediaData: Type.Optional(mediaData, false),
    }),
    Type.Object({
      event: Type.Literal('failed', { description: 'the job failed (final)' }),
      jobId,
      status,
      phase,
      progress,
      error: Type.Optional(error, false),
    }),
  ],
  { $id: 'JobEvent', description: 'A job event: on the progress stream, and the body of a webhook' },
);
