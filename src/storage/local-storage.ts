// Outputs on local disk under one folder, addressed by key ("outputs/job_x/output.mp4"),
// handed out as signed, expiring URLs that the API serves with Range support (/v1/files).
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, normalize, sep } from 'node:path';
import type { ByteRange, Storage, StoredObject } from './storage.ts';

export interface StoredFile extends StoredObject {
  path: string;
}

export class LocalStorage implements Storage {
  constructor(
    private readonly root: string,
    private readonly secret: string,
    /** Where clients reach our API, asked at each link: a port chosen by the system is known only once listening. */
    private readonly publicUrl: () => string = () => {
      throw new Error('this LocalStorage was given no public URL to make links with');
    },
  ) {}

  /** Copies (or moves) a finished file in under `key`, atomically. */
  async put(key: string, file: string, options: { move?: boolean } = {}): Promise<StoredFile> {
    const path = this.pathOf(key);
    await mkdir(dirname(path), { recursive: true });
    const partial = `${path}.partial`;
    try {
      if (options.move) await rename(file, partial).catch(() => copyFile(file, partial));
      else await copyFile(file, partial);
      await rename(partial, path);
    } finally {
      await rm(partial, { force: true });
    }
    return { path, bytes: (await stat(path)).size };
  }

  async stat(key: string): Promise<StoredFile | undefined> {
    const path = this.pathOf(key);
    const info = await stat(path).catch(() => undefined);
    return info?.isFile() ? { path, bytes: info.size } : undefined;
  }

  /** For readers through the Storage interface; the API's /v1/files sends `stat`'s path itself. */
  read(key: string, range?: ByteRange) {
    return createReadStream(this.pathOf(key), range);
  }

  async remove(key: string): Promise<void> {
    await rm(this.pathOf(key), { force: true });
  }

  /** Our API's link to `key`, signed until `expiresAt` (unix seconds). */
  async urlFor(key: string, expiresAt: number): Promise<string> {
    this.pathOf(key); // refuses a key that climbs out, as reading it would
    return `${this.publicUrl().replace(/\/$/, '')}/v1/files/${key}?${this.sign(key, expiresAt)}`;
  }

  /** Query string that lets anyone holding it read `key` until `expiresAt` (unix seconds). */
  sign(key: string, expiresAt: number): string {
    return `expires=${expiresAt}&signature=${this.signature(key, expiresAt)}`;
  }

  verify(key: string, expires: string | undefined, signature: string | undefined, now = Date.now() / 1000): boolean {
    const at = Number(expires);
    if (!Number.isInteger(at) || at < now || typeof signature !== 'string') return false;
    const expected = Buffer.from(this.signature(key, at));
    const given = Buffer.from(signature);
    return expected.length === given.length && timingSafeEqual(expected, given);
  }

  private signature(key: string, expiresAt: number): string {
    return createHmac('sha256', this.secret).update(`${key}\n${expiresAt}`).digest('base64url');
  }

  /** The file for a key; keys never climb out of the root. */
  private pathOf(key: string): string {
    const path = normalize(join(this.root, key));
    if (!path.startsWith(this.root + sep) || key.includes('\0')) throw new Error(`invalid storage key: ${key}`);
    return path;
  }
}
