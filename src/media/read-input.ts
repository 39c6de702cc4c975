// How ffmpeg and ffprobe open every source file (untrusted or our own): the demuxer named,
// so nothing is guessed from the content; the `file` protocol only, so nothing a file
// says can open a URL or another file; decoded pictures bounded in size. The mov
// demuxer's external data references (`enable_drefs`) stay off, as they are by default.
import { SOURCE_LIMITS } from './source-limits.ts';

/** The arguments that open `path` with `demuxer` as the next input, its pictures at most `pixels` large. */
export function readInput(demuxer: string, path: string, pixels: number = SOURCE_LIMITS.pixels): string[] {
  return ['-f', demuxer, '-protocol_whitelist', 'file', '-max_pixels', String(pixels), '-i', `file:${path}`];
}
