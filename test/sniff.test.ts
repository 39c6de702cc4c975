// Media intake, the pure parts: which format a file's first bytes are (or what a refused
// file looks like), an image's size from its header, the source limits, and the two
// probe readers (ffprobe's JSON, ffmpeg's input description). Crafted bytes, no ffmpeg.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { imageDimensions } from '../src/media/image-header.ts';
import { parseFirstPacketTime, parseInputDescription } from '../src/media/input-description.ts';
import { parseProbeJson } from '../src/media/probe.ts';
import { FORMATS, sniff } from '../src/media/sniff.ts';
import { limitRefusal, SOURCE_LIMITS } from '../src/media/source-limits.ts';

const bytes = (...parts: Array<string | number[] | Uint8Array>) =>
  new Uint8Array(parts.flatMap((p) => (typeof p === 'string' ? [...Buffer.from(p, 'latin1')] : [...p])));
const be32 = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
const be16 = (n: number) => [n >>> 8, n & 255];
const le16 = (n: number) => [n & 255, n >>> 8];
const le24 = (n: number) => [n & 255, (n >>> 8) & 255, n >>> 16];
const zeros = (n: number) => new Array<number>(n).fill(0);

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const png = (width: number, height: number) =>
  bytes(PNG_SIGNATURE, be32(13), 'IHDR', be32(width), be32(height), [8, 2, 0, 0, 0], be32(0));
/** A JPEG with an APP0 segment, then a baseline frame header. */
const jpeg = (width: number, height: number, sof = 0xc0) =>
  bytes(
    [0xff, 0xd8],
    [0xff, 0xe0],
    be16(16),
    'JFIF\0',
    zeros(9),
    [0xff, 0xdb],
    be16(4),
    [0, 0],
    [0xff, sof],
    be16(17),
    [8],
    be16(height),
    be16(width),
    [3],
    zeros(9),
  );
const riff = (kind: string, chunk: string, data: number[]) =>
  bytes('RIFF', be32(0).reverse(), kind, chunk, le24(data.length), [0], data);
/** A transport stream: `packets` packets of 188 bytes, each starting with the 0x47 sync byte. */
const ts = (packets: number) => bytes(...Array.from({ length: packets }, () => [0x47, ...zeros(187)]));
const id3 = (size: number) =>
  bytes('ID3', [4, 0, 0], [(size >> 21) & 127, (size >> 14) & 127, (size >> 7) & 127, size & 127], zeros(size));
const MP3_FRAME = [0xff, 0xfb, 0x90, 0x64];
const ADTS_FRAME = [0xff, 0xf1, 0x50, 0x80, 0x02, 0x1f, 0xfc];

const formatOf = (head: Uint8Array) => {
  const sniffed = sniff(head);
  return 'format' in sniffed ? sniffed.format : sniffed.looksLike;
};

test('each allowed format is told from its first bytes, with the demuxer that reads it', () => {
  const cases: Array<[string, Uint8Array, (typeof FORMATS)[keyof typeof FORMATS]]> = [
    ['PNG', png(64, 36), FORMATS.png],
    ['JPEG', jpeg(64, 36), FORMATS.jpeg],
    ['WebP', riff('WEBP', 'VP8L', [0x2f, 0, 0, 0, 0]), FORMATS.webp],
    ['GIF89a', bytes('GIF89a', le16(10), le16(10), zeros(3)), FORMATS.gif],
    ['GIF87a', bytes('GIF87a', le16(10), le16(10), zeros(3)), FORMATS.gif],
    ['MP4 (ftyp)', bytes(be32(24), 'ftypisom', zeros(12)), FORMATS.mp4],
    ['QuickTime (moov first)', bytes(be32(8), 'moov'), FORMATS.mp4],
    ['QuickTime (mdat first)', bytes(be32(8), 'mdat'), FORMATS.mp4],
    ['QuickTime (wide first)', bytes(be32(8), 'wide'), FORMATS.mp4],
    ['QuickTime (free first)', bytes(be32(8), 'free'), FORMATS.mp4],
    ['Matroska/WebM', bytes([0x1a, 0x45, 0xdf, 0xa3], zeros(20)), FORMATS.matroska],
    ['MPEG-TS', ts(4), FORMATS.mpegts],
    ['WAV', riff('WAVE', 'fmt ', zeros(16)), FORMATS.wav],
    ['FLAC', bytes('fLaC', zeros(20)), FORMATS.flac],
    ['FLAC after an ID3 tag', bytes(id3(20), 'fLaC', zeros(20)), FORMATS.flac],
    ['Ogg', bytes('OggS', zeros(20)), FORMATS.ogg],
    ['AAC (ADTS)', bytes(ADTS_FRAME), FORMATS.aac],
    ['AAC after an ID3 tag', bytes(id3(30), ADTS_FRAME), FORMATS.aac],
    ['MP3 frame', bytes(MP3_FRAME), FORMATS.mp3],
    ['MP3 after an ID3 tag', bytes(id3(30), MP3_FRAME), FORMATS.mp3],
    ['MP3 whose ID3 tag is longer than the head', id3(100).subarray(0, 50), FORMATS.mp3],
  ];
  for (const [name, head, format] of cases) assert.equal(formatOf(head), format, name);
  assert.deepEqual(
    Object.values(FORMATS).map((f) => [f.label, f.demuxer, f.kind]),
    [
      ['PNG', 'png_pipe', 'image'],
      ['JPEG', 'jpeg_pipe', 'image'],
      ['WebP', 'webp_pipe', 'image'],
      ['GIF', 'gif', 'image'],
      ['MP4/MOV', 'mov', 'media'],
      ['WebM/Matroska', 'matroska', 'media'],
      ['MPEG-TS', 'mpegts', 'media'],
      ['WAV', 'wav', 'media'],
      ['FLAC', 'flac', 'media'],
      ['Ogg', 'ogg', 'media'],
      ['AAC/ADTS', 'aac', 'media'],
      ['MP3', 'mp3', 'media'],
    ],
  );
});

test('playlists, manifests and everything else are refused, saying what they look like', () => {
  const mpd =
    '<?xml version="1.0"?>\n<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static"><BaseURL>http://169.254.169.254/</BaseURL></MPD>';
  const cases: Array<[string, Uint8Array, string]> = [
    ['HLS', bytes('#EXTM3U\n#EXT-X-VERSION:3\n#EXTINF:1,\n/etc/passwd\n'), 'an HLS playlist'],
    ['HLS after a BOM and blank lines', bytes([0xef, 0xbb, 0xbf], '\n\n  #EXTM3U\n'), 'an HLS playlist'],
    ['DASH', bytes(mpd), 'a DASH manifest'],
    ['DASH without an XML prolog', bytes('<MPD type="static">'), 'a DASH manifest'],
    ['ffconcat', bytes("ffconcat version 1.0\nfile '/data/outputs/a.mp4'\n"), 'an ffconcat list'],
    ['HTML', bytes('<!DOCTYPE html><html><body>Not found</body></html>'), 'HTML'],
    ['SVG', bytes('<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>'), 'an SVG image'],
    ['XML', bytes('<?xml version="1.0"?><rss/>'), 'XML'],
    ['text', bytes('Shopping list\n- milk\n- eggs\n'), 'text'],
    ['UTF-8 text cut inside a character', bytes('caf', [0xc3]), 'text'],
    ['empty', bytes(), 'empty'],
    ['PDF', bytes('%PDF-1.7\n', [0xe2, 0xe3, 0xcf, 0xd3]), 'a PDF document'],
    ['BMP', bytes('BM', [0x36, 0x10, 0, 0, 0, 0]), 'a BMP image'],
    ['TIFF', bytes('II*\0', [8, 0, 0, 0]), 'a TIFF image'],
    ['AVI', riff('AVI ', 'LIST', zeros(8)), 'an AVI file'],
    ['a transport stream of one packet', ts(1), 'binary data of an unknown kind'],
    [
      'sync bytes out of stride',
      bytes([0x47], zeros(187), [0x47], zeros(187), [0x48], zeros(187)),
      'binary data of an unknown kind',
    ],
    ['random bytes', bytes([0x00, 0x01, 0x02, 0x03, 0xfe, 0x80]), 'binary data of an unknown kind'],
    ['an MPEG audio header with a reserved version', bytes([0xff, 0xeb, 0x90, 0x64]), 'binary data of an unknown kind'],
  ];
  for (const [name, head, looksLike] of cases) assert.equal(formatOf(head), looksLike, name);
});

test('image sizes come from the header: PNG IHDR, JPEG SOF, WebP VP8/VP8L/VP8X, GIF screen', () => {
  const vp8 = riff('WEBP', 'VP8 ', [0, 0, 0, 0x9d, 0x01, 0x2a, ...le16(640), ...le16(360), ...zeros(4)]);
  // VP8L: 14 bits width-1 then 14 bits height-1, least significant bit first
  const bits = (640 - 1) | ((360 - 1) << 14);
  const vp8l = riff('WEBP', 'VP8L', [
    0x2f,
    bits & 255,
    (bits >>> 8) & 255,
    (bits >>> 16) & 255,
    bits >>> 24,
    0,
    0,
    0,
    0,
  ]);
  const vp8x = riff('WEBP', 'VP8X', [0, 0, 0, 0, ...le24(20000 - 1), ...le24(16000 - 1), 0]);
  const cases: Array<
    [string, (typeof FORMATS)[keyof typeof FORMATS], Uint8Array, { width: number; height: number } | undefined]
  > = [
    ['PNG', FORMATS.png, png(16000, 16000), { width: 16000, height: 16000 }],
    ['PNG signature then junk', FORMATS.png, bytes(PNG_SIGNATURE, 'hello there, not a chunk at all'), undefined],
    ['PNG cut inside IHDR', FORMATS.png, png(64, 36).subarray(0, 20), undefined],
    ['PNG of width 0', FORMATS.png, png(0, 36), undefined],
    ['JPEG baseline', FORMATS.jpeg, jpeg(640, 360), { width: 640, height: 360 }],
    ['JPEG progressive', FORMATS.jpeg, jpeg(4000, 3000, 0xc2), { width: 4000, height: 3000 }],
    ['JPEG cut before its frame header', FORMATS.jpeg, jpeg(640, 360).subarray(0, 30), undefined],
    ['JPEG with junk after SOI', FORMATS.jpeg, bytes([0xff, 0xd8, 0xff, 0xe0, 0, 4, 0, 0], 'junk'), undefined],
    ['WebP lossy', FORMATS.webp, vp8, { width: 640, height: 360 }],
    ['WebP lossless', FORMATS.webp, vp8l, { width: 640, height: 360 }],
    ['WebP extended', FORMATS.webp, vp8x, { width: 20000, height: 16000 }],
    ['WebP lossy without its start code', FORMATS.webp, riff('WEBP', 'VP8 ', zeros(12)), undefined],
    ['GIF', FORMATS.gif, bytes('GIF89a', le16(65535), le16(65535), zeros(3)), { width: 65535, height: 65535 }],
    ['a video format has no image header', FORMATS.mp4, bytes(be32(24), 'ftypisom', zeros(12)), undefined],
  ];
  for (const [name, format, head, size] of cases) assert.deepEqual(imageDimensions(format, head), size, name);
});

test('source limits: 50 megapixels, 4 hours, 16 streams, 10,000 animated WebP frames', () => {
  assert.deepEqual(SOURCE_LIMITS, { pixels: 50_000_000, seconds: 14_400, streams: 16, webpFrames: 10_000 });
  assert.equal(limitRefusal({ width: 16000, height: 16000 }), 'is 16000x16000 pixels, over the limit of 50 megapixels');
  assert.equal(limitRefusal({ width: 10000, height: 5000 }), undefined, 'exactly 50 megapixels is allowed');
  assert.equal(limitRefusal({ width: 10000, height: 5001 }), 'is 10000x5001 pixels, over the limit of 50 megapixels');
  assert.equal(limitRefusal({ duration: 14_400 }), undefined);
  assert.equal(limitRefusal({ duration: 14_400.5 }), 'lasts 4:00:00, over the limit of 4:00:00');
  assert.equal(limitRefusal({ duration: 36_000 + 62 }), 'lasts 10:01:02, over the limit of 4:00:00');
  assert.equal(limitRefusal({ streams: 16 }), undefined);
  assert.equal(limitRefusal({ streams: 17 }), 'has 17 streams, over the limit of 16');
  assert.equal(limitRefusal({ width: 1920, height: 1080, duration: 60, streams: 2 }), undefined);
  assert.equal(limitRefusal({}), undefined, 'unknown lengths and stream counts pass');
  assert.equal(
    limitRefusal({ width: 0, height: 0 }),
    'has a picture whose size cannot be read, or is over the limit of 50 megapixels',
  );
});

test("ffmpeg's input description (npm 2018 build and Debian 5.1) gives a transport stream's facts", () => {
  const npm2018 = [
    "Input #0, mpegts, from 'file:/data/sources/ab12.ts':",
    '  Duration: 00:00:02.02, start: 1.400000, bitrate: 285 kb/s',
    '  Program 1 ',
    '    Metadata:',
    '      service_name    : Service01',
    '      service_provider: FFmpeg',
    '    Stream #0:0[0x100]: Video: h264 (Constrained Baseline) ([27][0][0][0] / 0x001B), yuv420p(progressive), 320x180 [SAR 1:1 DAR 16:9], 30 fps, 30 tbr, 90k tbn, 60 tbc',
    '    Stream #0:1[0x101]: Audio: aac (LC) ([15][0][0][0] / 0x000F), 44100 Hz, mono, fltp, 4 kb/s',
    'At least one output file must be specified',
  ].join('\n');
  assert.deepEqual(parseInputDescription(npm2018), {
    duration: 2.02,
    start: 1.4,
    streams: 2,
    video: { width: 320, height: 180, colour: {}, codec: 'h264', pixelFormat: 'yuv420p', fieldOrder: 'progressive' },
    audio: { channels: 1, sampleRate: 44100 },
  });
  const debian = [
    "Input #0, mpegts, from 'file:/data/sources/cd34.ts':",
    '  Duration: 01:02:03.50, start: 1.400000, bitrate: 507 kb/s',
    '  Program 1 ',
    '  Stream #0:0[0x100](eng): Audio: ac3 (AC-3 / 0x332D4341), 48000 Hz, 5.1(side), fltp, 448 kb/s',
    '  Stream #0:1[0x101]: Video: h264 (High) ([27][0][0][0] / 0x001B), yuv420p(tv, bt709, progressive), 1920x1080 [SAR 1:1 DAR 16:9], 25 fps, 25 tbr, 90k tbn',
    '  Stream #0:2[0x102]: Data: bin_data ([6][0][0][0] / 0x0006)',
    'At least one output file must be specified',
  ].join('\n');
  assert.deepEqual(parseInputDescription(debian), {
    duration: 3723.5,
    start: 1.4,
    streams: 3,
    video: {
      width: 1920,
      height: 1080,
      colour: { matrix: 'bt709', range: 'tv' },
      codec: 'h264',
      pixelFormat: 'yuv420p',
      fieldOrder: 'progressive',
    },
    audio: { channels: 6, sampleRate: 48000 },
  });
  assert.deepEqual(
    parseInputDescription(
      "Input #0, mpegts, from 'x':\n  Duration: N/A, bitrate: N/A\n    Stream #0:0[0x100]: Audio: mp2, 48000 Hz, 3 channels, s16p",
    ),
    {
      duration: undefined,
      start: undefined,
      streams: 1,
      audio: { channels: 3, sampleRate: 48000 },
    },
  );
  assert.deepEqual(
    parseInputDescription(
      "Input #0, mpegts, from 'x':\n    Stream #0:0[0x100]: Video: h264 ([27][0][0][0] / 0x001B), none, 90k tbr, 90k tbn",
    ),
    {
      duration: undefined,
      start: undefined,
      streams: 1,
      video: { width: 0, height: 0, colour: {}, codec: 'h264' },
    },
  );
  assert.equal(parseInputDescription('file:/data/sources/x.ts: Invalid data found when processing input'), undefined);
});

test("the first packet of a framecrc listing gives a stream's start in seconds", () => {
  const listing = [
    '#software: Lavf59.27.100',
    '#tb 0: 1/90000',
    '#media_type 0: audio',
    '0,     142080,     142080,     1920,      23, 0x0b3f0a3b',
    '0,     144000,     144000,     1920,      6, 0x02ed00ba',
  ].join('\n');
  assert.equal(parseFirstPacketTime(listing), 1.5786666666666667);
  assert.equal(parseFirstPacketTime('#tb 0: 1/1000\n0,        -7,        -7,       20,      3, 0x01, S=1'), -0.007);
  assert.equal(parseFirstPacketTime('#tb 0: 1/90000\n'), undefined, 'no packet');
});

test("ffprobe's JSON: the first real video stream (not cover art), the first audio stream, every stream counted", () => {
  const json = JSON.stringify({
    streams: [
      { codec_type: 'video', width: 600, height: 600, disposition: { attached_pic: 1 } },
      { codec_type: 'audio', channels: 1, sample_rate: '44100', duration: '3.5', start_time: '0.480000' },
      { codec_type: 'subtitle' },
    ],
    format: { duration: '3.6', start_time: '-0.021333' },
  });
  assert.deepEqual(parseProbeJson(json), {
    video: undefined,
    audio: { channels: 1, sampleRate: 44100, duration: 3.5, start: 0.48 },
    duration: 3.6,
    start: -0.021333,
    streams: 3,
  });
  const video = JSON.stringify({
    streams: [{ codec_type: 'video', width: 320, height: 180, duration: 'N/A', disposition: { attached_pic: 0 } }],
    format: {},
  });
  assert.deepEqual(parseProbeJson(video), {
    video: { width: 320, height: 180, duration: undefined, start: undefined, colour: {} },
    audio: undefined,
    duration: undefined,
    start: undefined,
    streams: 1,
  });
  // a decoder bounded by -max_pixels reports no size: 0x0, refused by the limits
  const unsized = JSON.stringify({
    streams: [{ codec_type: 'video', width: 0, height: 0 }],
    format: { duration: '0.04' },
  });
  assert.deepEqual(parseProbeJson(unsized), {
    video: { width: 0, height: 0, duration: undefined, start: undefined, colour: {} },
    audio: undefined,
    duration: 0.04,
    start: undefined,
    streams: 1,
  });
});
