// An error answer of the API as a typed error: its HTTP status and the API's error code.
import type { ErrorDetail } from './types.ts';

/** Used when the answer is not one of the API's (a proxy's error page, say). */
export const UNEXPECTED_RESPONSE = 'UNEXPECTED_RESPONSE';

export class ReelsmithApiError extends Error {
  constructor(
    readonly status: number,
    /** The API's error code, e.g. `UNAUTHORIZED`, `INVALID_MOVIE_JSON`, `NOT_FOUND`. */
    readonly code: ErrorDetail['code'] | typeof UNEXPECTED_RESPONSE,
    message: string,
    /** For INVALID_MOVIE_JSON, every problem with its JSON path. */
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'ReelsmithApiError';
  }
}

/** The error an unsuccessful response stands for. */
export async function apiError(response: Response): Promise<ReelsmithApiError> {
  const text = await response.text().catch(() => '');
  try {
    const { error } = JSON.parse(text) as { error: ErrorDetail };
    if (typeof error?.code === 'string' && typeof error.message === 'string')
      return new ReelsmithApiError(response.status, error.code, error.message, error.details);
  } catch {
    // not JSON: described below
  }
  return new ReelsmithApiError(
    response.status,
    UNEXPECTED_RESPONSE,
    `HTTP ${response.status} ${response.statusText}: ${text.slice(0, 200) || '(no body)'}`,
  );
}
