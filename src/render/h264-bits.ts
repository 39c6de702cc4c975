// The bit-level pieces of H.264 the engine reads and writes itself: NAL units in an
// Annex B stream, emulation prevention, and the exp-Golomb codes of headers (ITU-T H.264
// 7.2, 7.4.1, 9.1).

export interface NalUnit {
  /** nal_unit_type (1 slice, 5 IDR slice, 6 SEI, 7 SPS, 8 PPS). */
  type: number;
  /** Offset of the start code (00 00 01 or 00 00 00 01) in the stream. */
  start: number;
  /** Offset just past the unit's last byte. */
  end: number;
  /** Offset of the NAL header byte. */
  header: number;
}

/** The NAL units of an Annex B stream, in order. */
export function nalUnits(stream: Uint8Array): NalUnit[] {
  const heads: Array<{ start: number; header: number }> = [];
  for (let i = 0; i + 2 < stream.length; i++) {
    if (stream[i] !== 0 || stream[i + 1] !== 0 || stream[i + 2] !== 1) continue;
    heads.push({ start: i > 0 && stream[i - 1] === 0 ? i - 1 : i, header: i + 3 });
    i += 2;
  }
  return heads.map((h, n) => ({
    ...h,
    type: stream[h.header] & 0x1f,
    end: n + 1 < heads.length ? heads[n + 1].start : stream.length,
  }));
}

/** A NAL unit's payload without its emulation prevention bytes (00 00 03 -> 00 00). */
export function rbspOf(stream: Uint8Array, unit: NalUnit): Uint8Array {
  const out: number[] = [];
  let zeros = 0;
  for (let i = unit.header + 1; i < unit.end; i++) {
    const byte = stream[i];
    if (zeros >= 2 && byte === 3) {
      zeros = 0;
      continue;
    }
    zeros = byte === 0 ? zeros + 1 : 0;
    out.push(byte);
  }
  return Uint8Array.from(out);
}

/** A NAL unit with a 4-byte start code from its header byte and payload, emulation prevention added. */
export function nalUnit(header: number, rbsp: Uint8Array): Buffer {
  const out: number[] = [0, 0, 0, 1, header];
  let zeros = 0;
  for (const byte of rbsp) {
    if (zeros >= 2 && byte <= 3) {
      out.push(3);
      zeros = 0;
    }
    out.push(byte);
    zeros = byte === 0 ? zeros + 1 : 0;
  }
  return Buffer.from(out);
}

export class BitReader {
  private at = 0;
  constructor(private readonly bytes: Uint8Array) {}

  bit(): number {
    if (this.at >= this.bytes.length * 8) throw new RangeError('H.264 header ends early');
    const bit = (this.bytes[this.at >> 3] >> (7 - (this.at & 7))) & 1;
    this.at++;
    return bit;
  }

  bits(n: number): number {
    let value = 0;
    for (let i = 0; i < n; i++) value = value * 2 + this.bit();
    return value;
  }

  /** ue(v) */
  ue(): number {
    let zeros = 0;
    while (this.bit() === 0) zeros++;
    return 2 ** zeros - 1 + this.bits(zeros);
  }

  /** se(v) */
  se(): number {
    const k = this.ue();
    return k % 2 === 1 ? (k + 1) / 2 : 0 - k / 2; // 0 - 0 is +0, -0 is not
  }
}

export class BitWriter {
  private readonly out: number[] = [];
  private current = 0;
  private used = 0;

  bit(value: number): this {
    this.current = (this.current << 1) | (value & 1);
    if (++this.used === 8) {
      this.out.push(this.current);
      this.current = 0;
      this.used = 0;
    }
    return this;
  }

  bits(n: number, value: number): this {
    for (let i = n - 1; i >= 0; i--) this.bit(Math.floor(value / 2 ** i) % 2);
    return this;
  }

  /** ue(v) */
  ue(value: number): this {
    const code = value + 1;
    const length = Math.floor(Math.log2(code));
    return this.bits(length, 0).bits(length + 1, code);
  }

  /** se(v) */
  se(value: number): this {
    return this.ue(value > 0 ? 2 * value - 1 : -2 * value);
  }

  /** The payload with its rbsp_trailing_bits (a stop bit, then zeros to the byte). */
  finish(): Uint8Array {
    this.bit(1);
    while (this.used !== 0) this.bit(0);
    return Uint8Array.from(this.out);
  }
}
