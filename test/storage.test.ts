// The Storage contract jobs rely on, kept alike by both backends: the same cases run against
// a folder on local disk and against a real S3 server (s3rver on a loopback port).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { describe, test } from 'node:test';
import { LocalStorage, type Storage } from '../src/storage/index.ts';
import { s3Server, s3Storage, tempDir } from './helpers.ts';

const work = await tempDir();
let files = 0;

/** A file of `bytes` random bytes. */
async function fileOf(bytes: number): Promise<{ path: string; data: Buffer }> {
  const data = randomBytes(bytes);
  const path = join(work, `file-${files++}`);
  await writeFile(path, data);
  return { path, data };
}

const backends: Array<{ name: string; open: () => Promise<Storage> }> = [
  { name: 'LocalStorage', open: async () => new LocalStorage(await tempDir(), 'secret') },
  {
    name: 'S3Storage',
    open: async () => {
      const server = await s3Server();
      return s3Storage(`s3://${server.bucket}/tenant/a`, server.settings);
    },
  },
];

for (const backend of backends) {
  describe(backend.name, async () => {
    const storage = await backend.open();

    test('put stores a copy; stat, a whole read and a ranged read give its bytes', async () => {
      const { path, data } = await fileOf(100_000);
      assert.equal((await storage.put('outputs/job_1/output.mp4', path)).bytes, 100_000);
      assert.ok(existsSync(path), 'the file put is still there');
      assert.equal((await storage.stat('outputs/job_1/output.mp4'))?.bytes, 100_000);
      assert.deepEqual(await buffer(storage.read('outputs/job_1/output.mp4')), data);
      const range = await buffer(storage.read('outputs/job_1/output.mp4', { start: 1000, end: 1999 }));
      assert.deepEqual(range, data.subarray(1000, 2000), 'the end of a range is included');
    });

    test('put with move takes the file; a second put replaces the object whole', async () => {
      const first = await fileOf(5000);
      await storage.put('scene-cache/proj_1/abc/chunk-0.h264', first.path, { move: true });
      assert.equal(existsSync(first.path), false, 'a moved file is gone');
      const second = await fileOf(3000);
      await storage.put('scene-cache/proj_1/abc/chunk-0.h264', second.path, { move: true });
      assert.equal((await storage.stat('scene-cache/proj_1/abc/chunk-0.h264'))?.bytes, 3000);
      assert.deepEqual(await buffer(storage.read('scene-cache/proj_1/abc/chunk-0.h264')), second.data);
    });

    test('remove takes the object; a key with no object: stat undefined, remove fine, read fails', async () => {
      const { path } = await fileOf(10);
      await storage.put('outputs/job_2/output.mp4', path);
      await storage.remove('outputs/job_2/output.mp4');
      assert.equal(await storage.stat('outputs/job_2/output.mp4'), undefined);
      await storage.remove('outputs/job_2/output.mp4');
      await assert.rejects(buffer(storage.read('outputs/job_2/output.mp4')));
    });

    test('keys that climb out of the storage are refused by every operation', async () => {
      const { path } = await fileOf(10);
      for (const key of ['../outside.mp4', 'outputs/../../outside.mp4']) {
        await assert.rejects(storage.put(key, path), /invalid storage key/);
        await assert.rejects(storage.stat(key), /invalid storage key/);
        assert.throws(() => storage.read(key), /invalid storage key/);
        await assert.rejects(storage.remove(key), /invalid storage key/);
        await assert.rejects(storage.urlFor(key, Math.floor(Date.now() / 1000) + 60), /invalid storage key/);
      }
    });
  });
}

test("LocalStorage's URL is our API's /v1/files link, signed until the given time", async () => {
  const storage = new LocalStorage(await tempDir(), 'secret', () => 'https://render.example.com/');
  const expiresAt = Math.floor(Date.now() / 1000) + 60;
  const url = new URL(await storage.urlFor('outputs/job_1/output.mp4', expiresAt));
  assert.equal(`${url.origin}${url.pathname}`, 'https://render.example.com/v1/files/outputs/job_1/output.mp4');
  assert.equal(url.searchParams.get('expires'), String(expiresAt));
  const verify = (key: string) =>
    storage.verify(key, url.searchParams.get('expires') ?? undefined, url.searchParams.get('signature') ?? undefined);
  assert.equal(verify('outputs/job_1/output.mp4'), true);
  assert.equal(verify('outputs/job_2/output.mp4'), false, 'the signature is for that key only');
  await assert.rejects(
    new LocalStorage(await tempDir(), 'secret').urlFor('outputs/job_1/output.mp4', expiresAt),
    /no public URL/,
  );
});
