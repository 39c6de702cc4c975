// Work files are bounded per job (issue 16, item 7): a movie whose pictures would pass the
// render's disk budget fails before they are written, naming the layer where it ran out.
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { pictureBytes } from '../src/render/work-budget.ts';
import { media, render, tempDir } from './helpers.ts';

test('a job whose fitted pictures would pass its work budget fails naming the layer, and leaves no work files', async () => {
  const dir = await tempDir();
  const workRoot = await tempDir();
  const photo = await media.png(join(dir, 'photo.png'), 'orange', 64, 64);
  // each box is another fit of the same photo: 640x360 pictures, the budget holds two
  const layers = [0, 1, 2].map((i) => ({
    id: `photo-${i}`,
    type: 'image',
    source: photo,
    position: { x: 0, y: 0 },
    size: { width: 640 - 2 * i, height: 360 },
  }));
  const movie = { width: 640, height: 360, fps: 30, scenes: [{ id: 's', duration: 0.2, layers }] };
  const budget = pictureBytes({ width: 640, height: 360 }) * 2;
  await assert.rejects(
    render(movie, dir, { workRoot, workDiskBytes: budget, concurrency: 1, cores: 1 }),
    (err: Error) => {
      assert.equal(err.name, 'WorkBudgetError');
      assert.match(
        err.message,
        /^layer "photo-2" \(movie\.scenes\[0\]\.layers\[2\]\): the job's work files would pass its 2 MiB budget/,
      );
      return true;
    },
  );
  assert.deepEqual(await readdir(workRoot), [], 'the work folder is removed');
  // the same movie within its budget renders
  const done = await render(movie, dir, { workRoot, workDiskBytes: budget * 2 });
  assert.equal(done.mediaData.width, 640);
});
