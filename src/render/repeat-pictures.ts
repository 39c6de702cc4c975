// A still chunk is one encoded IDR picture followed by pictures that repeat it exactly:
// P pictures whose every macroblock is skipped (zero motion, no residual), written here
// instead of encoded. x264 would spend most of a still chunk's time on them (compositing,
// motion search and rate control for frames identical to the first); written, they cost
// a few bytes each and no encoder time.
//
// They use their own picture parameter set, REPEAT_PPS_ID, with CAVLC entropy coding (a
// skipped picture is then one exp-Golomb number) and no weighted prediction, so x264's
// own PPS (CABAC) is left as it is. Every chunk carries that PPS right after x264's, so
// the movie's first chunk brings it into the MP4's sample description (avcC), whatever
// order chunks are joined in. (ITU-T H.264 7.3.2.1, 7.3.2.2, 7.3.3, 7.3.4.)
import { BitReader, BitWriter, nalUnit, nalUnits, rbspOf } from './h264-bits.ts';

const NAL_SLICE = 1;
const NAL_SPS = 7;
const NAL_PPS = 8;
/** x264 numbers its one PPS 0. */
const REPEAT_PPS_ID = 1;
/** nal_ref_idc 3, type 8. */
const PPS_HEADER = 0x68;
/** nal_ref_idc 2 (a reference picture, as x264 marks P pictures), type 1. */
const SLICE_HEADER = 0x40 | NAL_SLICE;
/** slice_type P, every slice of the picture P. */
const SLICE_TYPE_P = 5;
/** Profiles whose SPS carries chroma format and bit depths (7.3.2.1.1). */
const HIGH_PROFILES = new Set([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135]);

/** What the pictures written here must agree on with the encoder's sequence parameter set. */
export interface SequenceFacts {
  spsId: number;
  log2MaxFrameNum: number;
  /** 0 or 2 (x264 uses 2 without B-frames). */
  pocType: number;
  log2MaxPocLsb: number;
  macroblocks: number;
}

/** The facts of the first SPS in `head` (the start of a chunk). */
export function sequenceFacts(head: Uint8Array): SequenceFacts {
  const sps = nalUnits(head).find((u) => u.type === NAL_SPS);
  if (!sps) throw new Error('the chunk does not start with a sequence parameter set');
  const r = new BitReader(rbspOf(head, sps));
  const profile = r.bits(8);
  r.bits(16); // constraint flags, level
  const spsId = r.ue();
  if (HIGH_PROFILES.has(profile)) {
    if (r.ue() === 3) r.bit(); // chroma_format_idc, separate_colour_plane_flag
    r.ue(); // bit_depth_luma_minus8
    r.ue(); // bit_depth_chroma_minus8
    r.bit(); // qpprime_y_zero_transform_bypass_flag
    if (r.bit()) throw new Error('scaling matrices in the SPS are not supported');
  }
  const log2MaxFrameNum = r.ue() + 4;
  const pocType = r.ue();
  if (pocType === 1) throw new Error('pic_order_cnt_type 1 is not supported');
  const log2MaxPocLsb = pocType === 0 ? r.ue() + 4 : 0;
  r.ue(); // max_num_ref_frames
  r.bit(); // gaps_in_frame_num_value_allowed_flag
  const widthMbs = r.ue() + 1;
  const heightMapUnits = r.ue() + 1;
  if (!r.bit()) throw new Error('interlaced streams are not supported');
  return { spsId, log2MaxFrameNum, pocType, log2MaxPocLsb, macroblocks: widthMbs * heightMapUnits };
}

/** The picture parameter set the repeated pictures refer to. */
export function repeatParameterSet(facts: SequenceFacts): Buffer {
  const w = new BitWriter()
    .ue(REPEAT_PPS_ID)
    .ue(facts.spsId)
    .bit(0) // entropy_coding_mode_flag: CAVLC
    .bit(0) // bottom_field_pic_order_in_frame_present_flag
    .ue(0) // num_slice_groups_minus1
    .ue(0) // num_ref_idx_l0_default_active_minus1: one reference, the picture before
    .ue(0) // num_ref_idx_l1_default_active_minus1
    .bit(0) // weighted_pred_flag
    .bits(2, 0) // weighted_bipred_idc
    .se(0) // pic_init_qp_minus26
    .se(0) // pic_init_qs_minus26
    .se(0) // chroma_qp_index_offset
    .bit(1) // deblocking_filter_control_present_flag: so the slices can turn it off
    .bit(0) // constrained_intra_pred_flag
    .bit(0); // redundant_pic_cnt_present_flag
  return nalUnit(PPS_HEADER, w.finish());
}

/**
 * `count` pictures repeating the IDR picture that starts the chunk: numbered 1..count after
 * it (frame_num and picture order), each a reference picture so numbering wraps as usual.
 */
export function repeatPictures(facts: SequenceFacts, count: number): Buffer {
  const pictures: Buffer[] = [];
  for (let n = 1; n <= count; n++) {
    const w = new BitWriter()
      .ue(0) // first_mb_in_slice
      .ue(SLICE_TYPE_P)
      .ue(REPEAT_PPS_ID)
      .bits(facts.log2MaxFrameNum, n % 2 ** facts.log2MaxFrameNum);
    if (facts.pocType === 0) w.bits(facts.log2MaxPocLsb, (2 * n) % 2 ** facts.log2MaxPocLsb);
    w.bit(0) // num_ref_idx_active_override_flag
      .bit(0) // ref_pic_list_modification_flag_l0
      .bit(0) // adaptive_ref_pic_marking_mode_flag: sliding window
      .se(0) // slice_qp_delta
      .ue(1) // disable_deblocking_filter_idc: nothing to filter in a copy
      .ue(facts.macroblocks); // mb_skip_run: every macroblock skipped
    pictures.push(nalUnit(SLICE_HEADER, w.finish()));
  }
  return Buffer.concat(pictures);
}

/** `head` (the start of a chunk) with the repeat PPS inserted after the encoder's own. */
export function withRepeatParameterSet(head: Uint8Array, facts: SequenceFacts): Buffer {
  const pps = nalUnits(head).find((u) => u.type === NAL_PPS);
  if (!pps || pps.end === head.length) throw new Error('the chunk does not start with a picture parameter set');
  return Buffer.concat([head.subarray(0, pps.end), repeatParameterSet(facts), head.subarray(pps.end)]);
}
