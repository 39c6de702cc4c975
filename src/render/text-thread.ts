// A text thread (text-pool.ts starts them): reads a layer's fontUrl font and draws the layer,
// one draw at a time, so nothing a tenant's text or font costs is spent on the event loop.
// It tells the pool which fontUrl fonts it holds registered as soon as they change, so that
// if it is stopped mid-draw the thread that replaces it can remove them from Skia.
import { parentPort, workerData } from 'node:worker_threads';
import { forgetFontFiles, heldFontFiles, holdFontBytes, loadFontFile } from './fonts.ts';
import type { FromThread, TextDraw, TextDrawn, ToThread } from './text-pool.ts';
import { rasterizeText } from './text-raster.ts';

const port = parentPort!;
const limits = workerData as { fontBytes: number; fontFileBytes: number };
holdFontBytes(limits.fontBytes);

async function draw(id: number, job: TextDraw): Promise<TextDrawn> {
  const own = job.font && loadFontFile(job.font.path, job.font.digest, limits.fontFileBytes);
  if (own && 'refused' in own) return { refused: own.refused, missing: [] };
  if (own) send({ id, kind: 'holding', fonts: heldFontFiles() });
  const { missing } = job.out ? await rasterizeText(job.layer, own?.face, job.out, job.region) : { missing: [] };
  return { missing };
}

const send = (message: FromThread) => port.postMessage(message);

port.on('message', (message: ToThread) => {
  if (message.kind === 'forget') return forgetFontFiles(message.fonts);
  draw(message.id, message.draw).then(
    (drawn) => send({ id: message.id, kind: 'drawn', drawn }),
    (err: Error) => send({ id: message.id, kind: 'failed', message: err.message }),
  );
});
