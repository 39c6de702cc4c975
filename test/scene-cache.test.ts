// The scene cache through the service: the same multi-layer movie submitted again is
// served from the cache scene by scene, every time; one changed scene re-renders only itself.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { api, startService, waitForJob } from './service-helpers.ts';

/** Ten scenes of three text layers each (rasterized side by side, finishing in any order); `changed` gets another caption. */
function movieBody(projectId: string, changed?: number) {
  const text = (id: string, words: string, y: number) => ({
    id,
    type: 'text',
    text: words,
    fontSize: 24,
    color: '#ffffff',
    position: { x: 10, y },
    size: { width: 300, height: 40 },
  });
  return {
    kind: 'movie',
    projectId,
    movie: {
      width: 320,
      height: 180,
      fps: 30,
      scenes: Array.from({ length: 10 }, (_, i) => ({
        id: `scene_${i}`,
        duration: 0.5,
        bgColor: '#102030',
        layers: [
          text('title', `Scene ${i + 1}`, 10),
          text('line', i === changed ? 'Changed line' : `Line ${i + 1}`, 60),
          text('footer', 'Reelsmith', 120),
        ],
      })),
    },
  };
}

test('the same 10-scene movie resubmitted comes from the cache every time; one changed scene re-renders alone', {
  timeout: 240_000,
}, async () => {
  const svc = await startService();
  const { key, projectId } = await svc.tenant('pro');
  const submit = async (body: unknown): Promise<string[]> => {
    const res = await api(svc.url, key, '/v1/render/jobs', { method: 'POST', json: body });
    assert.equal(res.status, 202, await res.clone().text());
    const { jobId } = (await res.json()) as { jobId: string };
    const job = await waitForJob(svc.url, key, jobId, 120_000);
    assert.equal(job.status, 'done', JSON.stringify(job));
    return job.scenes.map((s: { state: string }) => s.state);
  };
  const first = await submit(movieBody(projectId));
  assert.deepEqual(first, Array(10).fill('done'), 'the first job renders every scene');
  for (const attempt of [2, 3])
    assert.deepEqual(
      await submit(movieBody(projectId)),
      Array(10).fill('cached'),
      `job ${attempt}: every scene from the cache`,
    );
  const changed = await submit(movieBody(projectId, 4));
  assert.deepEqual(
    changed,
    Array.from({ length: 10 }, (_, i) => (i === 4 ? 'done' : 'cached')),
    'only the changed scene re-renders',
  );
});
