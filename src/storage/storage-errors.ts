// How storage fails, told apart so jobs can map each to a clear error code and the CLI can
// refuse a bad setting before anything starts.

/** A storage setting that cannot work (an unknown scheme, no bucket, a missing credential). */
export class StorageConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StorageConfigError';
  }
}

/** The store answered and refused (no such bucket, access denied): retrying will not help. */
export class StorageError extends Error {
  constructor(
    message: string,
    /** Which store: "s3://bucket/prefix/ at endpoint". */
    readonly location: string,
    cause: unknown,
  ) {
    super(message, { cause });
    this.name = 'StorageError';
  }
}

/** The store did not answer, or answered 5xx, on every attempt: it may come back. */
export class StorageUnavailableError extends StorageError {
  constructor(
    message: string,
    location: string,
    readonly attempts: number,
    cause: unknown,
  ) {
    super(message, location, cause);
    this.name = 'StorageUnavailableError';
  }
}
