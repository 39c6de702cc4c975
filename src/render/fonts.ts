// Fonts for text layers: the bundled Inter (every weight, latin and latin-ext) so output
// is identical on every machine, plus any font a layer brings with fontUrl.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { GlobalFonts } from '@napi-rs/canvas';
import { BUNDLED_FONT } from '../movie/index.ts';

const WEIGHTS = [100, 200, 300, 400, 500, 600, 700, 800, 900];
const require = createRequire(import.meta.url);
let bundledLoaded = false;
const loadedFiles = new Map<string, string>();

export function loadBundledFonts(): void {
  if (bundledLoaded) return;
  const dir = join(dirname(require.resolve('@fontsource/inter/package.json')), 'files');
  for (const weight of WEIGHTS) {
    for (const subset of ['latin', 'latin-ext']) {
      GlobalFonts.registerFromPath(join(dir, `inter-${subset}-${weight}-normal.woff2`), BUNDLED_FONT);
    }
  }
  bundledLoaded = true;
}

/** Registers a font file under a family name of its own; returns that name. */
export function loadFontFile(path: string, digest: string): string | undefined {
  const known = loadedFiles.get(digest);
  if (known) return known;
  const family = `font-${digest.slice(0, 16)}`;
  if (!GlobalFonts.registerFromPath(path, family)) return undefined;
  loadedFiles.set(digest, family);
  return family;
}

export function bundledFontFiles(): string[] {
  return WEIGHTS.map((w) => `@fontsource/inter inter-latin-${w}-normal.woff2`);
}
