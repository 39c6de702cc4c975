// The README's service path, as a new user meets it: `reelsmith serve` on an empty data
// folder prints a key and a curl example; the seed's minimal request, as written in the
// API document with only the host and key changed, renders to a playable MP4 at outputUrl.
// Distributed mode: API nodes starting together on a new database make one first account.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Accounts } from '../src/jobs/accounts.ts';
import { openPostgres } from '../src/jobs/database.ts';
import { postgresSchema, probe, s3Server, tempDir } from './helpers.ts';
import { api, seedMinimalBody, serve, waitForJob } from './service-helpers.ts';

const root = join(import.meta.dirname, '..');

test('first start prints a key; the seed minimal request works with only host and key changed', async () => {
  const dir = await tempDir();
  const server = spawn(
    process.execPath,
    [join(root, 'bin/reelsmith.js'), 'serve', '--data', join(dir, 'data'), '--port', '0', '--host', '127.0.0.1'],
    {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  after(() => server.kill('SIGKILL'));
  let out = '';
  server.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
  server.stderr.setEncoding('utf8').on('data', (c: string) => (out += c));
  const deadline = Date.now() + 20_000;
  while (!/then: curl/.test(out)) {
    assert.ok(Date.now() < deadline, `no first-start message:\n${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const url = /listening on (http:\/\/\S+)/.exec(out)![1];
  const key = /^\s+(vs_prod_\S+)$/m.exec(out)![1];
  assert.match(key, /^vs_prod_[A-Za-z0-9_-]{32,}$/);
  assert.match(out, /project proj_abc123/);
  assert.match(out, /curl -X POST .*\/v1\/render\/jobs/);

  const res = await api(url, key, '/v1/render/jobs', { method: 'POST', json: seedMinimalBody });
  assert.equal(res.status, 202);
  const { jobId, status } = (await res.json()) as { jobId: string; status: string };
  assert.equal(status, 'queued');
  const job = await waitForJob(url, key, jobId);
  assert.equal(job.status, 'done', JSON.stringify(job));
  const mp4 = await fetch(job.outputUrl);
  assert.equal(mp4.status, 200);
  const file = join(dir, 'out.mp4');
  await writeFile(file, Buffer.from(await mp4.arrayBuffer()));
  const info = await probe(file);
  assert.equal(Number(info.video.nb_read_frames), 150);
  assert.equal(info.video.width, 1920);
  assert.equal(Number(info.format.duration).toFixed(1), '5.0');
});

test('two API nodes starting together on a new database make one first account, and one of them shows its key', async () => {
  const [{ url }, s3] = await Promise.all([postgresSchema(), s3Server()]);
  const args = ['--database', url, '--storage', `s3://${s3.bucket}/reelsmith`];
  const nodes = await Promise.all(
    [1, 2].map(async () => serve(await tempDir('reelsmith-api-node-'), { args, env: s3.settings })),
  );
  for (const node of nodes)
    assert.match(
      node.output(),
      /listening on \S+ \(API node: database 127\.0\.0\.1:5432\/test, storage s3:\/\/reelsmith-test\/reelsmith\)/,
    );
  const told = nodes.filter((node) => /First start: created account/.test(node.output()));
  assert.equal(told.length, 1, nodes.map((node) => node.output()).join('\n---\n'));
  const { default: pg } = await import('pg');
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  try {
    const { rows } = await db.query('select id from accounts');
    assert.equal(rows.length, 1);
    const key = /\n {2}(vs_prod_\S+)\n/.exec(told[0].output())?.[1];
    assert.ok(key, 'the key is shown');
    for (const node of nodes) assert.equal((await api(node.url, key, '/v1/jobs')).status, 200, 'each node takes it');
  } finally {
    await db.end();
  }
});

test('first accounts asked for at once on one new Postgres database, from two connections: one is made', async () => {
  const { url } = await postgresSchema();
  const [one, two] = [await openPostgres(url), await openPostgres(url)];
  try {
    const made = await Promise.all(
      [one, two, one, two].map((db) =>
        new Accounts(db).createFirst({ name: 'default', plan: 'unlimited', projectId: 'proj_abc123' }),
      ),
    );
    assert.equal(made.filter((m) => m !== undefined).length, 1);
    assert.equal((await new Accounts(one).listAccounts()).length, 1);
  } finally {
    await Promise.all([one.destroy(), two.destroy()]);
  }
});
