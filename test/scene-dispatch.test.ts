// How a render gets one uncached scene when a dispatch shares scenes with other machines:
// rendered here when claimed, otherwise read from the store once settled elsewhere, claimed
// again when the other machine stopped, and failing clearly when what was promised is absent.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type SceneDispatch, sceneChunks } from '../src/render/scene-dispatch.ts';

/** A dispatch answering claims and settles from lists, recording every call in `calls`. */
function scripted(claims: Array<'here' | 'elsewhere'>, settles: Array<'done' | 'free' | Error> = []) {
  const calls: string[] = [];
  const dispatch: SceneDispatch = {
    offer: async () => {},
    claim: async (i, key) => {
      calls.push(`claim ${i} ${key}`);
      return claims.shift()!;
    },
    rendered: async (i, key) => void calls.push(`rendered ${i} ${key}`),
    settled: async (i, key, _signal, onFrames) => {
      calls.push(`settled ${i} ${key}`);
      onFrames(12); // the other machine's progress reaches the render
      const next = settles.shift()!;
      if (next instanceof Error) throw next;
      return next;
    },
  };
  return { dispatch, calls };
}

/** Steps whose store holds `stored`, recording slots, renders and waits in `calls`. */
function steps(calls: string[], stored?: string[]) {
  return {
    slot: async <T>(task: () => Promise<T>) => {
      calls.push('slot');
      return task();
    },
    render: async () => {
      calls.push('render');
      return ['here.mp4'];
    },
    elsewhere: () => void calls.push('elsewhere'),
    frames: (n: number) => void calls.push(`frames ${n}`),
    stored: async () => stored,
  };
}

const live = new AbortController().signal;

test('without a dispatch a scene is rendered here, in a slot', async () => {
  const calls: string[] = [];
  assert.deepEqual(await sceneChunks(2, 'k', undefined, steps(calls), live), ['here.mp4']);
  assert.deepEqual(calls, ['slot', 'render']);
});

test('claimed here: rendered in the slot, then said rendered', async () => {
  const { dispatch, calls } = scripted(['here']);
  assert.deepEqual(await sceneChunks(1, 'k', dispatch, steps(calls), live), ['here.mp4']);
  assert.deepEqual(calls, ['slot', 'claim 1 k', 'render', 'rendered 1 k']);
});

test('claimed elsewhere: the slot is left, and the chunks come from the store once settled', async () => {
  const { dispatch, calls } = scripted(['elsewhere'], ['done']);
  assert.deepEqual(await sceneChunks(0, 'k', dispatch, steps(calls, ['there.mp4']), live), ['there.mp4']);
  assert.deepEqual(calls, ['slot', 'claim 0 k', 'elsewhere', 'settled 0 k', 'frames 12']);
});

test('the other machine stopped: the scene is claimed again and rendered here', async () => {
  const { dispatch, calls } = scripted(['elsewhere', 'here'], ['free']);
  assert.deepEqual(await sceneChunks(3, 'k', dispatch, steps(calls), live), ['here.mp4']);
  assert.deepEqual(calls, [
    'slot',
    'claim 3 k',
    'elsewhere',
    'settled 3 k',
    'frames 12',
    'slot',
    'claim 3 k',
    'render',
    'rendered 3 k',
  ]);
});

test('settled elsewhere but absent from the store: a clear failure', async () => {
  const { dispatch, calls } = scripted(['elsewhere'], ['done']);
  await assert.rejects(sceneChunks(4, 'abc', dispatch, steps(calls, undefined), live), {
    message: 'scene 4 was rendered on another machine, but its chunks are not in the scene store (key abc)',
  });
});

test("failed elsewhere: that machine's reason", async () => {
  const { dispatch, calls } = scripted(['elsewhere'], [new Error('layer "footage": unreachable')]);
  await assert.rejects(sceneChunks(0, 'k', dispatch, steps(calls), live), { message: 'layer "footage": unreachable' });
});

test('a cancelled render claims nothing', async () => {
  const { dispatch, calls } = scripted(['here']);
  const abort = new AbortController();
  abort.abort();
  await assert.rejects(sceneChunks(0, 'k', dispatch, steps(calls), abort.signal), { name: 'AbortedError' });
  assert.deepEqual(calls, ['slot']);
});
