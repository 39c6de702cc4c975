// Every source a render needs, fetched and checked once: URLs go through fetchToStore,
// local paths (CLI only) are read where they are. Keyed by the source string. Probes wait
// for one of the process's few probe slots (probe-slots.ts).
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isHttpUrl } from '../movie/index.ts';
import { fetchToStore, FetchError, type FetchLimits } from './fetch-source.ts';
import { probeMedia, type MediaInfo } from './probe.ts';
import { ProbeSlots } from './probe-slots.ts';
import { processLimits } from './process-limits.ts';

/** The probes of every render in this process: at most probesAtOnce at once, renders taking turns. */
const probeSlots = new ProbeSlots(() => processLimits().probesAtOnce);

/**
 * Where fetched sources are kept when the caller names no folder: one per user, since a
 * folder another user made first is not writable (nor trustworthy) for the next.
 */
export const DEFAULT_SOURCE_DIR = join(tmpdir(), `reelsmith-sources${process.getuid ? `-${process.getuid()}` : ''}`);

export interface LocalSource {
  /** The source as the movie wrote it. */
  source: string;
  path: string;
  /** SHA-256 of the bytes: the source's identity in cache keys. */
  digest: string;
}

export class SourceStore {
  private files = new Map<string, Promise<LocalSource>>();
  private probes = new Map<string, Promise<MediaInfo>>();

  constructor(
    private readonly storeDir: string,
    private readonly limits: FetchLimits = {},
  ) {}

  /** The local file of a source, fetched at most once. Throws FetchError naming the URL. */
  file(source: string, signal?: AbortSignal): Promise<LocalSource> {
    let pending = this.files.get(source);
    if (!pending) {
      pending = isHttpUrl(source)
        ? fetchToStore(source, this.storeDir, this.limits, signal).then(({ path, digest }) => ({
            source,
            path,
            digest,
          }))
        : localFile(source);
      this.files.set(source, pending);
    }
    return pending;
  }

  /** What a source is (format, demuxer, streams), checked at most once per distinct content; throws SourceRefusal. */
  async probe(source: string, signal?: AbortSignal): Promise<MediaInfo & LocalSource> {
    const file = await this.file(source, signal);
    let pending = this.probes.get(file.digest);
    if (!pending) {
      pending = probeSlots.run(this, () => probeMedia(file.path, signal));
      this.probes.set(file.digest, pending);
    }
    return { ...(await pending), ...file };
  }
}

async function localFile(path: string): Promise<LocalSource> {
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new Error('not a file');
  } catch (err) {
    throw new FetchError(
      path,
      (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message,
    );
  }
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return { source: path, path, digest: hash.digest('hex') };
}
