// The render request, as POSTed to /v1/render/jobs and as a file `reelsmith render` and
// `validate` read: its schema and its checks, one set for both, so a file `validate`
// passes is one `render` takes and the API accepts, save what depends on the server (the
// project, the plan, its network policy) and local paths (the CLI reads them, the API never).
import { Type, type Static } from '@sinclair/typebox';
import { isHttpUrl, Movie, movieProblems, schemaProblems, type Problem, type ValidateOptions } from '../movie/index.ts';
import { CONCURRENCY_RANGE } from '../render/workers.ts';
import { QualityPresetName } from './quality-preset.ts';
import { MINIMAL_RENDER_REQUEST } from './request-example.ts';

export const RenderRequest = Type.Object(
  {
    kind: Type.Literal('movie', { description: 'selects the scene-based render path' }),
    projectId: Type.String({ minLength: 1, description: 'a project of your account' }),
    movie: Movie,
    renderOptions: Type.Optional(
      Type.Object(
        {
          qualityPreset: Type.Optional(QualityPresetName),
          requestedConcurrency: Type.Optional(
            Type.Integer({
              minimum: CONCURRENCY_RANGE.min,
              maximum: CONCURRENCY_RANGE.max,
              description: 'overrides the preset',
            }),
          ),
        },
        { additionalProperties: false, $id: 'RenderOptions' },
      ),
    ),
    callbackUrl: Type.Optional(
      Type.String({ description: 'http(s) URL that receives signed progress and completion events' }),
    ),
  },
  { additionalProperties: false, examples: [MINIMAL_RENDER_REQUEST] },
);
export type RenderRequest = Static<typeof RenderRequest>;
export type RenderRequestOptions = NonNullable<RenderRequest['renderOptions']>;

/** The fields beside the movie (whose problems movieProblems finds, with its own rules). */
const RequestFields = Type.Omit(RenderRequest, ['movie']);
/** The same in a file for the CLI, which renders for no project: projectId may be left out. */
const RequestFileFields = Type.Composite(
  [Type.Omit(RequestFields, ['projectId']), Type.Partial(Type.Pick(RequestFields, ['projectId']))],
  { additionalProperties: false },
);

export interface RequestPolicy extends ValidateOptions {
  /** The service files each job under a project; a file for the CLI needs none. */
  projectRequired: boolean;
  /** Why the server would not call this callback URL (its network policy), or undefined. */
  callbackRefusal?: (url: string) => string | undefined;
}

/** Whether a parsed file is a whole render request rather than a bare Movie (which has neither field). */
export function isRenderRequest(json: unknown): json is Record<string, unknown> {
  return typeof json === 'object' && json !== null && !Array.isArray(json) && ('kind' in json || 'movie' in json);
}

/** Every problem with a request by JSON path, the movie's own rules included, lazily: the caller lists and counts a bounded number. */
export function* requestProblems(body: unknown, policy: RequestPolicy): Generator<Problem> {
  if (body === undefined)
    return yield { path: '(body)', message: 'is empty: send the render request as a JSON object' };
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    return yield { path: '(body)', message: 'must be a JSON object' };
  const { movie, ...rest } = body as Record<string, unknown>;
  yield* schemaProblems(policy.projectRequired ? RequestFields : RequestFileFields, rest, '');
  if (movie === undefined) yield { path: 'movie', message: 'is required' };
  else yield* movieProblems(movie, policy);
  if (typeof rest.callbackUrl === 'string') {
    const refusal =
      !isHttpUrl(rest.callbackUrl) || !URL.canParse(rest.callbackUrl)
        ? 'must be an http:// or https:// URL'
        : policy.callbackRefusal?.(rest.callbackUrl);
    if (refusal) yield { path: 'callbackUrl', message: refusal };
  }
}
