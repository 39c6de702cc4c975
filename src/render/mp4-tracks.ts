// What an MP4 says about its tracks, read from its boxes (ISO/IEC 14496-12): per track
// the handler (vide, soun), timescale, sample count and sample durations (stts), edit
// list and picture size. Only the `moov` box is read, so this is cheap for any file size.
import { open } from 'node:fs/promises';

export interface Mp4Track {
  handler: string;
  timescale: number;
  samples: number;
  /** Sample durations in runs, as stts stores them. */
  durations: Array<{ count: number; delta: number }>;
  /** Edit list entries: duration in the movie's timescale, media start in the track's (-1: empty edit). */
  edits: Array<{ duration: number; mediaTime: number }>;
  width: number;
  height: number;
}

export interface Mp4Info {
  /** The movie header's timescale, which edit list durations are in. */
  timescale: number;
  tracks: Mp4Track[];
}

/** Reads the moov box of the MP4 at `path`; undefined when it has none. */
export async function readMp4(path: string): Promise<Mp4Info | undefined> {
  const file = await open(path, 'r');
  try {
    const { size } = await file.stat();
    const header = Buffer.alloc(16);
    for (let at = 0; at + 8 <= size; ) {
      await file.read(header, 0, 16, at);
      const { type, headerSize, boxSize } = boxHeader(header, 0, size - at);
      if (type === 'moov') {
        const moov = Buffer.alloc(boxSize - headerSize);
        await file.read(moov, 0, moov.length, at + headerSize);
        return parseMoov(moov);
      }
      if (boxSize < 8) return undefined;
      at += boxSize;
    }
    return undefined;
  } finally {
    await file.close();
  }
}

/** The contents of a moov box. */
function parseMoov(moov: Buffer): Mp4Info {
  let timescale = 0;
  const tracks: Mp4Track[] = [];
  for (const box of children(moov)) {
    if (box.type === 'mvhd') timescale = box.data.readUInt32BE(box.data[0] === 1 ? 20 : 12);
    if (box.type === 'trak') tracks.push(parseTrak(box.data));
  }
  return { timescale, tracks };
}

function parseTrak(trak: Buffer): Mp4Track {
  const track: Mp4Track = { handler: '', timescale: 0, samples: 0, durations: [], edits: [], width: 0, height: 0 };
  const walk = (data: Buffer) => {
    for (const { type, data: d } of children(data)) {
      const v1 = d[0] === 1;
      switch (type) {
        case 'mdia':
        case 'minf':
        case 'stbl':
        case 'edts':
          walk(d);
          break;
        case 'tkhd':
          // 16.16 fixed point, the last eight bytes
          track.width = d.readUInt32BE(d.length - 8) >>> 16;
          track.height = d.readUInt32BE(d.length - 4) >>> 16;
          break;
        case 'mdhd':
          track.timescale = d.readUInt32BE(v1 ? 20 : 12);
          break;
        case 'hdlr':
          track.handler = d.toString('latin1', 8, 12);
          break;
        case 'stts':
          for (let i = 0, n = d.readUInt32BE(4); i < n; i++)
            track.durations.push({ count: d.readUInt32BE(8 + i * 8), delta: d.readUInt32BE(12 + i * 8) });
          break;
        case 'stsz':
          track.samples = d.readUInt32BE(8);
          break;
        case 'elst':
          for (let i = 0, n = d.readUInt32BE(4); i < n; i++) {
            const at = 8 + i * (v1 ? 20 : 12);
            track.edits.push(
              v1
                ? { duration: Number(d.readBigUInt64BE(at)), mediaTime: Number(d.readBigInt64BE(at + 8)) }
                : { duration: d.readUInt32BE(at), mediaTime: d.readInt32BE(at + 4) },
            );
          }
          break;
      }
    }
  };
  walk(trak);
  return track;
}

/** The boxes directly inside `data`. */
function* children(data: Buffer): Generator<{ type: string; data: Buffer }> {
  for (let at = 0; at + 8 <= data.length; ) {
    const { type, headerSize, boxSize } = boxHeader(data, at, data.length - at);
    if (boxSize < headerSize || at + boxSize > data.length) return;
    yield { type, data: data.subarray(at + headerSize, at + boxSize) };
    at += boxSize;
  }
}

/** A box header at `at`: its type, header length and whole size (size 0: to the end, `rest` bytes). */
function boxHeader(data: Buffer, at: number, rest: number): { type: string; headerSize: number; boxSize: number } {
  const size = data.readUInt32BE(at);
  const type = data.toString('latin1', at + 4, at + 8);
  if (size === 1) return { type, headerSize: 16, boxSize: Number(data.readBigUInt64BE(at + 8)) };
  return { type, headerSize: 8, boxSize: size === 0 ? rest : size };
}
