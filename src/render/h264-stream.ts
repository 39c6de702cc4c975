// Raw H.264 (Annex B) as the engine's chunks are written: counting the pictures in a
// stream fed piece by piece, so a scene's frames can be checked as its bytes go by.
// Every picture of ours is one slice (x264 without slice options), so a picture starts
// at each slice NAL unit (types 1 and 5) whose first_mb_in_slice is 0: the first bit of
// its header, ue(v) 0 coded as the single bit 1.

/** Bytes a start code with its NAL header and first slice byte spans: 00 00 01 nh sb. */
const PATTERN = 5;

export interface PictureCounter {
  push(piece: Uint8Array): void;
  readonly pictures: number;
}

export function pictureCounter(): PictureCounter {
  let pictures = 0;
  // the last bytes of the previous piece, not yet examined as the start of a pattern
  let carry: Uint8Array = new Uint8Array(0);
  return {
    push(piece) {
      const bytes = carry.length > 0 ? Buffer.concat([carry, piece]) : piece;
      const end = bytes.length - (PATTERN - 1);
      for (let i = 0; i < end; i++) {
        if (bytes[i] !== 0 || bytes[i + 1] !== 0 || bytes[i + 2] !== 1) continue;
        const type = bytes[i + 3] & 0x1f;
        if ((type === 1 || type === 5) && bytes[i + 4] & 0x80) pictures++;
      }
      carry = new Uint8Array(bytes.subarray(Math.max(0, end)));
    },
    get pictures() {
      return pictures;
    },
  };
}
