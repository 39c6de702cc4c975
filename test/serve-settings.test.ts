// `serve`'s and `worker`'s settings: each has an environment variable, and the README's
// settings tables list exactly those variables, with each flag and (where there is one) the
// default the command really has (the tables are the user's reference).
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Option } from 'commander';
import { dataSetting, serveSettings, workerSettings } from '../src/cli/serve-settings.ts';
import { ROOT } from './helpers.ts';

const HEADER = '| flag | variable | default |';

/** The rows of the first settings table after `from` in the README: flag, variable, and the default cell without backticks. */
async function settingsTable(from: string): Promise<Array<{ setting: string; defaultCell: string }>> {
  const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
  assert.ok(readme.includes(from), `the README has ${from}`);
  const after = readme.slice(readme.indexOf(from));
  const table = after.slice(after.indexOf(HEADER));
  const rows = table.slice(0, table.indexOf('\n\n')).split('\n').slice(2);
  return rows.map((row) => {
    const cells = row.split('|').slice(1, 4);
    const [flag, variable] = cells.slice(0, 2).map((cell) => /`([^`]+)`/.exec(cell)?.[1]);
    return { setting: `${flag} ${variable}`, defaultCell: cells[2].replaceAll('`', '').trim() };
  });
}

/** "flag VARIABLE" of an option. */
function settingOf(o: Option): string {
  // the private-network variable also takes CIDR lists, so its option names it in its help instead
  const variable = o.envVar ?? /env: (\w+)/.exec(o.description)?.[1];
  assert.ok(variable, `${o.flags} has an environment variable`);
  return `${o.flags} ${variable}`;
}

/** What the default cell must say: "required", the default's description, or the default itself (none: not checked). */
function defaultText(o: Option): string | undefined {
  if (o.mandatory) return 'required';
  if (o.defaultValueDescription) return o.defaultValueDescription;
  return o.defaultValue === undefined ? undefined : String(o.defaultValue);
}

async function checkTable(from: string, options: Option[]) {
  const rows = await settingsTable(from);
  assert.deepEqual(rows.map((r) => r.setting).sort(), options.map(settingOf).sort());
  for (const o of options) {
    const wanted = defaultText(o);
    const cell = rows.find((r) => r.setting === settingOf(o))!.defaultCell;
    if (wanted !== undefined)
      assert.ok(cell.startsWith(wanted), `${o.flags}: the README says "${cell}", not ${wanted}`);
  }
}

test("every setting of `serve` is a flag and a variable, and the README's table lists each pair and its default", async () => {
  await checkTable('## The service', [dataSetting(), ...serveSettings()]);
});

test("every setting of `worker` is a flag and a variable, and the README's table lists each pair and its default", async () => {
  await checkTable('## Distributed mode', workerSettings());
});
