// The distributed mode's commands as an operator meets them: `reelsmith worker` and `serve
// --database` refuse what cannot work, naming the setting, and the admin commands manage
// accounts, projects and keys in the shared database.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { cli, postgresSchema, s3Server, tempDir } from './helpers.ts';

test('worker without --database or --storage is refused, naming the missing setting', async () => {
  const run = await cli(['worker']);
  assert.notEqual(run.code, 0);
  assert.match(run.stderr, /--database <url>/);
  assert.match(run.stderr, /not specified/);
});

test('--database takes only a Postgres URL; serve --database without --storage exits 2 saying why', async () => {
  const wrong = await cli(['serve', '--database', 'mysql://db/x', '--port', '0']);
  assert.notEqual(wrong.code, 0);
  assert.match(wrong.stderr, /mysql:\/\/db\/x is not a Postgres URL/);

  const { url } = await postgresSchema();
  const alone = await cli(['serve', '--database', url, '--port', '0']);
  assert.equal(alone.code, 2, alone.stdout + alone.stderr);
  assert.match(alone.stderr, /--database needs --storage s3:\/\/bucket\/prefix/);
});

test('a worker whose bucket is wrong exits 2 naming it, before taking any job', async () => {
  const [{ url }, s3] = await Promise.all([postgresSchema(), s3Server()]);
  const run = await cli(['worker', '--database', url, '--storage', 's3://no-such-bucket/p', '--data', '/tmp/x-none'], {
    env: s3.settings,
  });
  assert.equal(run.code, 2, run.stdout + run.stderr);
  assert.match(run.stderr, /--storage s3:\/\/no-such-bucket\/p/);
  assert.doesNotMatch(run.stdout, /taking jobs/);
});

test('accounts, projects and keys in the shared database (DATABASE_URL), no data folder needed or made', async () => {
  const { url } = await postgresSchema();
  // the data folder they would use in embedded mode: left alone
  const unused = join(await tempDir(), 'data');
  const env = { DATABASE_URL: url, REELSMITH_DATA: unused };
  const account = JSON.parse((await cli(['accounts', 'create', '--plan', 'pro', '--json'], { env })).stdout);
  assert.match(account.accountId, /^acct_/);
  const project = JSON.parse(
    (await cli(['projects', 'create', '--account', account.accountId, '--id', 'proj_shared', '--json'], { env }))
      .stdout,
  );
  assert.equal(project.projectId, 'proj_shared');
  const key = JSON.parse((await cli(['keys', 'create', '--account', account.accountId, '--json'], { env })).stdout);
  assert.match(key.key, /^vs_prod_/);
  // a second process sees them: the database is the one truth
  const again = await cli(['projects', 'create', '--account', account.accountId, '--id', 'proj_shared', '--json'], {
    env,
  });
  assert.notEqual(again.code, 0);
  assert.match(again.stdout + again.stderr, /proj_shared/);
  assert.equal(existsSync(unused), false, 'no data folder was made');
});
