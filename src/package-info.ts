// The package's own facts, read from package.json once: the CLI's --version, the API
// document's version and licence. Imports nothing of ours, so any module may use it and the
// CLI still starts fast.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const PACKAGE = JSON.parse(readFileSync(join(import.meta.dirname, '../package.json'), 'utf8')) as {
  version: string;
  license: string;
};
