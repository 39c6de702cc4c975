// `reelsmith doctor`: which ffmpeg and ffprobe run, their versions, whether they can do
// what the engine needs, and which fonts ship and the scripts they draw.
import { ffmpegBinary, ffmpegFeatures, ffprobeBinary, run } from '../media/index.ts';
import { bundledFontPackages, coveredScripts } from '../render/index.ts';
import { SOURCE_FEATURES } from '../render/source-filters.ts';

export async function doctor(): Promise<{ ok: boolean; lines: string[] }> {
  const lines: string[] = [`node       ${process.version}`];
  let ok = true;
  for (const [name, binary] of [
    ['ffmpeg', ffmpegBinary()],
    ['ffprobe', ffprobeBinary()],
  ] as const) {
    try {
      const version = (await run(binary.path, ['-version'])).split('\n')[0];
      lines.push(`${name.padEnd(10)} ${binary.path} (from ${binary.origin}): ${version}`);
    } catch (err) {
      ok = false;
      lines.push(`${name.padEnd(10)} ${binary.path} (from ${binary.origin}): NOT WORKING: ${(err as Error).message}`);
    }
  }
  try {
    const encoders = await run(ffmpegBinary().path, ['-hide_banner', '-encoders']);
    const filters = await run(ffmpegBinary().path, ['-hide_banner', '-filters']);
    const need = ['overlay', 'loop', 'amerge', 'pan', 'adelay', 'apad', 'lutyuv', 'color', 'anullsrc'];
    const missing = need.filter((f) => !new RegExp(`\\s${f}\\s`).test(filters));
    const x264 = /libx264/.test(encoders);
    if (!x264 || missing.length > 0) ok = false;
    lines.push(`libx264    ${x264 ? 'yes' : 'MISSING'}`);
    lines.push(`filters    ${missing.length === 0 ? 'all present' : `MISSING ${missing.join(', ')}`}`);
  } catch {
    ok = false;
  }
  try {
    // optional: without one, only the layers whose sources need it fail, naming it
    const has = await ffmpegFeatures();
    const missing = Object.values(SOURCE_FEATURES).filter((f) => !has(f));
    const all = Object.values(SOURCE_FEATURES).map((f) => `${f.purpose} (${f.name})`);
    const named = missing.map((f) => `${f.name} ${f.kind} (${f.purpose})`).join(', ');
    lines.push(
      `sources    ${missing.length === 0 ? `${all.join(', ')}: all present` : `MISSING ${named}: layers whose sources need them fail`}`,
    );
  } catch {
    ok = false;
  }
  lines.push(`fonts      ${bundledFontPackages().join(', ')}`);
  lines.push(`scripts    ${coveredScripts().join(', ')}`);
  return { ok, lines };
}
