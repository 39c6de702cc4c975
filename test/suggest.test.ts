// "Did you mean": the edit distance it rests on, and when a suggestion is made (only for a
// slip: a close name that is closer than any other).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { closest, editDistance } from '../src/movie/suggest.ts';

test('edit distance counts insertions, deletions, substitutions and swapped neighbours as one each, ignoring case', () => {
  const cases: Array<[string, string, number]> = [
    ['', '', 0],
    ['cover', 'cover', 0],
    ['', 'fill', 4],
    ['covr', 'cover', 1], // insertion
    ['coverr', 'cover', 1], // deletion
    ['cuver', 'cover', 1], // substitution
    ['fontWieght', 'fontWeight', 1], // swapped neighbours
    ['Cover', 'cover', 0],
    ['TEXTALIGN', 'textAlign', 0],
    ['kitten', 'sitting', 3],
    ['ca', 'abc', 3], // neighbours swapped once only (optimal string alignment)
  ];
  for (const [a, b, d] of cases) {
    assert.equal(editDistance(a, b), d, `${a} -> ${b}`);
    assert.equal(editDistance(b, a), d, `${b} -> ${a}`);
  }
});

test('edit distance gives up past its limit: the lengths alone, or a row with nothing under it', () => {
  assert.equal(editDistance('kitten', 'sitting', 3), 3);
  assert.equal(editDistance('kitten', 'sitting', 2), Number.POSITIVE_INFINITY);
  assert.equal(editDistance('x'.repeat(1_000_000), 'fit', 1), Number.POSITIVE_INFINITY);
  assert.equal(editDistance('abcdef', 'uvwxyz', 1), Number.POSITIVE_INFINITY);
});

test('a suggestion is the one close candidate: a slip in a short word, one per 3 letters in a long one', () => {
  const fits = ['fill', 'contain', 'cover'];
  assert.equal(closest('covr', fits), 'cover');
  assert.equal(closest('Contian', fits), 'contain');
  assert.equal(closest('fil', fits), 'fill');
  assert.equal(closest('stretch', fits), undefined, 'nothing close');
  const layer = ['id', 'type', 'source', 'fontWeight', 'fontSize', 'fontFamily', 'textAlign', 'verticalAlign'];
  assert.equal(closest('fontWieght', layer), 'fontWeight');
  assert.equal(closest('font_weight', layer), 'fontWeight');
  assert.equal(closest('fontweigth', layer), 'fontWeight');
  assert.equal(closest('textalign', layer), 'textAlign');
  assert.equal(closest('src', layer), undefined, 'source is 3 edits from src: more than a slip');
  assert.equal(closest('opacity', layer), undefined);
});

test('no suggestion when two candidates are equally close', () => {
  assert.equal(closest('z', ['x', 'y']), undefined);
  assert.equal(closest('fontSiez', ['fontSize', 'fontSiex']), undefined);
  assert.equal(closest('x', ['x', 'y']), 'x');
});
