// Every error code Reelsmith tells a client, in one catalogue: the answers of the API with
// their HTTP status (`answer`), and the codes a failed job ends with (`failure`). The API's
// error schema and answers derive from it, and test/error-codes.test.ts holds the README's
// two tables to it.

/** `status`: what the API answers the code with, `answer`: when; `failure`: when a job fails with it. */
type ErrorSpec = { status: number; answer: string; failure?: string } | { status?: never; failure: string };

export const ERRORS = {
  INVALID_MOVIE_JSON: {
    status: 400,
    answer: 'the body failed validation, or is not JSON; `details` lists every problem with its JSON path',
  },
  INVALID_REQUEST: { status: 400, answer: 'a path, query or header parameter is not what the operation takes' },
  INVALID_CURSOR: { status: 400, answer: '`cursor` is not one this API returned' },
  PLAN_RESOLUTION_EXCEEDED: { status: 400, answer: "width x height (either orientation) is above the plan's maximum" },
  PLAN_DURATION_EXCEEDED: { status: 400, answer: "the movie is longer than the plan's per-job limit" },
  UNAUTHORIZED: { status: 401, answer: 'a missing or unknown `x-api-key` (or metrics token)' },
  RENDER_QUOTA_EXCEEDED: { status: 402, answer: "the job would pass the month's render minutes" },
  RENDER_QUOTA_DAILY_EXCEEDED: {
    status: 402,
    answer: "the job would pass the day's render minutes (reset at midnight UTC)",
  },
  FORBIDDEN: { status: 403, answer: 'the plan has no API access' },
  PRESET_NOT_ALLOWED: { status: 403, answer: "a preset or `requestedConcurrency` above the plan's" },
  INVALID_SIGNATURE: { status: 403, answer: 'a file link whose signature is wrong or has expired' },
  NOT_FOUND: { status: 404, answer: 'no such job, project, file or route in your account' },
  CONCURRENCY_LIMIT_EXCEEDED: {
    status: 409,
    answer: "the account already has its plan's number of jobs queued or running",
  },
  IDEMPOTENCY_KEY_REUSED: { status: 422, answer: 'an `Idempotency-Key` sent again with a different body' },
  BAD_REQUEST: { status: 400, answer: 'a request the server cannot read (e.g. bytes that are not HTTP)' },
  REQUEST_TIMEOUT: { status: 408, answer: 'the request did not arrive in time' },
  PRECONDITION_FAILED: {
    status: 412,
    answer: "a file request's `If-Match` or `If-Unmodified-Since` does not hold for the file",
  },
  PAYLOAD_TOO_LARGE: { status: 413, answer: 'the body is larger than the limit' },
  URI_TOO_LONG: { status: 414, answer: 'a path parameter (e.g. a job id) is longer than any id this API gives' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, answer: 'a body that is not `application/json`' },
  RANGE_NOT_SATISFIABLE: {
    status: 416,
    answer: "a file request's `Range` starts past the file's end; `Content-Range: bytes */<size>`",
  },
  HEADERS_TOO_LARGE: { status: 431, answer: "the request headers are larger than Node's limit" },
  RATE_LIMITED: { status: 429, answer: "over the plan's requests per minute; `Retry-After` says when to retry" },
  INSUFFICIENT_STORAGE: {
    status: 507,
    answer: "the server's disk is (nearly) full; nothing was queued or reserved",
    failure: 'the disk filled while the job ran; its work files are removed and its minutes returned',
  },
  INTERNAL: { status: 500, answer: 'something went wrong on the server' },
  SERVICE_UNAVAILABLE: {
    status: 503,
    answer: 'the job database cannot be reached right now (restarting); `Retry-After` says when to try again',
  },
  SOURCE_UNAVAILABLE: {
    failure: 'a source could not be fetched, is not a format Reelsmith reads, is over a limit, or cannot be decoded',
  },
  SOURCE_TOO_LARGE: {
    failure:
      "reading a source needs more memory than a reader may take (e.g. an index of millions of samples), or the movie's pictures and text more disk than a job's work files may take",
  },
  RENDER_TIMEOUT: { failure: 'an ffmpeg passed its time limit or stalled' },
  STORAGE_UNAVAILABLE: {
    failure: 'object storage (the scene cache or the output) could not be reached, after retries with backoff',
  },
  RENDER_FAILED: { failure: 'anything else: the message names the scene and quotes ffmpeg' },
} as const satisfies Record<string, ErrorSpec>;

type Catalogue = typeof ERRORS;
export type ErrorCode = keyof Catalogue;
type CodesWith<Field extends 'status' | 'failure'> = {
  [C in ErrorCode]: Field extends keyof Catalogue[C] ? C : never;
}[ErrorCode];
/** A code the API answers with, at its status. */
export type AnswerCode = CodesWith<'status'>;
/** A code a failed job ends with. */
export type FailureCode = CodesWith<'failure'>;

const codes = Object.keys(ERRORS) as ErrorCode[];
/** The codes the API answers with, in the catalogue's order, each with its status and when. */
export const ANSWERS = Object.fromEntries(
  codes.flatMap((code) => {
    const spec: ErrorSpec = ERRORS[code];
    return spec.status === undefined ? [] : [[code, { status: spec.status, when: spec.answer }]];
  }),
) as Record<AnswerCode, { status: number; when: string }>;
/** The codes a failed job ends with, each with when. */
export const FAILURES = Object.fromEntries(
  codes.flatMap((code) => {
    const spec: ErrorSpec = ERRORS[code];
    return spec.failure === undefined ? [] : [[code, spec.failure]];
  }),
) as Record<FailureCode, string>;

/**
 * A request jobs/ refuses, by its catalogue code: the API answers it with the code's status.
 * The message is for people and may be shown to the tenant (it names no path of ours).
 */
export class ServiceError extends Error {
  constructor(
    readonly code: AnswerCode,
    message: string,
    /** e.g. every problem of a request with its JSON path. */
    readonly details?: unknown,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'ServiceError';
  }
}
