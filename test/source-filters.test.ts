// The pure part of reading a video source as players show it (src/render/source-filters.ts),
// and the probe facts it is given: exact strings.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { listedNames, parseProbeJson } from '../src/media/index.ts';
import { parseInputDescription } from '../src/media/input-description.ts';
import { sourceConversion } from '../src/render/colour.ts';
import { missingFeatures, SOURCE_FEATURES, sourceFilters, withAlpha } from '../src/render/source-filters.ts';

const SD = { height: 480 };
/** An RGB(A) source's conversion with its alpha kept. */
const RGBA_IN = withAlpha(sourceConversion({ matrix: 'gbr', height: 48 }));

describe('source filters', () => {
  test('a plain progressive SDR source gets nothing but its matrix conversion', () => {
    const f = sourceFilters({ codec: 'h264', pixelFormat: 'yuv420p', fieldOrder: 'progressive', colour: SD });
    assert.deepEqual(f, {
      inputArgs: [],
      decoded: [],
      beforeFit: [],
      // the source's own conversion (colour.ts, tested there)
      conversion: sourceConversion({ height: 480 }),
      hasAlpha: false,
      notes: [],
      needs: [],
    });
  });

  test('VP9 and VP8 with alpha_mode=1 are decoded by libvpx, and read as RGBA in their own matrix', () => {
    const vp9 = sourceFilters({ codec: 'vp9', pixelFormat: 'yuv420p', alphaMode: true, colour: SD });
    assert.deepEqual(vp9.inputArgs, ['-c:v', 'libvpx-vp9']);
    assert.deepEqual(vp9.beforeFit, ['scale=in_color_matrix=smpte170m,format=rgba']);
    assert.deepEqual(vp9.conversion, RGBA_IN);
    assert.equal(vp9.hasAlpha, true);
    assert.deepEqual(vp9.needs, [SOURCE_FEATURES.vp9Alpha]);
    const vp8 = sourceFilters({
      codec: 'vp8',
      alphaMode: true,
      colour: { matrix: 'bt709', range: 'tv', height: 1080 },
    });
    assert.deepEqual(vp8.inputArgs, ['-c:v', 'libvpx']);
    assert.deepEqual(vp8.beforeFit, ['scale=in_color_matrix=bt709:in_range=tv,format=rgba']);
    // without the tag, the native decoder: no alpha to keep
    assert.deepEqual(sourceFilters({ codec: 'vp9', pixelFormat: 'yuv420p', colour: SD }).inputArgs, []);
  });

  test('ProRes 4444 (yuva444p) is read as RGBA; RGB formats with alpha (qtrle argb, PNG rgba, GIF bgra) fit as they are', () => {
    const prores = sourceFilters({
      codec: 'prores',
      pixelFormat: 'yuva444p12le',
      colour: { matrix: 'bt470bg', range: 'tv', height: 1080 },
    });
    assert.deepEqual(prores.beforeFit, ['scale=in_color_matrix=bt601:in_range=tv,format=rgba']);
    assert.equal(prores.hasAlpha, true);
    for (const pixelFormat of ['argb', 'rgba', 'bgra', 'pal8']) {
      const f = sourceFilters({ pixelFormat, colour: { matrix: 'gbr', height: 48 } });
      assert.equal(f.hasAlpha, true, pixelFormat);
      assert.deepEqual(f.beforeFit, []);
      assert.deepEqual(f.conversion, RGBA_IN);
    }
  });

  test('interlaced sources are deinterlaced frame for frame, the field shown first first', () => {
    const order = (fieldOrder: string) => sourceFilters({ fieldOrder, colour: SD }).decoded;
    assert.deepEqual(order('tt'), ['bwdif=mode=send_frame:parity=tff:deint=all']);
    assert.deepEqual(order('bt'), ['bwdif=mode=send_frame:parity=tff:deint=all']);
    assert.deepEqual(order('bb'), ['bwdif=mode=send_frame:parity=bff:deint=all']);
    assert.deepEqual(order('tb'), ['bwdif=mode=send_frame:parity=bff:deint=all']);
    assert.deepEqual(order('progressive'), []);
    assert.deepEqual(sourceFilters({ fieldOrder: 'tt', colour: SD }).needs, [SOURCE_FEATURES.deinterlace]);
  });

  test('PQ and HLG are tone-mapped to BT.709 SDR with a note; the fit then only changes range and subsampling', () => {
    const pq = sourceFilters({
      codec: 'hevc',
      pixelFormat: 'yuv420p10le',
      transfer: 'smpte2084',
      primaries: 'bt2020',
      colour: { matrix: 'bt2020nc', range: 'tv', height: 2160 },
    });
    assert.deepEqual(pq.beforeFit, [
      'zscale=tin=smpte2084:min=bt2020nc:pin=bt2020:rin=tv:t=linear:p=bt709:npl=203',
      'format=gbrpf32le',
      'tonemap=mobius:param=0.7:desat=0',
      'zscale=tin=linear:pin=bt709:t=bt709:p=bt709:m=bt709:r=tv',
      'format=yuv444p10le',
    ]);
    // tone-mapped pixels are BT.709 already: the fit changes only range and subsampling
    assert.deepEqual(pq.conversion, sourceConversion({ matrix: 'bt709', range: 'tv', height: 2160 }));
    assert.equal(pq.conversion.scale, 'in_range=tv:out_range=tv');
    assert.deepEqual(pq.notes, ['HDR (PQ, BT.2020) tone-mapped to SDR BT.709']);
    assert.deepEqual(pq.needs, [SOURCE_FEATURES.zscale, SOURCE_FEATURES.tonemap]);
    const hlg = sourceFilters({ transfer: 'arib-std-b67', colour: { height: 1080 } });
    assert.equal(hlg.beforeFit[0], 'zscale=tin=arib-std-b67:min=bt2020nc:pin=bt2020:rin=tv:t=linear:p=bt709:npl=203');
    assert.deepEqual(hlg.notes, ['HDR (HLG, BT.2020) tone-mapped to SDR BT.709']);
    // SDR transfers are left alone
    assert.deepEqual(sourceFilters({ transfer: 'bt709', colour: SD }).beforeFit, []);
  });

  test('withAlpha keeps alpha in whatever YUV the fit writes', () => {
    assert.equal(RGBA_IN.scale, 'out_color_matrix=bt709:out_range=tv');
    assert.match(RGBA_IN.after[0], /^format=yuva4[24][04]p$/);
    assert.deepEqual(withAlpha({ scale: 's', after: ['format=yuv420p', 'x'] }).after, ['format=yuva420p', 'x']);
    assert.deepEqual(withAlpha({ scale: 's', after: ['format=yuv444p'] }).after, ['format=yuva444p']);
  });

  test('a missing decoder or filter is named with what it is for', () => {
    const needs = [SOURCE_FEATURES.zscale, SOURCE_FEATURES.tonemap];
    assert.equal(
      missingFeatures(needs, () => true),
      undefined,
    );
    assert.equal(
      missingFeatures(needs, (f) => f.name !== 'zscale'),
      'needs the zscale filter (HDR tone mapping), which this ffmpeg lacks (reelsmith doctor lists what it has; FFMPEG_PATH chooses another ffmpeg)',
    );
  });

  test("ffmpeg's -decoders and -filters listings are read by name", () => {
    const decoders =
      ' V..... = Video\n ------\n V....D libvpx-vp9           libvpx VP9 (codec vp9)\n VFS..D vp9  Google VP9\n';
    assert.deepEqual(
      [...listedNames(decoders)].filter((n) => n !== '='),
      ['libvpx-vp9', 'vp9'],
    );
    const filters =
      '  T.. = Timeline support\n TS. bwdif             V->V       Deinterlace\n ..C zscale  V->V  Apply\n';
    assert.deepEqual([...listedNames(filters)], ['bwdif', 'zscale']);
  });
});

describe('probe facts for sources', () => {
  test('ffprobe JSON: codec, pixel format, field order, transfer, primaries and the alpha_mode tag', () => {
    const json = JSON.stringify({
      streams: [
        {
          codec_type: 'video',
          codec_name: 'vp9',
          width: 64,
          height: 48,
          pix_fmt: 'yuv420p',
          field_order: 'tt',
          color_transfer: 'smpte2084',
          color_primaries: 'unknown',
          tags: { ALPHA_MODE: '1' },
        },
      ],
      format: {},
    });
    const video = parseProbeJson(json).video!;
    assert.equal(video.codec, 'vp9');
    assert.equal(video.pixelFormat, 'yuv420p');
    assert.equal(video.fieldOrder, 'tt');
    assert.equal(video.transfer, 'smpte2084');
    assert.equal(video.primaries, undefined);
    assert.equal(video.alphaMode, true);
  });

  test("ffmpeg's description (MPEG-TS): field order and HDR tags", () => {
    const described = (video: string) =>
      parseInputDescription(`Input #0, mpegts, from 'x':\n    Stream #0:0[0x100]: Video: ${video}`)?.video;
    const interlaced = described(
      'h264 (High) ([27][0][0][0] / 0x001B), yuv420p(top first), 64x48 [SAR 1:1 DAR 4:3], 25 fps',
    )!;
    assert.equal(interlaced.codec, 'h264');
    assert.equal(interlaced.pixelFormat, 'yuv420p');
    assert.equal(interlaced.fieldOrder, 'tt');
    const hdr = described('hevc (Main 10), yuv420p10le(tv, bt2020nc/bt2020/smpte2084, progressive), 64x32')!;
    assert.equal(hdr.transfer, 'smpte2084');
    assert.equal(hdr.primaries, 'bt2020');
    assert.equal(hdr.fieldOrder, 'progressive');
    assert.equal(
      described('mpeg2video, yuv420p(tv, bt470bg, bottom coded first (swapped)), 720x576')!.fieldOrder,
      'bt',
    );
  });
});
