// What jobs need from the place outputs and scene chunks are kept, whichever it is: a folder
// on local disk (embedded mode) or an S3-compatible bucket (distributed mode). Keys are
// relative, "/"-separated paths ("outputs/job_x/output.mp4"), the same in both.
import type { Readable } from 'node:stream';

export interface StoredObject {
  bytes: number;
}

/** Bytes `start` to `end`, both included (as in an HTTP Range header). */
export interface ByteRange {
  start: number;
  end: number;
}

export interface Storage {
  /**
   * Stores a finished file under `key`, replacing what was there: readers see the old object
   * or the whole new one, never a part. With `move` the file is gone once it is stored.
   */
  put(key: string, file: string, options?: { move?: boolean }): Promise<StoredObject>;
  /** The object under `key`, or undefined when there is none. */
  stat(key: string): Promise<StoredObject | undefined>;
  /** The bytes of `key`, all or `range`; a key with no object fails the stream. */
  read(key: string, range?: ByteRange): Readable;
  /** Removes `key`'s object; removing one that is not there is not an error. */
  remove(key: string): Promise<void>;
  /** The URL a user downloads `key` from, valid until `expiresAt` (unix seconds). */
  urlFor(key: string, expiresAt: number): Promise<string>;
}

/** The media type a stored key is served with. */
export function contentTypeOf(key: string): string {
  return key.endsWith('.mp4') ? 'video/mp4' : 'application/octet-stream';
}

export const STORAGE_KEY_RULE = 'no empty, "." or ".." part, no backslash or control character';

/** A relative "/"-separated path that stays where it is put: never climbs out of a folder or prefix. */
export function isStorageKey(key: string): boolean {
  return key.split('/').every((part) => part !== '' && part !== '.' && part !== '..') && !/[\0-\x1f\x7f\\]/.test(key);
}
