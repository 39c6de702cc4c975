// The scene cache key: the same scene content gives the same key whatever order its
// layers' files were fetched or rasterized in; any change to a layer gives another key.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { normalizeMovie } from '../src/movie/index.ts';
import { DEFAULT_ENCODER } from '../src/render/index.ts';
import { sceneKey, type LayerInput } from '../src/render/plan.ts';
import { wholeBox } from '../src/render/visible-region.ts';

const text = (id: string, words: string, y: number) => ({
  id,
  type: 'text',
  text: words,
  position: { x: 0, y },
  size: { width: 300, height: 40 },
});
const movie = (words = 'Three') =>
  normalizeMovie({
    width: 320,
    height: 180,
    scenes: [{ id: 's', duration: 1, layers: [text('a', 'One', 0), text('b', 'Two', 50), text('c', words, 100)] }],
  });

/** The scene's inputs as planning fills them in, in the given layer order. */
function inputs(m: ReturnType<typeof movie>, order: string[]): Map<string, LayerInput> {
  const layers = m.scenes[0].layers;
  return new Map(
    order.map((id) => {
      const layer = layers.find((l) => l.id === id)!;
      if (layer.type === 'audio') throw new Error('visual layers only');
      return [
        id,
        {
          layer,
          path: `/work/text-${id}.png`,
          demuxer: 'png_pipe',
          start: 0,
          placement: { scaled: layer, cut: wholeBox(layer), at: { x: layer.x, y: layer.y } },
          digest: `digest-of-${id}-${layer.type === 'text' ? layer.text : ''}`,
        },
      ];
    }),
  );
}

const keyOf = (m: ReturnType<typeof movie>, order: string[]) =>
  sceneKey(m.scenes[0], inputs(m, order), m, DEFAULT_ENCODER);

test('the same scene gives the same key whatever order its inputs were filled in', () => {
  const m = movie();
  const key = keyOf(m, ['a', 'b', 'c']);
  assert.match(key, /^[0-9a-f]{32}$/);
  for (const order of [
    ['c', 'b', 'a'],
    ['b', 'a', 'c'],
    ['c', 'a', 'b'],
  ])
    assert.equal(keyOf(m, order), key, order.join());
  // a fresh normalisation of the same JSON, with other temp paths, gives it too
  const again = movie();
  const moved = new Map(
    [...inputs(again, ['b', 'c', 'a'])].map(([id, input]) => [id, { ...input, path: `/elsewhere/${id}.png` }]),
  );
  assert.equal(sceneKey(again.scenes[0], moved, again, DEFAULT_ENCODER), key);
});

test('a changed layer, file digest, canvas or encoder gives another key', () => {
  const m = movie();
  const key = keyOf(m, ['a', 'b', 'c']);
  assert.notEqual(keyOf(movie('Four'), ['a', 'b', 'c']), key, 'another text in one layer');
  const otherFile = inputs(m, ['a', 'b', 'c']);
  otherFile.set('b', { ...otherFile.get('b')!, digest: 'another-digest' });
  assert.notEqual(sceneKey(m.scenes[0], otherFile, m, DEFAULT_ENCODER), key, 'another file behind one layer');
  assert.notEqual(
    sceneKey(m.scenes[0], inputs(m, ['a', 'b', 'c']), { ...m, fps: 25 }, DEFAULT_ENCODER),
    key,
    'another fps',
  );
  assert.notEqual(
    sceneKey(m.scenes[0], inputs(m, ['a', 'b', 'c']), m, { ...DEFAULT_ENCODER, crf: 21 }),
    key,
    'another encoder',
  );
});
