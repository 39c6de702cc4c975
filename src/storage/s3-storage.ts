// Outputs and scene chunks in an S3-compatible bucket under one prefix (distributed mode):
// objects appear whole (large files go up as a multipart upload, visible once completed),
// users download through presigned GETs, and a store that does not answer is retried a
// bounded number of times, then reported with its bucket and endpoint named.
import { createReadStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { S3Config } from './storage-config.ts';
import { StorageError, StorageUnavailableError } from './storage-errors.ts';
import {
  type ByteRange,
  contentTypeOf,
  isStorageKey,
  STORAGE_KEY_RULE,
  type Storage,
  type StoredObject,
} from './storage.ts';

export interface S3Tuning {
  /**
   * Tries per request before a StorageUnavailableError, with the SDK's standard retry between
   * them (jittered exponential backoff from 50 ms, from 1 s when throttled).
   */
  maxAttempts: number;
  /** A try that has not connected by then fails (and is retried). */
  connectTimeoutMs: number;
  /** A try that stays silent this long, waiting for an answer or mid-transfer, fails (and is retried). */
  idleTimeoutMs: number;
  /** Multipart part size, at least S3's minimum of 5 MiB; a smaller file goes up in one PUT. */
  partSizeBytes: number;
  /** Parts uploaded at once. */
  partsAtOnce: number;
}

/**
 * A store that refuses connections is reported in under a second, one that never connects
 * after about 12 s, one that connects and stays silent after about a minute; a transfer that
 * keeps moving is never cut, however long it takes.
 */
export const DEFAULT_S3_TUNING: Readonly<S3Tuning> = Object.freeze({
  maxAttempts: 4,
  connectTimeoutMs: 3_000,
  idleTimeoutMs: 15_000,
  partSizeBytes: 8 * 1024 * 1024,
  partsAtOnce: 4,
});

/** SigV4 presigned URLs last a week at most. */
const MAX_URL_SECONDS = 7 * 86_400;

export class S3Storage implements Storage {
  /** Which store, for messages: "s3://bucket/prefix/ at endpoint". */
  readonly location: string;
  private readonly client: S3Client;
  private readonly tuning: S3Tuning;

  constructor(
    private readonly config: S3Config,
    tuning: Partial<S3Tuning> = {},
  ) {
    this.tuning = { ...DEFAULT_S3_TUNING, ...tuning };
    this.location = `s3://${config.bucket}/${config.prefix} at ${config.endpoint ?? `AWS ${config.region}`}`;
    this.client = new S3Client({
      region: config.region,
      endpoint: config.endpoint,
      forcePathStyle: config.forcePathStyle,
      credentials: { ...config.credentials }, // a copy: the SDK writes into it, the config is frozen
      // the resolved config is the whole configuration: no AWS_ENDPOINT_URL* or ~/.aws/config behind it
      ignoreConfiguredEndpointUrls: true,
      maxAttempts: this.tuning.maxAttempts,
      retryMode: 'standard',
      requestHandler: {
        connectionTimeout: this.tuning.connectTimeoutMs,
        socketTimeout: this.tuning.idleTimeoutMs,
      },
      // checksums only where S3 requires them: several S3-compatible servers refuse the SDK's default trailers
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  /** Resolves when the bucket is there and these credentials may use it; for a clear refusal at start. */
  async check(): Promise<void> {
    await this.attempt('bucket check', undefined, () =>
      this.client.send(new HeadBucketCommand({ Bucket: this.config.bucket })),
    );
  }

  async put(key: string, file: string, options: { move?: boolean } = {}): Promise<StoredObject> {
    const Key = this.objectKey(key);
    const { size } = await stat(file);
    const body = createReadStream(file);
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.config.bucket, Key, Body: body, ContentType: contentTypeOf(key) },
      partSize: this.tuning.partSizeBytes,
      queueSize: this.tuning.partsAtOnce,
    });
    try {
      await this.attempt('put', key, () => upload.done());
    } finally {
      body.destroy(); // an upload that failed before reading it all leaves the file open
    }
    if (options.move) await rm(file, { force: true });
    return { bytes: size };
  }

  async stat(key: string): Promise<StoredObject | undefined> {
    const Key = this.objectKey(key);
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.config.bucket, Key }));
      return { bytes: head.ContentLength ?? 0 };
    } catch (err) {
      if (metadataOf(err)?.httpStatusCode === 404) return undefined;
      throw this.failure(err, 'stat', key);
    }
  }

  /** A reader that stops taking bytes for `idleTimeoutMs` loses the stream, as if the store had stalled. */
  read(key: string, range?: ByteRange): Readable {
    const command = new GetObjectCommand({
      Bucket: this.config.bucket,
      Key: this.objectKey(key),
      Range: range && `bytes=${range.start}-${range.end}`,
    });
    return Readable.from(this.bytes(command, key), { objectMode: false });
  }

  async remove(key: string): Promise<void> {
    const Key = this.objectKey(key);
    await this.attempt('remove', key, () =>
      this.client.send(new DeleteObjectCommand({ Bucket: this.config.bucket, Key })),
    );
  }

  /** A presigned GET, signed now and valid until `expiresAt` (at most a week away). */
  async urlFor(key: string, expiresAt: number): Promise<string> {
    const Key = this.objectKey(key);
    const now = Math.floor(Date.now() / 1000);
    const expiresIn = expiresAt - now;
    if (expiresIn < 1 || expiresIn > MAX_URL_SECONDS)
      throw new RangeError(`an S3 download URL lasts 1 s to 7 days; asked for ${expiresIn} s`);
    return getSignedUrl(this.client, new GetObjectCommand({ Bucket: this.config.bucket, Key }), {
      expiresIn,
      signingDate: new Date(now * 1000),
    });
  }

  /** Closes the connections kept open to the store. */
  close(): void {
    this.client.destroy();
  }

  private async *bytes(command: GetObjectCommand, key: string): AsyncGenerator<Buffer> {
    try {
      const { Body } = await this.client.send(command);
      yield* Body as Readable;
    } catch (err) {
      throw this.failure(err, 'read', key);
    }
  }

  private async attempt<T>(operation: string, key: string | undefined, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (err) {
      throw this.failure(err, operation, key);
    }
  }

  /** An error from the SDK as a storage error naming the store; any other error as it is. */
  private failure(err: unknown, operation: string, key: string | undefined): unknown {
    const metadata = metadataOf(err);
    if (!(err instanceof Error) || metadata === undefined) return err;
    const status = metadata.httpStatusCode;
    const what = key === undefined ? operation : `${operation} ${key}`;
    if (status === undefined || status >= 500 || status === 429) {
      const attempts = metadata.attempts ?? 1;
      const answer = status === undefined ? err.message : describe(status, err);
      return new StorageUnavailableError(
        `S3 storage ${this.location} is unavailable: ${what} failed ${attempts} times (${answer})`,
        this.location,
        attempts,
        err,
      );
    }
    return new StorageError(
      `S3 storage ${this.location}: ${what} was refused (${describe(status, err)})`,
      this.location,
      err,
    );
  }

  /** The object key for `key`: the prefix, then `key`, which never climbs out of it. */
  private objectKey(key: string): string {
    if (!isStorageKey(key)) throw new Error(`invalid storage key: ${key} (${STORAGE_KEY_RULE})`);
    return this.config.prefix + key;
  }
}

/** What the SDK attaches to its errors (and only to them): the HTTP status, if any answer came, and the tries. */
function metadataOf(err: unknown): { httpStatusCode?: number; attempts?: number } | undefined {
  return (err as { $metadata?: { httpStatusCode?: number; attempts?: number } } | undefined)?.$metadata;
}

/** "404 NoSuchBucket: The specified bucket does not exist" (answers to HEAD have no body: "404 NotFound"). */
function describe(status: number, err: Error): string {
  return err.message && err.message !== 'UnknownError'
    ? `${status} ${err.name}: ${err.message}`
    : `${status} ${err.name}`;
}
