// The scene cache shared through S3 (a real S3 server on a loopback port), as workers on
// different machines use it: each with its own empty local folder, one bucket between them.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { StoredSceneCache } from '../src/jobs/stored-scene-cache.ts';
import type { SceneState, SceneStore } from '../src/render/index.ts';
import { StorageError, StorageUnavailableError } from '../src/storage/index.ts';
import { render, s3Server, s3Storage, tempDir, videoFrameDigests } from './helpers.ts';

const s3 = await s3Server();
const storage = s3Storage(`s3://${s3.bucket}/shared`, s3.settings);

/** A worker's cache: the shared bucket, a local folder of its own. */
async function worker(): Promise<{ cache: StoredSceneCache; root: string }> {
  const root = await tempDir('reelsmith-worker-');
  return { cache: new StoredSceneCache(storage, root), root };
}

/** A scene "rendered" into a fresh workspace: chunks of random bytes, named out of alphabetical order. */
async function rendered(store: SceneStore, count = 3) {
  const workspace = await store.workspace();
  const names = Array.from({ length: count }, (_, i) => `${'zyx'[i % 3]}-${i}.mp4`);
  const bytes = names.map(() => randomBytes(50_000 + Math.floor(Math.random() * 50_000)));
  for (const [i, name] of names.entries()) await writeFile(join(workspace, name), bytes[i]);
  return { workspace, names, bytes };
}

const newKey = () => randomBytes(16).toString('hex');
const read = (paths: string[]) => Promise.all(paths.map((path) => readFile(path)));

/** The object names PUT under one entry, in the order the server got them. */
const putsUnder = (project: string, key: string) =>
  s3.requests
    .filter((r) => r.startsWith('PUT ') && r.includes(`/shared/scene-cache/${project}/${key}/`))
    .map((r) => r.split('?')[0].split('/').at(-1));

test('a scene never committed is a miss', async () => {
  const { cache } = await worker();
  assert.equal(await cache.forProject('p1').get(newKey()), undefined);
});

test("a scene committed by one worker is another's, byte for byte in play order, downloaded once", async () => {
  const a = await worker();
  const b = await worker();
  const key = newKey();
  const scene = await rendered(a.cache.forProject('p1'));
  const committed = await a.cache.forProject('p1').commit(key, scene.workspace, scene.names);
  assert.deepEqual(await read(committed), scene.bytes, 'the committing worker keeps its chunks');
  assert.ok(
    committed.every((path) => path.startsWith(a.root)),
    'kept in its own folder',
  );
  assert.equal(existsSync(scene.workspace), false, 'the workspace became the local copy');

  const before = s3.requests.length;
  const got = await b.cache.forProject('p1').get(key);
  assert.ok(got);
  assert.ok(
    got.every((path) => path.startsWith(b.root)),
    `copied into the other worker's folder: ${got}`,
  );
  assert.deepEqual(await read(got), scene.bytes);
  assert.ok(s3.requests.length > before);

  const after = s3.requests.length;
  assert.deepEqual(await b.cache.forProject('p1').get(key), got, 'the local copy again');
  assert.equal(s3.requests.length, after, 'with no request to storage');
  assert.equal(await b.cache.forProject('p2').get(key), undefined, 'another project does not share it');
});

test('the playlist is put after every chunk', async () => {
  const { cache } = await worker();
  const key = newKey();
  const scene = await rendered(cache.forProject('p1'), 5);
  await cache.forProject('p1').commit(key, scene.workspace, scene.names);
  assert.deepEqual(putsUnder('p1', key), [...scene.names, 'playlist.json']);
});

test('workers committing the same scene at once all succeed, and the entry is whole', async () => {
  const [a, b, c] = [await worker(), await worker(), await worker()];
  const key = newKey();
  const scene = await rendered(a.cache.forProject('p1'));
  // the same chunks rendered by two workers, and twice by one of them (two jobs, one scene)
  const copies = [a.cache, b.cache, b.cache].map(async (cache) => {
    const store = cache.forProject('p1');
    const workspace = await store.workspace();
    for (const [i, name] of scene.names.entries()) await writeFile(join(workspace, name), scene.bytes[i]);
    return store.commit(key, workspace, scene.names);
  });
  for (const paths of await Promise.all(copies)) assert.deepEqual(await read(paths), scene.bytes);
  assert.deepEqual(await read((await c.cache.forProject('p1').get(key))!), scene.bytes);
  assert.deepEqual(await readdir(join(b.root, 'p1')), [key], 'no workspace left behind');
});

test('a download that fails leaves no local copy, so the next one starts afresh', async () => {
  const a = await worker();
  const b = await worker();
  const key = newKey();
  const scene = await rendered(a.cache.forProject('p1'));
  await a.cache.forProject('p1').commit(key, scene.workspace, scene.names);
  await storage.remove(`scene-cache/p1/${key}/${scene.names[1]}`);
  await assert.rejects(b.cache.forProject('p1').get(key), StorageError, 'a missing chunk is an error, not a miss');
  assert.deepEqual(await readdir(join(b.root, 'p1')), [], 'neither a partial entry nor its workspace');

  await storage.put(`scene-cache/p1/${key}/${scene.names[1]}`, join(a.root, 'p1', key, scene.names[1]));
  assert.deepEqual(await read((await b.cache.forProject('p1').get(key))!), scene.bytes);
});

test('sweep removes the workspaces a killed process left, and keeps the entries', async () => {
  const { cache, root } = await worker();
  const key = newKey();
  const store = cache.forProject('p1');
  const scene = await rendered(store);
  await store.commit(key, scene.workspace, scene.names);
  const left = await rendered(store);
  await cache.sweep();
  assert.equal(existsSync(left.workspace), false);
  assert.deepEqual(await readdir(join(root, 'p1')), [key]);
  const before = s3.requests.length;
  assert.deepEqual(await read((await store.get(key))!), scene.bytes);
  assert.equal(s3.requests.length, before, 'still served locally');
});

test('project ids, scene keys and chunk names stay one plain name each: refused before any request', async () => {
  const { cache, root } = await worker();
  const before = s3.requests.length;
  for (const project of ['../p2', 'p1/x', '.', '..', '', '.tmp-x', 'a\\b'])
    assert.throws(() => cache.forProject(project), /scene cache: project id .* is not a plain name/, project);
  const store = cache.forProject('p1');
  for (const key of ['..', '../../p2/k', 'a/b', '.tmp-1', '', 'k\n'])
    await assert.rejects(store.get(key), /scene cache: scene key .* is not a plain name/, key);
  const scene = await rendered(store, 1);
  for (const names of [['../escape.mp4'], ['playlist.json'], ['a/b.mp4']])
    await assert.rejects(
      store.commit(newKey(), scene.workspace, names),
      /scene cache: chunk name .* is not a plain name/,
    );
  assert.equal(s3.requests.length, before);

  // an entry whose playlist names a path is refused, not followed out of the local folder
  const key = newKey();
  const playlist = join(root, 'bad-playlist.json');
  await writeFile(playlist, JSON.stringify(['../../outside.mp4']));
  await storage.put(`scene-cache/p1/${key}/playlist.json`, playlist);
  await assert.rejects(store.get(key), /playlist\.json lists a chunk name "\.\.\/\.\.\/outside\.mp4"/);
  assert.equal(existsSync(join(root, 'outside.mp4')), false);
});

test('a movie rendered twice: the second time, on another worker, every scene comes from the cache', {
  timeout: 60_000,
}, async () => {
  const dir = await tempDir();
  const movie = {
    width: 64,
    height: 64,
    fps: 10,
    scenes: [
      { id: 'red', duration: 0.5, bgColor: '#ff0000', layers: [] },
      { id: 'blue', duration: 0.3, bgColor: '#0000ff', layers: [] },
    ],
  };
  const renderOn = async (cache: StoredSceneCache) => {
    const states: SceneState[] = [];
    const { path } = await render(movie, dir, {
      scenes: cache.forProject('p1'),
      onScene: (i, state) => (states[i] = state),
    });
    return { states, digests: await videoFrameDigests(path) };
  };
  const first = await renderOn((await worker()).cache);
  assert.deepEqual(first.states, ['done', 'done']);
  const second = await renderOn((await worker()).cache);
  assert.deepEqual(second.states, ['cached', 'cached']);
  assert.equal(second.digests.length, 8);
  assert.deepEqual(second.digests, first.digests);
});

test('storage that is down fails get and commit with StorageUnavailableError, never a miss', async () => {
  const down = await s3Server();
  const cache = new StoredSceneCache(s3Storage(`s3://${down.bucket}`, down.settings), await tempDir());
  const store = cache.forProject('p1');
  const scene = await rendered(store, 1);
  await down.stop();
  const unavailable = (err: unknown) => {
    assert.ok(err instanceof StorageUnavailableError, String(err));
    assert.match(err.message, new RegExp(`S3 storage s3://${down.bucket}/ at ${down.endpoint} is unavailable`));
    return true;
  };
  await assert.rejects(store.get(newKey()), unavailable);
  await assert.rejects(store.commit(newKey(), scene.workspace, scene.names), unavailable);
});
