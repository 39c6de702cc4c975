// Rendered scenes kept per project, by the scene's cache key (normalised scene, canvas,
// fps, encoder, asset digests, engine version): same key, same chunks. A scene enters
// the cache by renaming its finished folder in, so a crash never leaves half an entry.
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SceneStore } from '../render/index.ts';

/** A scene cache as jobs use it, on local disk (SceneCache) or shared through storage (StoredSceneCache). */
export interface SceneCaches {
  /** One project's part of the cache, as the engine uses it. */
  forProject(projectId: string): SceneStore;
  /** Removes what a killed process left behind (call before any render starts). */
  sweep(): Promise<void>;
}

export class SceneCache implements SceneCaches {
  constructor(private readonly root: string) {}

  /** The chunk files of a cached scene, in play order, or undefined. */
  async get(projectId: string, key: string): Promise<string[] | undefined> {
    const dir = this.dirOf(projectId, key);
    try {
      const names = JSON.parse(await readFile(join(dir, 'playlist.json'), 'utf8')) as string[];
      return names.map((name) => join(dir, name));
    } catch {
      return undefined;
    }
  }

  /** A fresh folder to render a scene into before `commit` moves it into the cache. */
  async workspace(projectId: string): Promise<string> {
    const dir = join(this.root, projectId, `.tmp-${randomBytes(6).toString('hex')}`);
    await mkdir(dir, { recursive: true });
    return dir;
  }

  async commit(projectId: string, key: string, workspace: string, playlist: string[]): Promise<string[]> {
    await writeFile(join(workspace, 'playlist.json'), JSON.stringify(playlist));
    const dir = this.dirOf(projectId, key);
    try {
      await rename(workspace, dir);
    } catch {
      // another job cached the same scene first: theirs is identical
      await rm(workspace, { recursive: true, force: true });
    }
    return (await this.get(projectId, key))!;
  }

  async discard(workspace: string): Promise<void> {
    await rm(workspace, { recursive: true, force: true });
  }

  /** One project's part of the cache, as the engine uses it. */
  forProject(projectId: string): SceneStore {
    return {
      get: (key) => this.get(projectId, key),
      workspace: () => this.workspace(projectId),
      commit: (key, workspace, names) => this.commit(projectId, key, workspace, names),
      discard: (workspace) => this.discard(workspace),
    };
  }

  /** Removes workspaces a killed process left behind (call before any render starts). */
  async sweep(): Promise<void> {
    for (const project of await readdir(this.root).catch(() => [] as string[])) {
      for (const entry of await readdir(join(this.root, project)).catch(() => [] as string[])) {
        if (entry.startsWith('.tmp-')) await rm(join(this.root, project, entry), { recursive: true, force: true });
      }
    }
  }

  private dirOf(projectId: string, key: string): string {
    return join(this.root, projectId, key);
  }
}
