// Frames in our own chunk files, counted from their bytes as they are read.
import { createReadStream } from 'node:fs';
import { pictureCounter } from './h264-stream.ts';

/** Pictures in the raw H.264 file at `path`; each piece read is also handed to `onPiece` (in order). */
export async function chunkFrames(path: string, onPiece?: (piece: Buffer) => Promise<unknown>): Promise<number> {
  const counter = pictureCounter();
  for await (const piece of createReadStream(path)) {
    counter.push(piece as Buffer);
    await onPiece?.(piece as Buffer);
  }
  return counter.pictures;
}
