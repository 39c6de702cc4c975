// The H.264 the engine writes itself: exp-Golomb codes and emulation prevention round
// trip for any values, the facts read from a real x264 SPS, the repeat PPS bit for bit,
// and a still scene's arguments (one encoded picture per still span, its rate factor
// lowered by zones). Decoding the repeated pictures is tested end to end in exact-frames.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { sceneOutputArgs } from '../src/render/encoder.ts';
import { BitReader, BitWriter, nalUnit, nalUnits, rbspOf } from '../src/render/h264-bits.ts';
import { repeatParameterSet, repeatPictures, sequenceFacts } from '../src/render/repeat-pictures.ts';

/** x264's SPS for 1920x1080 High profile (veryfast, no B-frames), with one emulation prevention byte. */
const X264_SPS_1080P = Buffer.from('0000000167640028acb403c0113f2e0220000003002000000781e30654', 'hex');

test('ue(v) and se(v) read back as written, for any values', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.nat(2 ** 20), fc.integer({ min: -(2 ** 19), max: 2 ** 19 }))), (values) => {
      const w = new BitWriter();
      for (const [u, s] of values) w.ue(u).se(s);
      const r = new BitReader(w.finish());
      for (const [u, s] of values) assert.deepEqual([r.ue(), r.se()], [u, s]);
    }),
  );
});

test('a NAL unit written with emulation prevention reads back as its payload, and never holds a start code', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 64 }).map((b) => b.map((x) => (x < 200 ? x % 4 : x))),
      (rbsp) => {
        const unit = nalUnit(0x41, rbsp);
        const found = nalUnits(unit);
        assert.equal(found.length, 1);
        assert.deepEqual(rbspOf(unit, found[0]), rbsp);
        assert.equal(unit.subarray(3).includes(Buffer.from([0, 0, 1])), false);
      },
    ),
  );
});

test("the facts of x264's 1080p SPS: frame_num in 4 bits, picture order from frame_num, 120x68 macroblocks", () => {
  assert.deepEqual(sequenceFacts(X264_SPS_1080P), {
    spsId: 0,
    log2MaxFrameNum: 4,
    pocType: 2,
    log2MaxPocLsb: 0,
    macroblocks: 120 * 68,
  });
});

test('the repeat PPS, bit for bit: id 1, CAVLC, one reference, no weighting, deblocking controlled by the slice', () => {
  // ue 1 = 010, ue 0 = 1, flags 0 0, ue 0 ue 0 ue 0 = 111, weighted 0 00, se 0 x3 = 111,
  // deblocking control 1, 0 0, stop bit 1: 0101 0011 1000 1111 0010 0000
  const facts = sequenceFacts(X264_SPS_1080P);
  assert.equal(repeatParameterSet(facts).toString('hex'), '0000000168538f20');
});

test('a repeated picture is a P slice of the repeat PPS with every macroblock skipped, numbered after the IDR', () => {
  const facts = { spsId: 0, log2MaxFrameNum: 4, pocType: 2, log2MaxPocLsb: 0, macroblocks: 8160 };
  const pictures = repeatPictures(facts, 17);
  const units = nalUnits(pictures);
  assert.equal(units.length, 17);
  units.forEach((unit, i) => {
    assert.equal(pictures[unit.header], 0x41);
    const r = new BitReader(rbspOf(pictures, unit));
    assert.deepEqual([r.ue(), r.ue(), r.ue(), r.bits(4)], [0, 5, 1, (i + 1) % 16], `picture ${i + 1}`);
    assert.deepEqual([r.bit(), r.bit(), r.bit(), r.se(), r.ue(), r.ue()], [0, 0, 0, 0, 1, 8160]);
  });
});

test('a still span is one encoded picture: x264 zones give each its lower rate factor, keyframes start every chunk', () => {
  const args = sceneOutputArgs(
    { preset: 'veryfast', crf: 20 },
    { width: 640, height: 360, fps: 30 },
    32,
    2,
    [1, 31],
    [0, 31],
  );
  const at = (flag: string) => args[args.indexOf(flag) + 1];
  assert.equal(at('-frames:v'), '32');
  assert.equal(at('-force_key_frames'), '0.033333,1.033333');
  assert.equal(at('-x264-params'), 'zones=0,0,crf=15/31,31,crf=15');
  assert.equal(at('-segment_frames'), '1,31,32');
});
