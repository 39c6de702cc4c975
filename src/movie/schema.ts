// The Movie schema: the one source of the TypeScript types, the runtime validator
// and the published JSON Schema. Defaults live in normalize.ts, rules that go
// beyond one field's type live in rules.ts.
import { Type, type Static } from '@sinclair/typebox';
import { MAX_FPS, NTSC_FPS } from './timeline.ts';

/**
 * Bounds no real movie comes near (a 20-minute movie of 1000 scenes changes scene every 1.2 s).
 * They keep the work one request can ask of validation and planning bounded.
 */
export const MOVIE_LIMITS = { scenes: 1000, layersPerScene: 200 } as const;

const Seconds = (description: string) => Type.Number({ minimum: 0, description });
const Colour = (description: string) =>
  Type.String({ description: `${description}: #rgb, #rgba, #rrggbb or #rrggbbaa` });

export const Point = Type.Object(
  {
    x: Type.Number({
      minimum: -16384,
      maximum: 16384,
      description:
        'left edge in output pixels (fractions allowed: the box covers the pixels from round(x) to round(x + width))',
    }),
    y: Type.Number({
      minimum: -16384,
      maximum: 16384,
      description: 'top edge in output pixels (the box covers the pixels from round(y) to round(y + height))',
    }),
  },
  { additionalProperties: false },
);

export const Size = Type.Object(
  {
    width: Type.Number({
      minimum: 0,
      maximum: 16384,
      description: 'box width in output pixels; a box that rounds to no pixel draws nothing',
    }),
    height: Type.Number({ minimum: 0, maximum: 16384, description: 'box height in output pixels' }),
  },
  { additionalProperties: false },
);

export const LayerType = Type.Union(
  [Type.Literal('text'), Type.Literal('image'), Type.Literal('video'), Type.Literal('audio')],
  { description: 'what the layer shows or plays' },
);

/**
 * The field each layer type cannot do without: rules.ts reports it missing, and the API
 * document publishes each layer type with it required.
 */
export const LAYER_NEEDS = {
  text: 'text',
  image: 'source',
  video: 'source',
  audio: 'source',
} as const satisfies Record<Static<typeof LayerType>, string>;

export const Fit = Type.Union([Type.Literal('fill'), Type.Literal('contain'), Type.Literal('cover')], {
  description:
    'how media fills its box: fill stretches, contain letterboxes, cover crops (default fill); computed in real numbers from the size players show (pixel aspect ratio honoured) and rounded once',
});

export const FontWeight = Type.Union(
  [
    Type.Literal('normal'),
    Type.Literal('bold'),
    ...['100', '200', '300', '400', '500', '600', '700', '800', '900'].map((w) => Type.Literal(w)),
  ],
  { description: 'normal (400), bold (700) or 100..900 (default normal)' },
);

export const Layer = Type.Object(
  {
    id: Type.String({ minLength: 1, description: 'unique within the scene' }),
    type: LayerType,
    role: Type.Optional(Type.String({ description: 'free label, e.g. "background"; no effect on rendering' })),
    source: Type.Optional(
      Type.String({
        minLength: 1,
        description: 'image, video or audio URL (http/https; the CLI also reads local paths)',
      }),
    ),
    text: Type.Optional(
      Type.String({ maxLength: 5000, description: 'text to show (text layers), at most 5000 characters' }),
    ),
    startTime: Type.Optional(Seconds('seconds from the start of the scene (default 0)')),
    duration: Type.Optional(
      Type.Number({ exclusiveMinimum: 0, description: 'seconds visible/audible (default: to the end of the scene)' }),
    ),
    zIndex: Type.Optional(
      Type.Integer({ description: 'stacking order, higher on top; ties keep array order (default 0)' }),
    ),
    position: Type.Optional(Point),
    size: Type.Optional(Size),
    fit: Type.Optional(Fit),
    fontSize: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 2000, description: 'pixels (default 48)' })),
    fontWeight: Type.Optional(FontWeight),
    fontFamily: Type.Optional(Type.String({ minLength: 1, description: 'font family (default the bundled "Inter")' })),
    fontUrl: Type.Optional(Type.String({ minLength: 1, description: 'TTF/OTF/WOFF2 font to load for this layer' })),
    color: Type.Optional(Colour('text colour (default #ffffff)')),
    backgroundColor: Type.Optional(Colour('fill behind the text box (default none)')),
    padding: Type.Optional(
      Type.Number({ minimum: 0, description: 'pixels between the box edge and the text (default 0)' }),
    ),
    textAlign: Type.Optional(
      Type.Union([Type.Literal('left'), Type.Literal('center'), Type.Literal('right')], {
        description: 'horizontal alignment in the box (default center)',
      }),
    ),
    verticalAlign: Type.Optional(
      Type.Union([Type.Literal('top'), Type.Literal('middle'), Type.Literal('bottom')], {
        description: 'vertical alignment in the box (default middle)',
      }),
    ),
    lineHeight: Type.Optional(
      Type.Number({
        exclusiveMinimum: 0,
        maximum: 10,
        description: 'line spacing as a multiple of fontSize (default 1.2)',
      }),
    ),
    trimStart: Type.Optional(Seconds('seconds skipped at the start of the source (default 0)')),
    loop: Type.Optional(Type.Boolean({ description: 'repeat the source until the layer ends (default false)' })),
    mute: Type.Optional(Type.Boolean({ description: 'silence a video layer (default false)' })),
    volume: Type.Optional(Type.Number({ minimum: 0, maximum: 10, description: 'gain, 1 = unchanged (default 1)' })),
    fadeIn: Type.Optional(Seconds('audio fade-in seconds (default 0)')),
    fadeOut: Type.Optional(Seconds('audio fade-out seconds (default 0)')),
    transform: Type.Optional(
      Type.Object(
        {
          opacity: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: 'multiplies alpha (default 1)' })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false, $id: 'Layer' },
);

export const Scene = Type.Object(
  {
    id: Type.String({ minLength: 1, description: 'unique within the movie' }),
    name: Type.Optional(Type.String()),
    duration: Type.Number({ exclusiveMinimum: 0, maximum: 3600, description: 'seconds' }),
    bgColor: Type.Optional(Colour('background (default #000000)')),
    layers: Type.Optional(
      Type.Array(Layer, {
        maxItems: MOVIE_LIMITS.layersPerScene,
        description: `default none; at most ${MOVIE_LIMITS.layersPerScene}`,
      }),
    ),
  },
  { additionalProperties: false, $id: 'Scene' },
);

export const Movie = Type.Object(
  {
    id: Type.Optional(Type.String({ description: 'label used for scene caching' })),
    title: Type.Optional(Type.String()),
    width: Type.Optional(
      Type.Integer({ minimum: 16, maximum: 7680, multipleOf: 2, description: 'pixels, even (default 1920)' }),
    ),
    height: Type.Optional(
      Type.Integer({ minimum: 16, maximum: 7680, multipleOf: 2, description: 'pixels, even (default 1080)' }),
    ),
    fps: Type.Optional(
      Type.Union([Type.Integer({ minimum: 1, maximum: MAX_FPS }), ...NTSC_FPS.map((fps) => Type.Literal(fps))], {
        description: `frames per second (default 30): a whole number 1..${MAX_FPS}, or an NTSC rate ${NTSC_FPS.join(', ')} (exactly N x 1000/1001: 29.97 is 30000/1001)`,
      }),
    ),
    scenes: Type.Array(Scene, {
      minItems: 1,
      maxItems: MOVIE_LIMITS.scenes,
      description: `at least 1, at most ${MOVIE_LIMITS.scenes}`,
    }),
  },
  { additionalProperties: false, $id: 'https://reelsmith.dev/schema/movie.json', title: 'Reelsmith Movie' },
);

export type Movie = Static<typeof Movie>;
export type Scene = Static<typeof Scene>;
export type Layer = Static<typeof Layer>;
export type LayerType = Static<typeof LayerType>;
export type Fit = Static<typeof Fit>;
export type FontWeight = Static<typeof FontWeight>;
