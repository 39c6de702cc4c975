// The fixed set of movies the bench renders, all 1080p30, each standing for a kind
// of job the service sees: pure text, big photos, video under graphics, a long mix.
import type { Layer, Movie, Scene } from '../src/movie/index.ts';
import type { BenchAssets } from './assets.ts';

export interface BenchMovie {
  name: string;
  description: string;
  movie: (assets: BenchAssets) => Movie;
  /** The source whose plain transcode the render is compared with (T3). */
  transcodeSource?: (assets: BenchAssets) => string;
  targets: {
    /** Most wall time allowed, as a multiple of the encode-only floor. */
    floorRatio?: number;
    /** Most wall time allowed, as a multiple of the plain transcode. */
    transcodeRatio?: number;
    /** Least movie seconds per wall second. */
    realtime?: number;
  };
}

const WIDTH = 1920;
const HEIGHT = 1080;
const FPS = 30;

export const BENCH_MOVIES: BenchMovie[] = [
  {
    name: 'T1',
    description: '1 scene, 10 s, 3 texts',
    movie: () => ({ width: WIDTH, height: HEIGHT, fps: FPS, scenes: [textScene('s0', 10)] }),
    targets: { floorRatio: 0.8 },
  },
  {
    name: 'T2',
    description: '5 scenes x 6 s, 4000x3000 JPEG + 2 texts + music',
    movie: (a) => ({
      width: WIDTH,
      height: HEIGHT,
      fps: FPS,
      scenes: a.photos.map((photo, i) => photoScene(`s${i}`, 6, photo, a.music, i * 6)),
    }),
    targets: { floorRatio: 0.8 },
  },
  {
    name: 'T3',
    description: '1 scene, 20 s, 1080p video + logo + lower-third + audio',
    movie: (a) => ({ width: WIDTH, height: HEIGHT, fps: FPS, scenes: [videoScene('s0', 20, a)] }),
    transcodeSource: (a) => a.footage,
    targets: { transcodeRatio: 1.6 },
  },
  {
    name: 'T4',
    description: '12 scenes, 60 s, texts + images + a short video',
    movie: (a) => ({ width: WIDTH, height: HEIGHT, fps: FPS, scenes: mixedScenes(a) }),
    targets: { realtime: 4 },
  },
];

/** A title card whose lines come in one after another, as title cards do. */
function textScene(id: string, seconds: number): Scene {
  return {
    id,
    duration: seconds,
    bgColor: '#1a1a2e',
    layers: [
      text('title', 'Reelsmith render benchmark', { y: 340, height: 160, fontSize: 110, fontWeight: 'bold' }),
      text('subtitle', 'Three text layers on a plain background', {
        y: 520,
        height: 100,
        fontSize: 56,
        color: '#00d4ff',
        startTime: 1,
      }),
      text('footer', 'example.com', {
        y: 900,
        height: 80,
        fontSize: 40,
        color: '#cbd5e1',
        startTime: 2,
        duration: seconds - 3,
      }),
    ],
  };
}

/** A full-frame photo with a headline and a captioned box, over a continuing music bed. */
function photoScene(id: string, seconds: number, photo: string, music: string, musicAt: number): Scene {
  return {
    id,
    duration: seconds,
    layers: [
      { id: 'photo', type: 'image', source: photo, fit: 'cover', ...box(0, 0, WIDTH, HEIGHT) },
      text('headline', `Collection ${id.toUpperCase()}`, {
        y: 120,
        height: 160,
        fontSize: 96,
        fontWeight: 'bold',
        zIndex: 1,
      }),
      text('caption', 'Photographed on location, 4000x3000', {
        y: 860,
        height: 110,
        fontSize: 48,
        backgroundColor: '#000000aa',
        padding: 24,
        zIndex: 1,
        startTime: 1,
      }),
      musicBed(music, musicAt),
    ],
  };
}

/** Footage under a logo and a lower-third, with the footage's own sound and some music. */
function videoScene(id: string, seconds: number, a: BenchAssets): Scene {
  return {
    id,
    duration: seconds,
    layers: [
      { id: 'footage', type: 'video', source: a.footage, fit: 'cover', ...box(0, 0, WIDTH, HEIGHT) },
      { id: 'logo', type: 'image', source: a.logo, ...box(80, 60, 200, 60), zIndex: 2 },
      text('lower-third', 'Jane Doe — Head of Product', {
        x: 120,
        y: 840,
        width: 1000,
        height: 120,
        fontSize: 56,
        textAlign: 'left',
        backgroundColor: '#0f172acc',
        padding: 28,
        zIndex: 1,
        startTime: 2,
        duration: 15,
      }),
      musicBed(a.music, 0, 0.3),
    ],
  };
}

/** Twelve 5 s scenes cycling through the layouts real promos use; scene 6 has a 3 s clip. */
function mixedScenes(a: BenchAssets): Scene[] {
  return Array.from({ length: 12 }, (_, i): Scene => {
    const id = `s${i}`;
    const music = musicBed(a.music, i * 5);
    const photo = a.photos[i % a.photos.length];
    const caption = text('caption', `Scene ${i + 1} of 12`, { y: 880, height: 100, fontSize: 52, zIndex: 1 });
    if (i === 6) {
      const clip: Layer = {
        id: 'clip',
        type: 'video',
        source: a.footage,
        trimStart: 4,
        startTime: 1,
        duration: 3,
        mute: true,
        ...box(320, 180, 1280, 720),
      };
      return { id, duration: 5, bgColor: '#111827', layers: [clip, caption, music] };
    }
    switch (i % 4) {
      case 0:
        return {
          id,
          duration: 5,
          bgColor: '#1a1a2e',
          layers: [
            text('title', 'Summer Sale', { y: 380, height: 180, fontSize: 128, fontWeight: 'bold' }),
            caption,
            music,
          ],
        };
      case 1:
        return {
          id,
          duration: 5,
          layers: [
            { id: 'photo', type: 'image', source: photo, fit: 'cover', ...box(0, 0, WIDTH, HEIGHT) },
            caption,
            music,
          ],
        };
      case 2:
        return {
          id,
          duration: 5,
          bgColor: '#000000',
          layers: [
            { id: 'photo', type: 'image', source: photo, fit: 'contain', ...box(0, 0, WIDTH, HEIGHT) },
            { ...caption, startTime: 1.5 },
            music,
          ],
        };
      default:
        return {
          id,
          duration: 5,
          layers: [
            {
              id: 'photo',
              type: 'image',
              source: photo,
              fit: 'cover',
              ...box(0, 0, WIDTH, HEIGHT),
              transform: { opacity: 0.7 },
            },
            { id: 'logo', type: 'image', source: a.logo, ...box(80, 60, 200, 60), zIndex: 2 },
            text('title', 'Up to 50% off', {
              y: 400,
              height: 160,
              fontSize: 110,
              fontWeight: 'bold',
              zIndex: 1,
              startTime: 0.5,
            }),
            caption,
            music,
          ],
        };
    }
  });
}

interface TextOptions extends Omit<Partial<Layer>, 'position' | 'size'> {
  x?: number;
  y: number;
  width?: number;
  height: number;
}

/** A text layer, centred across the frame unless x and width are given. */
function text(id: string, content: string, options: TextOptions): Layer {
  const { x = 160, y, width = WIDTH - 320, height, ...rest } = options;
  return { id, type: 'text', text: content, color: '#ffffff', ...box(x, y, width, height), ...rest };
}

/** A scene's stretch of the movie-long music bed: it picks up where the last scene left off. */
function musicBed(source: string, trimStart: number, volume = 0.4): Layer {
  return { id: 'music', type: 'audio', source, trimStart, volume };
}

function box(x: number, y: number, width: number, height: number): Pick<Layer, 'position' | 'size'> {
  return { position: { x, y }, size: { width, height } };
}
