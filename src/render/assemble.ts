// The last step: every scene's chunks joined by stream copy, the one audio track muxed,
// written under a temporary name and renamed, so no half file is ever visible.
import { randomBytes } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { failureIn, FORMATS, readInput, runFfmpeg, writeAtomically } from '../media/index.ts';
import { assemblyLimits, type TimeLimits } from './time-limits.ts';

export interface AssemblyOptions {
  /** The movie's frames, for the time limit. */
  frames: number;
  limits: TimeLimits;
  signal?: AbortSignal;
}

/** Joins the scenes' chunk files (in play order) and the audio track into `output`. */
export async function assemble(scenes: Array<{ id: string; chunks: string[] }>, audioPath: string, output: string, workDir: string, options: AssemblyOptions): Promise<void> {
  const list = join(workDir, `segments-${randomBytes(4).toString('hex')}.ffconcat`);
  const chunks = scenes.flatMap((s) => s.chunks);
  await writeFile(list, ['ffconcat version 1.0', ...chunks.map((p) => `file '${p.replace(/'/g, "'\\''")}'`)].join('\n') + '\n');
  const names = new Map([[list, 'the scene list'], [audioPath, 'the audio mix'], ...scenes.flatMap((s) => s.chunks.map((p): [string, string] => [p, `scene "${s.id}"`]))]);
  try {
    await writeAtomically(output, (partial) =>
      runFfmpeg(
        ['-f', 'concat', '-safe', '0', '-protocol_whitelist', 'file', '-i', `file:${list}`, ...readInput(FORMATS.mp4.demuxer, audioPath),
          '-map', '0:v:0', '-map', '1:a:0', '-c', 'copy', '-movflags', '+faststart', '-f', 'mp4', `file:${partial}`],
        { signal: options.signal, limits: assemblyLimits(options.limits, options.frames), names },
      ).catch(failureIn('assembly')),
    );
  } finally {
    await rm(list, { force: true });
  }
}
