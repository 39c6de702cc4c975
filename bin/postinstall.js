#!/usr/bin/env node
// The package's install step: npm's ffprobe package makes its binary executable by its owner
// only, so after a root (global) install no other user could run it. This makes the shipped
// ffmpeg and ffprobe executable by everyone who may read them (src/media/binaries.ts).
// In a fresh clone nothing is built yet (`prepare` builds after this): first use does it then.
import { existsSync } from 'node:fs';

const binaries = new URL('../dist/media/binaries.js', import.meta.url);
// best effort: an install never fails here (a dist/ from an older build may lack the function)
if (existsSync(binaries)) await import(binaries.href).then((m) => m.fixShippedBinaries?.()).catch(() => {});
