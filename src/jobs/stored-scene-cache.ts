// The scene cache shared through storage by workers on several machines (distributed mode).
// An entry is `scene-cache/<project>/<scene key>/`: its chunks, then its playlist.json, put
// last, so whoever finds the playlist finds every chunk. Each worker keeps a local copy of
// the entries it rendered or read (a SceneCache under its own folder): the engine reads
// chunks as files, and a storage read stream not consumed for 15 s fails.
import { createWriteStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { pipeline } from 'node:stream/promises';
import type { SceneStore } from '../render/index.ts';
import { isStorageKey, STORAGE_KEY_RULE, type Storage } from '../storage/index.ts';
import { SceneCache, type SceneCaches } from './scene-cache.ts';

const PLAYLIST = 'playlist.json';

export class StoredSceneCache implements SceneCaches {
  private readonly local: SceneCache;

  /** `localRoot` is this worker's own folder for copies and workspaces, never shared with another process. */
  constructor(
    private readonly storage: Storage,
    localRoot: string,
  ) {
    this.local = new SceneCache(localRoot);
  }

  forProject(projectId: string): SceneStore {
    plainName('project id', projectId);
    return {
      get: (key) => this.get(projectId, key),
      workspace: () => this.local.workspace(projectId),
      commit: (key, workspace, names) => this.commit(projectId, key, workspace, names),
      discard: (workspace) => this.local.discard(workspace),
    };
  }

  /** Removes workspaces and half-downloaded entries a killed process left behind. */
  sweep(): Promise<void> {
    return this.local.sweep();
  }

  /**
   * A local copy is whole (it enters by renaming a finished folder), so it is used without
   * asking storage. Otherwise storage's playlist decides: none is a miss; a store that fails
   * is an error, never a miss: the job says storage is down rather than render scenes it could
   * not keep.
   */
  private async get(projectId: string, key: string): Promise<string[] | undefined> {
    const prefix = entryPrefix(projectId, key);
    const kept = await this.local.get(projectId, key);
    if (kept) return kept;
    if (!(await this.storage.stat(prefix + PLAYLIST))) return undefined;
    const names = playlistOf(await buffer(this.storage.read(prefix + PLAYLIST)), prefix);
    const workspace = await this.local.workspace(projectId);
    try {
      for (const name of names)
        await pipeline(this.storage.read(prefix + name), createWriteStream(join(workspace, name)));
      return await this.local.commit(projectId, key, workspace, names);
    } catch (err) {
      await this.local.discard(workspace);
      throw err;
    }
  }

  /**
   * Every chunk, then the playlist; then the workspace becomes the local copy, so the job that
   * rendered it reads no bytes back. Workers committing the same key at once all succeed: the
   * chunks are identical by construction, and each object is replaced whole.
   */
  private async commit(projectId: string, key: string, workspace: string, names: string[]): Promise<string[]> {
    const prefix = entryPrefix(projectId, key);
    for (const name of names) if (!isChunkName(name)) throw new Error(`scene cache: ${chunkRule(name)}`);
    for (const name of names) await this.storage.put(prefix + name, join(workspace, name));
    await writeFile(join(workspace, PLAYLIST), JSON.stringify(names));
    await this.storage.put(prefix + PLAYLIST, join(workspace, PLAYLIST));
    return this.local.commit(projectId, key, workspace, names);
  }
}

/** `scene-cache/<project>/<scene key>/`, each one plain name. */
function entryPrefix(projectId: string, key: string): string {
  return `scene-cache/${plainName('project id', projectId)}/${plainName('scene key', key)}/`;
}

/**
 * One path part that stays in its folder, locally and under the storage prefix; never starting
 * with "." (the local cache's workspaces do, and are swept).
 */
function plainName(what: string, value: string): string {
  if (!isPlainName(value))
    throw new Error(
      `scene cache: ${what} ${JSON.stringify(value)} is not a plain name (one path part, not starting with "."; ${STORAGE_KEY_RULE})`,
    );
  return value;
}

function isPlainName(value: unknown): value is string {
  return typeof value === 'string' && !value.includes('/') && !value.startsWith('.') && isStorageKey(value);
}

function isChunkName(name: unknown): name is string {
  return isPlainName(name) && name !== PLAYLIST;
}

function chunkRule(name: unknown): string {
  return `chunk name ${JSON.stringify(name)} is not a plain name other than ${PLAYLIST}`;
}

/** The chunk names a stored playlist lists; an entry naming anything else is refused, not followed. */
function playlistOf(bytes: Buffer, prefix: string): string[] {
  let names: unknown;
  try {
    names = JSON.parse(bytes.toString('utf8'));
  } catch {
    names = undefined;
  }
  if (!Array.isArray(names)) throw new Error(`scene cache: ${prefix}${PLAYLIST} is not a list of chunk names`);
  for (const name of names)
    if (!isChunkName(name)) throw new Error(`scene cache: ${prefix}${PLAYLIST} lists a ${chunkRule(name)}`);
  return names as string[];
}
