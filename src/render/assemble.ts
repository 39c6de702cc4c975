// The last step: every scene's chunks joined by stream copy, the one audio track muxed,
// written under a temporary name and renamed, so no half file is ever visible.
import { randomBytes } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runFfmpeg, writeAtomically } from '../media/index.ts';

export async function assemble(chunks: string[], audioPath: string, output: string, workDir: string, signal?: AbortSignal): Promise<void> {
  const list = join(workDir, `segments-${randomBytes(4).toString('hex')}.ffconcat`);
  await writeFile(list, ['ffconcat version 1.0', ...chunks.map((p) => `file '${p.replace(/'/g, "'\\''")}'`)].join('\n') + '\n');
  try {
    await writeAtomically(output, (partial) =>
      runFfmpeg(
        ['-f', 'concat', '-safe', '0', '-i', `file:${list}`, '-i', `file:${audioPath}`,
          '-map', '0:v:0', '-map', '1:a:0', '-c', 'copy', '-movflags', '+faststart', '-f', 'mp4', `file:${partial}`],
        { signal },
      ),
    );
  } finally {
    await rm(list, { force: true });
  }
}
