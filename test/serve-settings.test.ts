// `serve`'s settings: each has an environment variable, and the README's settings table
// lists exactly those variables, with each flag (the table is the user's reference).
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { dataSetting, serveSettings } from '../src/cli/serve-settings.ts';
import { ROOT } from './helpers.ts';

test("every setting of `serve` is a flag and a variable, and the README's table lists each pair", async () => {
  const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
  const table = readme.slice(readme.indexOf('| flag | variable | default |'));
  const rows = table.slice(0, table.indexOf('\n\n')).split('\n').slice(2);
  const documented = rows.map((row) => {
    const [flag, variable] = row
      .split('|')
      .slice(1, 3)
      .map((cell) => /`([^`]+)`/.exec(cell)?.[1]);
    return `${flag} ${variable}`;
  });
  const settings = [dataSetting(), ...serveSettings()].map((o) => {
    // the private-network variable also takes CIDR lists, so its option names it in its help instead
    const variable = o.envVar ?? /env: (\w+)/.exec(o.description)?.[1];
    assert.ok(variable, `${o.flags} has an environment variable`);
    return `${o.flags} ${variable}`;
  });
  assert.deepEqual(documented.sort(), settings.sort());
});
