#!/usr/bin/env node
// Runs the compiled CLI: `npm ci` and `npm install` build it (the package's `prepare`
// script), and `npm test` and `npm run bench` rebuild it first.
import { existsSync } from 'node:fs';

const main = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  console.error(`reelsmith: ${new URL('..', import.meta.url).pathname} is not built: run \`npm run build\` there`);
  process.exit(2);
}
await import(main.href);
