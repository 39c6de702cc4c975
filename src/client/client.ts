// The render API over HTTP, with the platform's fetch and nothing else: submit, read, list
// and cancel jobs, and follow a job's progress events, resuming after a dropped connection
// from the last event seen (Last-Event-ID), so no event is missed or repeated.
import { apiError, ReelsmithApiError } from './api-error.ts';
import { eventStream } from './event-stream.ts';
import type { Job, JobEvent, JobList, RenderRequest, SubmitReply } from './types.ts';

export interface ClientOptions {
  /** Where the API is, e.g. `http://localhost:8080` (paths are appended: `/v1/...`). */
  baseUrl: string;
  /** The `x-api-key` of every request. */
  apiKey: string;
}

export interface RequestOptions {
  signal?: AbortSignal;
}

export interface SubmitOptions extends RequestOptions {
  /** Same key and same body: the same job again, never a second one (a retried submit is safe). */
  idempotencyKey?: string;
}

export interface ListOptions extends RequestOptions {
  projectId?: string;
  /** 1..100 (default 20). */
  limit?: number;
  /** The previous page's `nextCursor`. */
  cursor?: string;
}

export interface ProgressOptions extends RequestOptions {
  /** Resume after this event id (a stream read before); the default is from the job's first event. */
  lastEventId?: string;
  /** Wait before reconnecting, in ms, unless the server asks for another (default 1000). */
  retryMs?: number;
  /** Connections in a row that may fail or end without an event before giving up (default 5). */
  maxRetries?: number;
}

const FINAL_EVENTS: ReadonlySet<string> = new Set(['done', 'failed', 'cancelled']);

export function createClient(options: ClientOptions) {
  const base = options.baseUrl.replace(/\/+$/, '');

  async function request<T>(
    method: string,
    path: string,
    init: RequestOptions & { json?: unknown; headers?: Record<string, string> } = {},
  ): Promise<T> {
    const response = await fetch(base + path, {
      method,
      signal: init.signal,
      headers: {
        'x-api-key': options.apiKey,
        accept: 'application/json',
        ...(init.json === undefined ? {} : { 'content-type': 'application/json' }),
        ...init.headers,
      },
      body: init.json === undefined ? undefined : JSON.stringify(init.json),
    });
    if (!response.ok) throw await apiError(response);
    return (await response.json()) as T;
  }

  return {
    /** Queues a render: 202 `{ jobId, status: "queued" }`. */
    submit(body: RenderRequest, opts: SubmitOptions = {}): Promise<SubmitReply> {
      const headers = opts.idempotencyKey ? { 'idempotency-key': opts.idempotencyKey } : undefined;
      return request('POST', '/v1/render/jobs', { json: body, headers, signal: opts.signal });
    },

    get(jobId: string, opts: RequestOptions = {}): Promise<Job> {
      return request('GET', `/v1/jobs/${encodeURIComponent(jobId)}`, opts);
    },

    /** One page of the account's jobs (or one project's), newest first. */
    list(opts: ListOptions = {}): Promise<JobList> {
      const query = new URLSearchParams();
      if (opts.projectId !== undefined) query.set('projectId', opts.projectId);
      if (opts.limit !== undefined) query.set('limit', String(opts.limit));
      if (opts.cursor !== undefined) query.set('cursor', opts.cursor);
      const search = query.size > 0 ? `?${query}` : '';
      return request('GET', `/v1/jobs${search}`, { signal: opts.signal });
    },

    /** Cancels a job (a finished one is returned unchanged). */
    cancel(jobId: string, opts: RequestOptions = {}): Promise<Job> {
      return request('POST', `/v1/jobs/${encodeURIComponent(jobId)}/cancel`, opts);
    },

    /**
     * The job's events as they happen, ending after `done`, `failed` or `cancelled`. A
     * dropped connection is resumed after the last event seen; an API error (an unknown
     * job, a wrong key) is thrown as a ReelsmithApiError.
     */
    async *progress(jobId: string, opts: ProgressOptions = {}): AsyncGenerator<JobEvent> {
      const { signal, maxRetries = 5 } = opts;
      let retryMs = opts.retryMs ?? 1000;
      let lastEventId = opts.lastEventId;
      let failures = 0;
      let lastError: unknown;
      for (;;) {
        let received = false;
        try {
          const response = await fetch(`${base}/v1/jobs/${encodeURIComponent(jobId)}/progress`, {
            signal,
            headers: {
              'x-api-key': options.apiKey,
              accept: 'text/event-stream',
              ...(lastEventId === undefined ? {} : { 'last-event-id': lastEventId }),
            },
          });
          if (!response.ok) {
            const error = await apiError(response);
            // a server that is restarting or draining may answer 5xx: retried like a dropped connection
            if (response.status < 500) throw error;
            lastError = error;
          } else if (response.body) {
            for await (const message of eventStream(response.body)) {
              if (message.retry !== undefined) retryMs = message.retry;
              lastEventId = message.id;
              received = true;
              const event = { ...JSON.parse(message.data), id: message.id ?? '' } as JobEvent;
              yield event;
              if (FINAL_EVENTS.has(event.event)) return;
            }
          }
        } catch (err) {
          if (signal?.aborted || err instanceof ReelsmithApiError) throw err;
          lastError = err;
        }
        failures = received ? 0 : failures + 1;
        if (failures > maxRetries)
          throw lastError ?? new Error(`${jobId}: ${failures} connections in a row ended without an event`);
        await sleep(retryMs, signal);
      }
    },
  };
}

export type ReelsmithClient = ReturnType<typeof createClient>;

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', stop);
      resolve();
    }, ms);
    const stop = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', stop, { once: true });
  });
}
