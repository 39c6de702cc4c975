// A chunk as the encoder wrote it becomes the chunk the movie plays: the repeat PPS goes
// in after the encoder's parameter sets and a still span's repeated pictures go on the
// end (repeat-pictures.ts). Read once and written once under a new name, counting the
// pictures on the way, then renamed over the original.
import { createReadStream } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { pictureCounter } from './h264-stream.ts';
import { repeatPictures, type SequenceFacts, sequenceFacts, withRepeatParameterSet } from './repeat-pictures.ts';

/** Finishes the chunk at `path`, appending `repeats` pictures; returns the pictures it then holds. */
export async function finishChunk(path: string, repeats: number): Promise<number> {
  const partial = `${path}.part`;
  const out = await open(partial, 'w');
  const counter = pictureCounter();
  const write = async (bytes: Uint8Array) => {
    counter.push(bytes);
    await out.write(bytes);
  };
  try {
    let facts: SequenceFacts | undefined;
    // the parameter sets are the chunk's first few hundred bytes, well inside its first piece
    for await (const piece of createReadStream(path)) {
      if (facts) await write(piece as Buffer);
      else {
        facts = sequenceFacts(piece as Buffer);
        await write(withRepeatParameterSet(piece as Buffer, facts));
      }
    }
    if (!facts) throw new Error('the chunk is empty');
    if (repeats > 0) await write(repeatPictures(facts, repeats));
    await out.close();
    await rename(partial, path);
  } catch (err) {
    await out.close().catch(() => undefined);
    await rm(partial, { force: true });
    throw err;
  }
  return counter.pictures;
}
