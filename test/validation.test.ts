// Validation as a movie author meets it: every rule reports a problem at the JSON path
// of the offending field, in a plain sentence, and every problem comes back at once.
// Then the defaults and frame maths of normalizeMovie, and the JSON Schema that
// `reelsmith schema` publishes.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { tempDir } from './helpers.ts';
import {
  formatProblem,
  Layer as LayerSchema,
  Movie as MovieSchema,
  MovieError,
  normalizeMovie,
  Scene as SceneSchema,
  summarizeProblems,
  validateMovie,
  type NormalizedScene,
  type Problem,
} from '../src/movie/index.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

type Json = Record<string, unknown>;

/** A small valid movie; `edit` changes a deep copy of it. */
function movie(
  edit: (m: { width?: unknown; height?: unknown; fps?: unknown; scenes: Json[] } & Json) => void = () => {},
): Json {
  const m = {
    width: 320,
    height: 180,
    fps: 30,
    scenes: [
      { id: 'intro', duration: 2, bgColor: '#102030', layers: [{ id: 'title', type: 'text', text: 'Hello' }] },
      { id: 'outro', duration: 3, layers: [{ id: 'logo', type: 'image', source: 'https://cdn.example.com/logo.png' }] },
    ] as Json[],
  };
  edit(m);
  return m;
}

const layersOf = (scene: Json) => scene.layers as Json[];

/** The problems as a user reads them: "path: sentence". */
function problems(input: unknown, allowLocalFiles = false): string[] {
  const found = validateMovie(input, { allowLocalFiles }).problems;
  found.forEach(assertPlain);
  return found.map(formatProblem);
}

/** A path users can find in their JSON, and a sentence rather than validator jargon. */
function assertPlain(p: Problem) {
  assert.match(p.path, /^movie(\.[A-Za-z_$][\w$]*|\[\d+\])*$/, `path ${p.path}`);
  assert.ok(p.message.length > 0);
  assert.doesNotMatch(p.message, /Expected|\/scenes|\/layers|undefined|\[object|\bschema\b/i, `message "${p.message}"`);
}

describe('validation: each rule', () => {
  test('the base movie used below is valid, under both source policies', () => {
    assert.deepEqual(problems(movie()), []);
    assert.deepEqual(problems(movie(), true), []);
  });

  test('a missing scene id or layer id is reported as missing, once, at its path', () => {
    const m = movie((m) => {
      delete m.scenes[0].id;
      delete layersOf(m.scenes[1])[0].id;
    });
    assert.deepEqual(problems(m), ['movie.scenes[0].id: is required', 'movie.scenes[1].layers[0].id: is required']);
  });

  test('an empty scene or layer id is reported as empty', () => {
    const m = movie((m) => {
      m.scenes[0].id = '';
      layersOf(m.scenes[0])[0].id = '';
    });
    assert.deepEqual(problems(m), [
      'movie.scenes[0].id: must not be empty',
      'movie.scenes[0].layers[0].id: must not be empty',
    ]);
  });

  test('a duplicate scene id is reported on the later scene, naming the id and the first index', () => {
    const m = movie((m) => m.scenes.push({ id: 'intro', duration: 1 }));
    assert.deepEqual(problems(m), ['movie.scenes[2].id: "intro" is already used by another scene (index 0)']);
  });

  test('an id with a control character (a NUL, a newline) is refused, naming it', () => {
    const m = movie((m) => m.scenes.push({ id: 'a\u0000b', duration: 1 }, { id: 'two\nlines', duration: 1 }));
    assert.deepEqual(problems(m), [
      // quoted with the replacement character, so the message itself holds no control character
      'movie.scenes[2].id: "a\ufffdb" has a control character; an id is a name, e.g. "intro" or "logo-1"',
      'movie.scenes[3].id: "two\ufffdlines" has a control character; an id is a name, e.g. "intro" or "logo-1"',
    ]);
  });

  test('a duplicate layer id within a scene is reported; the same id in another scene is fine', () => {
    const m = movie((m) => {
      layersOf(m.scenes[0]).push({ id: 'subtitle', type: 'text', text: 'a' }, { id: 'title', type: 'text', text: 'b' });
      layersOf(m.scenes[1]).push({ id: 'title', type: 'text', text: 'same id, other scene' });
    });
    assert.deepEqual(problems(m), [
      'movie.scenes[0].layers[2].id: "title" is already used by another layer in this scene (index 0)',
    ]);
  });

  test('a duration of 0 or less is reported with the exact sentence', () => {
    const layerZero = movie((m) => (layersOf(m.scenes[1])[0].duration = 0));
    const found = validateMovie(layerZero).problems;
    assert.deepEqual(found.map(formatProblem), ['movie.scenes[1].layers[0].duration: must be greater than 0']);
    assert.equal(formatProblem(found[0]), 'movie.scenes[1].layers[0].duration: must be greater than 0');

    const negative = movie((m) => {
      layersOf(m.scenes[1])[0].duration = -2;
      m.scenes.push({ id: 'zero', duration: 0 }, { id: 'negative', duration: -1 });
    });
    assert.deepEqual(problems(negative), [
      'movie.scenes[1].layers[0].duration: must be greater than 0',
      'movie.scenes[2].duration: must be greater than 0',
      'movie.scenes[3].duration: must be greater than 0',
    ]);
  });

  test('a scene shorter than one frame is reported', () => {
    const m = movie((m) => m.scenes.push({ id: 'blink', duration: 0.01 }));
    assert.deepEqual(problems(m), ['movie.scenes[2].duration: is shorter than one frame at 30 fps']);
  });

  test('a layer starting at or after the end of its scene is reported; just before the end is fine', () => {
    const m = movie((m) => {
      layersOf(m.scenes[0]).push(
        { id: 'at-end', type: 'text', text: 'x', startTime: 2 },
        { id: 'after-end', type: 'text', text: 'x', startTime: 5 },
        { id: 'just-before', type: 'text', text: 'x', startTime: 1.99 },
      );
    });
    assert.deepEqual(problems(m), [
      "movie.scenes[0].layers[1].startTime: must be less than the scene's duration (2 s)",
      "movie.scenes[0].layers[2].startTime: must be less than the scene's duration (2 s)",
    ]);
  });

  test('bad colours are reported for bgColor, color and backgroundColor, naming the value and the forms allowed', () => {
    const m = movie((m) => {
      m.scenes[0].bgColor = 'red';
      Object.assign(layersOf(m.scenes[0])[0], { color: '#12345', backgroundColor: 'rgb(0, 0, 0)' });
    });
    const forms = 'use #rgb, #rgba, #rrggbb or #rrggbbaa';
    assert.deepEqual(problems(m), [
      `movie.scenes[0].bgColor: "red" is not a colour; ${forms}`,
      `movie.scenes[0].layers[0].color: "#12345" is not a colour; ${forms}`,
      `movie.scenes[0].layers[0].backgroundColor: "rgb(0, 0, 0)" is not a colour; ${forms}`,
    ]);
    for (const good of ['#fff', '#FFFA', '#1a1a2e', '#1a1a2e80']) {
      const ok = movie((m) => {
        m.scenes[0].bgColor = good;
        Object.assign(layersOf(m.scenes[0])[0], { color: good, backgroundColor: good });
      });
      assert.deepEqual(problems(ok), [], good);
    }
  });

  test('width and height must be even and within 16..7680', () => {
    const cases: Array<[number, string[]]> = [
      [1921, ['must be an even number']],
      [1079, ['must be an even number']],
      [14, ['must be at least 16']],
      [15, ['must be at least 16', 'must be an even number']],
      [7682, ['must be at most 7680']],
      [16, []],
      [7680, []],
    ];
    for (const side of ['width', 'height'] as const) {
      for (const [value, messages] of cases) {
        const m = movie((m) => (m[side] = value));
        assert.deepEqual(
          problems(m),
          messages.map((msg) => `movie.${side}: ${msg}`),
          `${side} ${value}`,
        );
      }
    }
  });

  test('fps must be a whole number within 1..120 or an NTSC rate, and the refusal lists what is allowed', () => {
    const allowed = 'must be a whole number from 1 to 120 or one of 23.976, 29.97, 47.952, 59.94, 119.88';
    const cases: Array<[unknown, string[]]> = [
      [0, [allowed]],
      [121, [allowed]],
      [29.5, [allowed]],
      [29.970001, [allowed]],
      [30000 / 1001, [allowed]],
      ['30', [allowed]],
      [1, []],
      [120, []],
      [23.976, []],
      [29.97, []],
      [47.952, []],
      [59.94, []],
      [119.88, []],
    ];
    for (const [value, messages] of cases) {
      const m = movie((m) => (m.fps = value));
      assert.deepEqual(
        problems(m),
        messages.map((msg) => `movie.fps: ${msg}`),
        `fps ${JSON.stringify(value)}`,
      );
    }
  });

  test('an unknown property is reported at its own path, at every level', () => {
    const m = movie((m) => {
      m.resolution = '4k';
      m.scenes[0].transition = 'fade';
      Object.assign(layersOf(m.scenes[0])[0], { opacity: 0.5, position: { x: 1, y: 2, z: 3 } });
    });
    assert.deepEqual(problems(m).sort(), [
      'movie.resolution: is not a known property',
      'movie.scenes[0].layers[0].opacity: is not a known property',
      'movie.scenes[0].layers[0].position.z: is not a known property',
      'movie.scenes[0].transition: is not a known property',
    ]);
  });

  test('a mistyped property or value is answered with the name it most likely meant, at every level', () => {
    const m = movie((m) => {
      m.witdh = 320;
      m.scenes[0].bgColour = '#000000';
      Object.assign(layersOf(m.scenes[0])[0], { fontWieght: 'bold', textAlign: 'centre', verticalAlign: 'Top' });
      Object.assign(layersOf(m.scenes[1])[0], { fit: 'covr', type: 'imgae', size: { width: 10, heigth: 10 } });
    });
    assert.deepEqual(problems(m).sort(), [
      'movie.scenes[0].bgColour: is not a known property; did you mean "bgColor"?',
      'movie.scenes[0].layers[0].fontWieght: is not a known property; did you mean "fontWeight"?',
      'movie.scenes[0].layers[0].textAlign: must be one of "left", "center", "right"; did you mean "center"?',
      'movie.scenes[0].layers[0].verticalAlign: must be one of "top", "middle", "bottom"; did you mean "top"?',
      'movie.scenes[1].layers[0].fit: must be one of "fill", "contain", "cover"; did you mean "cover"?',
      'movie.scenes[1].layers[0].size.height: is required',
      'movie.scenes[1].layers[0].size.heigth: is not a known property; did you mean "height"?',
      'movie.scenes[1].layers[0].type: must be one of "text", "image", "video", "audio"; did you mean "image"?',
      'movie.witdh: is not a known property; did you mean "width"?',
    ]);
  });

  test('a wrong or missing layer type lists the types there are', () => {
    const m = movie((m) => {
      layersOf(m.scenes[0]).push({ id: 'shape', type: 'rectangle' }, { id: 'untyped', text: 'x' });
    });
    assert.deepEqual(problems(m), [
      'movie.scenes[0].layers[1].type: must be one of "text", "image", "video", "audio"',
      'movie.scenes[0].layers[2].type: is required',
    ]);
  });

  test('a text layer without text is reported', () => {
    const m = movie((m) => delete layersOf(m.scenes[0])[0].text);
    assert.deepEqual(problems(m), ['movie.scenes[0].layers[0].text: is required for a text layer']);
  });

  test('an image, video or audio layer without a source is reported', () => {
    const m = movie((m) => {
      m.scenes[1].layers = [
        { id: 'picture', type: 'image' },
        { id: 'clip', type: 'video' },
        { id: 'music', type: 'audio' },
      ];
    });
    const found = validateMovie(m).problems;
    assert.deepEqual(
      found.map((p) => p.path),
      ['movie.scenes[1].layers[0].source', 'movie.scenes[1].layers[1].source', 'movie.scenes[1].layers[2].source'],
    );
    found.forEach(assertPlain);
    found.forEach((p, i) => {
      assert.match(p.message, new RegExp(`^is required for an? ${['image', 'video', 'audio'][i]} layer$`));
    });
  });

  test('the article before the layer type reads right ("a video layer", "an audio layer")', () => {
    const m = movie(
      (m) =>
        (m.scenes[1].layers = [
          { id: 'clip', type: 'video' },
          { id: 'music', type: 'audio' },
        ]),
    );
    assert.deepEqual(problems(m), [
      'movie.scenes[1].layers[0].source: is required for a video layer',
      'movie.scenes[1].layers[1].source: is required for an audio layer',
    ]);
  });

  test('sources that are not http(s) URLs (ftp:, file:) are refused, for fontUrl too', () => {
    const m = movie((m) => {
      m.scenes[1].layers = [
        { id: 'clip', type: 'video', source: 'ftp://media.example.com/clip.mp4' },
        { id: 'music', type: 'audio', source: 'file:///home/me/music.mp3' },
        { id: 'caption', type: 'text', text: 'x', fontFamily: 'Brand', fontUrl: 'ftp://fonts.example.com/brand.ttf' },
      ];
    });
    const expected = [
      'movie.scenes[1].layers[0].source: "ftp://media.example.com/clip.mp4" uses ftp: only http and https URLs are allowed',
      'movie.scenes[1].layers[1].source: "file:///home/me/music.mp3" uses file: only http and https URLs are allowed',
      'movie.scenes[1].layers[2].fontUrl: "ftp://fonts.example.com/brand.ttf" uses ftp: only http and https URLs are allowed',
    ];
    assert.deepEqual(problems(m), expected);
    // allowing local files allows paths, not other URL schemes
    assert.ok(problems(m, true).includes(expected[0]));
  });

  test('a local path is accepted only when local files are allowed; http and https URLs always are', () => {
    const m = movie((m) => {
      m.scenes[1].layers = [
        { id: 'relative', type: 'image', source: 'assets/logo.png' },
        { id: 'absolute', type: 'video', source: '/srv/media/clip.mp4' },
        { id: 'http', type: 'image', source: 'http://cdn.example.com/a.png' },
        { id: 'https', type: 'audio', source: 'HTTPS://cdn.example.com/a.mp3' },
      ];
    });
    assert.deepEqual(problems(m), [
      'movie.scenes[1].layers[0].source: "assets/logo.png" must be an http or https URL',
      'movie.scenes[1].layers[1].source: "/srv/media/clip.mp4" must be an http or https URL',
    ]);
    assert.deepEqual(problems(m, true), []);
  });

  test('a font family other than the bundled Inter needs a fontUrl', () => {
    const m = movie((m) => {
      layersOf(m.scenes[0]).push(
        { id: 'roboto', type: 'text', text: 'x', fontFamily: 'Roboto' },
        {
          id: 'roboto-url',
          type: 'text',
          text: 'x',
          fontFamily: 'Roboto',
          fontUrl: 'https://fonts.example.com/roboto.ttf',
        },
        { id: 'inter', type: 'text', text: 'x', fontFamily: 'Inter' },
      );
    });
    assert.deepEqual(problems(m), [
      'movie.scenes[0].layers[1].fontFamily: "Roboto" is not bundled (only "Inter" is); give fontUrl to use it',
    ]);
  });

  test('scenes must be a non-empty array', () => {
    assert.deepEqual(problems({ scenes: [] }), ['movie.scenes: must have at least 1 item']);
    assert.deepEqual(problems({ width: 320 }), ['movie.scenes: is required']);
    assert.deepEqual(problems(null), ['movie: must be an object']);
  });

  test("a scene whose duration is invalid does not also blame its layers' startTime", () => {
    const m = movie((m) => (m.scenes[0].duration = 0));
    assert.deepEqual(problems(m), ['movie.scenes[0].duration: must be greater than 0']);
  });
});

describe('validation: every problem at once', () => {
  const broken = movie((m) => {
    m.width = 1921;
    m.fps = 29.5;
    m.codec = 'h265';
    m.scenes[0].bgColor = 'navy';
    delete layersOf(m.scenes[0])[0].text;
    layersOf(m.scenes[0]).push({ id: 'title', type: 'sticker' });
    m.scenes[1].id = 'intro';
    layersOf(m.scenes[1])[0].duration = 0;
    layersOf(m.scenes[1]).push(
      { id: 'late', type: 'text', text: 'x', startTime: 3, color: 'white' },
      { id: 'local', type: 'image', source: 'logo.png' },
      { id: 'ftp', type: 'audio', source: 'ftp://x.example.com/a.mp3' },
      { id: 'font', type: 'text', text: 'x', fontFamily: 'Comic Sans' },
      { id: 'nosource', type: 'image' },
    );
    m.scenes.push({ duration: -1 });
  });
  const expected = [
    'movie.width: must be an even number',
    'movie.fps: must be a whole number from 1 to 120 or one of 23.976, 29.97, 47.952, 59.94, 119.88',
    'movie.codec: is not a known property',
    'movie.scenes[0].bgColor: "navy" is not a colour; use #rgb, #rgba, #rrggbb or #rrggbbaa',
    'movie.scenes[0].layers[0].text: is required for a text layer',
    'movie.scenes[0].layers[1].type: must be one of "text", "image", "video", "audio"',
    'movie.scenes[0].layers[1].id: "title" is already used by another layer in this scene (index 0)',
    'movie.scenes[1].id: "intro" is already used by another scene (index 0)',
    'movie.scenes[1].layers[0].duration: must be greater than 0',
    "movie.scenes[1].layers[1].startTime: must be less than the scene's duration (3 s)",
    'movie.scenes[1].layers[1].color: "white" is not a colour; use #rgb, #rgba, #rrggbb or #rrggbbaa',
    'movie.scenes[1].layers[2].source: "logo.png" must be an http or https URL',
    'movie.scenes[1].layers[3].source: "ftp://x.example.com/a.mp3" uses ftp: only http and https URLs are allowed',
    'movie.scenes[1].layers[4].fontFamily: "Comic Sans" is not bundled (only "Inter" is); give fontUrl to use it',
    'movie.scenes[1].layers[5].source: is required for an image layer',
    'movie.scenes[2].id: is required',
    'movie.scenes[2].duration: must be greater than 0',
  ];

  test('validateMovie returns one problem per mistake, each once', () => {
    assert.deepEqual(problems(broken).sort(), [...expected].sort());
  });

  test('normalizeMovie refuses the movie with a MovieError listing every problem, one per line', () => {
    assert.throws(
      () => normalizeMovie(broken),
      (err: unknown) => {
        assert.ok(err instanceof MovieError);
        assert.equal(err.name, 'MovieError');
        assert.deepEqual(err.problems, validateMovie(broken).problems);
        const lines = err.message.split('\n');
        assert.equal(lines[0], 'invalid movie:');
        assert.deepEqual(
          lines.slice(1),
          err.problems.map((p) => `  ${formatProblem(p)}`),
        );
        return true;
      },
    );
  });
});

describe('validation: bounded work and a bounded report for any input', () => {
  const emptyScenes = (n: number) => ({ scenes: Array.from({ length: n }, () => ({})) });
  /** `levels` arrays inside each other around `inner`, built without recursion. */
  const nested = (levels: number, inner: unknown = 1) => {
    let value = inner;
    for (let i = 0; i < levels; i++) value = [value];
    return value;
  };

  test('more than 1000 scenes is the one problem reported, whatever the scenes hold', () => {
    assert.deepEqual(validateMovie(emptyScenes(62_500)), {
      problems: [{ path: 'movie.scenes', message: 'must have at most 1,000 scenes (it has 62,500)' }],
      total: 1,
      countStopped: false,
    });
    const atLimit = { scenes: Array.from({ length: 1000 }, (_, i) => ({ id: `s${i}`, duration: 0.5 })) };
    assert.deepEqual(validateMovie(atLimit), { problems: [], total: 0, countStopped: false });
  });

  test('more than 200 layers in a scene is reported for each such scene, and nothing else is', () => {
    const layers = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `l${i}`, type: 'text', text: 'x' }));
    const m = movie((m) => {
      m.scenes[0].layers = layers(200);
      m.scenes[1].layers = layers(201);
      m.scenes.push({ id: 'bad', duration: -1, bgColor: 'red', layers: layers(5000) });
    });
    assert.deepEqual(problems(m), [
      'movie.scenes[1].layers: must have at most 200 layers (it has 201)',
      'movie.scenes[2].layers: must have at most 200 layers (it has 5,000)',
    ]);
  });

  test('the first 100 problems are listed in document order, and the rest counted', () => {
    const report = validateMovie(emptyScenes(300));
    assert.equal(report.total, 600);
    assert.equal(report.countStopped, false);
    assert.deepEqual(
      report.problems.map(formatProblem),
      Array.from({ length: 50 }, (_, i) => [
        `movie.scenes[${i}].id: is required`,
        `movie.scenes[${i}].duration: is required`,
      ]).flat(),
    );
    assert.equal(summarizeProblems(report), '600 problems; the first 100 are listed, and 500 more');
  });

  test('counting stops after 1,000 problems', () => {
    const report = validateMovie(emptyScenes(1000));
    assert.deepEqual([report.problems.length, report.total, report.countStopped], [100, 1000, true]);
    assert.equal(summarizeProblems(report), 'more than 1,000 problems; the first 100 are listed');
    const manyKeys = movie((m) => {
      for (let i = 0; i < 100_000; i++) m[`k${i}`] = i;
    });
    const keys = validateMovie(manyKeys);
    assert.deepEqual([keys.problems.length, keys.total, keys.countStopped], [100, 1000, true]);
    assert.equal(formatProblem(keys.problems[0]), 'movie.k0: is not a known property');
  });

  test('the summary of a few problems counts them all', () => {
    const one = { path: 'movie.fps', message: 'must be at least 1' };
    assert.equal(summarizeProblems({ problems: [one], total: 1, countStopped: false }), '1 problem');
    assert.equal(summarizeProblems({ problems: [one, one, one], total: 3, countStopped: false }), '3 problems');
  });

  test('nesting 100,000 levels deep is one problem, where the movie stops matching the schema', () => {
    assert.deepEqual(problems(nested(100_000)), ['movie: must be an object']);
    assert.deepEqual(problems({ scenes: nested(100_000) }), ['movie.scenes[0]: must be an object']);
    assert.deepEqual(problems(movie((m) => (m.title = nested(100_000)))), ['movie.title: must be a string']);
    assert.deepEqual(problems(movie((m) => (layersOf(m.scenes[0])[0].position = { x: nested(100_000), y: 0 }))), [
      'movie.scenes[0].layers[0].position.x: must be a number',
    ]);
  });

  test('values and keys from the body are shown cut to 60 characters, control characters and lone surrogates as \uFFFD', () => {
    const long = 'x'.repeat(10_000);
    const forms = 'use #rgb, #rgba, #rrggbb or #rrggbbaa';
    const m = movie((m) => {
      m.scenes[0].bgColor = long;
      layersOf(m.scenes[0])[0].color = '\u001b[31m\u0000\ud800!';
      m[long] = 1;
    });
    assert.deepEqual(validateMovie(m).problems, [
      { path: `movie["${'x'.repeat(60)}…"]`, message: 'is not a known property' },
      { path: 'movie.scenes[0].bgColor', message: `"${'x'.repeat(60)}…" is not a colour; ${forms}` },
      { path: 'movie.scenes[0].layers[0].color', message: `"\uFFFD[31m\uFFFD\uFFFD!" is not a colour; ${forms}` },
    ]);
  });

  test('`reelsmith validate` gives the same capped report, as text and as JSON', async () => {
    const file = join(await tempDir('reelsmith-validate-'), 'many.json');
    await writeFile(file, JSON.stringify(emptyScenes(300)));
    const text = await runCli(['validate', file]);
    assert.equal(text.code, 2);
    const lines = text.stderr.trimEnd().split('\n');
    assert.equal(lines[0], `error: ${file} is not valid: 600 problems; the first 100 are listed, and 500 more`);
    assert.deepEqual(
      lines.slice(1),
      validateMovie(emptyScenes(300)).problems.map((p) => `  ${formatProblem(p)}`),
    );

    const json = await runCli(['validate', '--json', file]);
    assert.equal(json.code, 2);
    assert.deepEqual(JSON.parse(json.stdout), {
      error: {
        code: 'usage',
        exitCode: 2,
        message: `${file} is not valid: 600 problems; the first 100 are listed, and 500 more`,
        ...validateMovie(emptyScenes(300)),
      },
    });
  });
});

describe('normalizeMovie: defaults and frame maths', () => {
  const only = (scenes: NormalizedScene[], index = 0) => scenes[index];
  const layer = (scene: NormalizedScene, id: string) => {
    const found = scene.layers.find((l) => l.id === id);
    assert.ok(found, `layer ${id}`);
    return found;
  };

  test('an unspecified size and rate become 1920x1080 at 30 fps; a 2.5 s scene is 75 frames', () => {
    const n = normalizeMovie({ scenes: [{ id: 'a', duration: 2.5 }] });
    assert.equal(n.width, 1920);
    assert.equal(n.height, 1080);
    assert.equal(n.fps, 30);
    assert.equal(n.frames, 75);
    const scene = only(n.scenes);
    assert.equal(scene.frames, 75);
    assert.equal(scene.offset, 0);
    assert.deepEqual(scene.bgColor, { r: 0, g: 0, b: 0, a: 1 });
    assert.deepEqual(scene.layers, []);
  });

  test('scene offsets are running sums of the scene frame counts', () => {
    const n = normalizeMovie({ scenes: [2.5, 1, 0.5, 2].map((duration, i) => ({ id: `s${i}`, duration })) });
    assert.deepEqual(
      n.scenes.map((s) => s.frames),
      [75, 30, 15, 60],
    );
    assert.deepEqual(
      n.scenes.map((s) => s.offset),
      [0, 75, 105, 120],
    );
    assert.equal(n.frames, 180);

    const at24 = normalizeMovie({
      fps: 24,
      scenes: [
        { id: 'a', duration: 1.5 },
        { id: 'b', duration: 0.75 },
        { id: 'c', duration: 1.01 },
      ],
    });
    assert.deepEqual(
      at24.scenes.map((s) => s.frames),
      [36, 18, 24],
    );
    assert.deepEqual(
      at24.scenes.map((s) => s.offset),
      [0, 36, 54],
    );
    assert.equal(at24.frames, 78);
  });

  test('a layer covers frames [round(start*fps), round((start+duration)*fps)), clipped to its scene', () => {
    const cases: Array<[Json, [number, number]]> = [
      [{}, [0, 75]], // whole scene
      [{ startTime: 0.5, duration: 1 }, [15, 45]],
      [{ startTime: 1 }, [30, 75]], // to the end of the scene
      [{ startTime: 0.51, duration: 0.52 }, [15, 31]], // 15.3 -> 15, 30.9 -> 31
      [{ startTime: 0.0166, duration: 0.0167 }, [0, 1]], // 0.498 -> 0, 0.999 -> 1
      [{ startTime: 2, duration: 5 }, [60, 75]], // clipped at the scene's end
      [{ startTime: 2.49, duration: 1 }, [75, 75]], // rounds to the end: no frames
    ];
    const n = normalizeMovie({
      fps: 30,
      scenes: [
        {
          id: 'a',
          duration: 2.5,
          layers: cases.map(([times], i) => ({ id: `l${i}`, type: 'text', text: 'x', ...times })),
        },
      ],
    });
    const scene = only(n.scenes);
    cases.forEach(([times, [start, end]], i) => {
      const l = layer(scene, `l${i}`);
      assert.deepEqual([l.startFrame, l.endFrame], [start, end], JSON.stringify(times));
    });
  });

  test('layer frames are counted from the start of their own scene', () => {
    const n = normalizeMovie({
      scenes: [
        { id: 'a', duration: 1 },
        { id: 'b', duration: 2, layers: [{ id: 'late', type: 'text', text: 'x', startTime: 0.5, duration: 1 }] },
      ],
    });
    const scene = only(n.scenes, 1);
    assert.equal(scene.offset, 30);
    assert.deepEqual([layer(scene, 'late').startFrame, layer(scene, 'late').endFrame], [15, 45]);
  });

  test('layers are ordered by ascending zIndex, ties in array order', () => {
    const n = normalizeMovie({
      scenes: [
        {
          id: 'a',
          duration: 1,
          layers: [
            { id: 'top-1', type: 'text', text: 'x', zIndex: 2 },
            { id: 'default-1', type: 'text', text: 'x' },
            { id: 'bottom', type: 'text', text: 'x', zIndex: -1 },
            { id: 'zero', type: 'text', text: 'x', zIndex: 0 },
            { id: 'top-2', type: 'text', text: 'x', zIndex: 2 },
            { id: 'middle', type: 'text', text: 'x', zIndex: 1 },
            { id: 'default-2', type: 'text', text: 'x' },
          ],
        },
      ],
    });
    const scene = only(n.scenes);
    assert.deepEqual(
      scene.layers.map((l) => l.id),
      ['bottom', 'default-1', 'zero', 'default-2', 'middle', 'top-1', 'top-2'],
    );
    assert.deepEqual(
      scene.layers.map((l) => l.index),
      [2, 1, 3, 6, 5, 0, 4],
    );
  });

  test('layer defaults: full-canvas box at 0,0, white 48 px Inter text, fill fit, volume 1', () => {
    const n = normalizeMovie(
      {
        width: 640,
        height: 360,
        scenes: [
          {
            id: 'a',
            duration: 1,
            layers: [
              { id: 'text', type: 'text', text: 'x' },
              { id: 'image', type: 'image', source: 'assets/a.png' },
              { id: 'video', type: 'video', source: 'https://cdn.example.com/v.mp4' },
            ],
          },
        ],
      },
      { allowLocalFiles: true, baseDir: '/movies' },
    );
    const scene = only(n.scenes);
    const text = layer(scene, 'text');
    assert.equal(text.type, 'text');
    if (text.type !== 'text') return;
    assert.deepEqual([text.x, text.y, text.width, text.height, text.zIndex, text.opacity], [0, 0, 640, 360, 0, 1]);
    assert.deepEqual([text.fontSize, text.fontWeight, text.fontFamily], [48, 400, 'Inter']);
    assert.deepEqual(text.color, { r: 255, g: 255, b: 255, a: 1 });
    const image = layer(scene, 'image');
    assert.ok(image.type === 'image');
    assert.equal(image.fit, 'fill');
    assert.equal(image.source, '/movies/assets/a.png', "a relative path is read from the movie file's folder");
    const video = layer(scene, 'video');
    assert.ok(video.type === 'video');
    assert.equal(video.source, 'https://cdn.example.com/v.mp4');
    assert.deepEqual([video.volume, video.trimStart, video.loop, video.mute], [1, 0, false, false]);
  });
});

describe('the published JSON Schema', () => {
  test('`reelsmith schema` prints valid JSON describing every Movie, Scene and Layer property', async () => {
    const { code, stdout, stderr } = await runCli(['schema']);
    assert.equal(code, 0, stderr);
    const schema = JSON.parse(stdout) as {
      $id: string;
      type: string;
      additionalProperties: boolean;
      required: string[];
      properties: Record<
        string,
        Json & {
          items?: Json & { properties: Record<string, Json & { items?: Json & { properties: Record<string, Json> } }> };
        }
      >;
    };
    assert.equal(schema.$id, 'https://reelsmith.dev/schema/movie.json');
    assert.equal(schema.type, 'object');
    assert.equal(schema.additionalProperties, false);
    assert.deepEqual(schema.required, ['scenes']);

    // the same properties the validator knows, at every level
    assert.deepEqual(Object.keys(schema.properties).sort(), Object.keys(MovieSchema.properties).sort());
    for (const name of ['id', 'title', 'width', 'height', 'fps', 'scenes']) assert.ok(name in schema.properties, name);
    const scene = schema.properties.scenes.items!;
    assert.deepEqual(Object.keys(scene.properties).sort(), Object.keys(SceneSchema.properties).sort());
    for (const name of ['id', 'duration', 'bgColor', 'layers']) assert.ok(name in scene.properties, name);
    assert.equal(scene.additionalProperties, false);
    const layer = scene.properties.layers.items!;
    assert.deepEqual(Object.keys(layer.properties).sort(), Object.keys(LayerSchema.properties).sort());
    for (const name of [
      'id',
      'type',
      'source',
      'text',
      'startTime',
      'duration',
      'zIndex',
      'position',
      'size',
      'color',
      'backgroundColor',
      'fontFamily',
      'fontUrl',
    ]) {
      assert.ok(name in layer.properties, name);
    }
    assert.equal(layer.additionalProperties, false);
    assert.deepEqual(
      (layer.properties.type as { anyOf: Array<{ const: string }> }).anyOf.map((o) => o.const),
      ['text', 'image', 'video', 'audio'],
    );

    // the limits the validator enforces are published
    assert.deepEqual(pick(schema.properties.width, ['type', 'minimum', 'maximum', 'multipleOf']), {
      type: 'integer',
      minimum: 16,
      maximum: 7680,
      multipleOf: 2,
    });
    assert.deepEqual(pick(schema.properties.height, ['type', 'minimum', 'maximum', 'multipleOf']), {
      type: 'integer',
      minimum: 16,
      maximum: 7680,
      multipleOf: 2,
    });
    assert.deepEqual(schema.properties.fps.anyOf, [
      { type: 'integer', minimum: 1, maximum: 120 },
      ...[23.976, 29.97, 47.952, 59.94, 119.88].map((fps) => ({ type: 'number', const: fps })),
    ]);
    assert.match(
      String(schema.properties.fps.description),
      /23\.976, 29\.97, 47\.952, 59\.94, 119\.88 \(exactly N x 1000\/1001/,
    );
    assert.equal(schema.properties.scenes.minItems, 1);
    assert.equal(schema.properties.scenes.maxItems, 1000);
    assert.equal(scene.properties.layers.maxItems, 200);
    assert.equal(scene.properties.duration.exclusiveMinimum, 0);
    assert.deepEqual(scene.required, ['id', 'duration']);
    assert.deepEqual(layer.required, ['id', 'type']);
    assert.match(String(layer.properties.source.description), /http/);
  });
});

function pick(object: Json, keys: string[]): Json {
  return Object.fromEntries(keys.map((k) => [k, object[k]]));
}

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/reelsmith.js', ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
