// The webhook outbox shared by several nodes (distributed mode), on SQLite and on Postgres:
// two outboxes on one database, both fed the same job's events, tell a real receiver each
// event once, signed; a failing receiver is retried, each attempt made by one node; a node
// that dies mid-attempt leaves the delivery to another once its claim lapses.
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { Accounts } from '../src/jobs/accounts.ts';
import { type Database, openPostgres, openSqlite, type ProjectRow } from '../src/jobs/database.ts';
import { JobStore } from '../src/jobs/job-store.ts';
import { type JobMessage, messageOf } from '../src/jobs/job-view.ts';
import { type WebhookOptions, WebhookOutbox } from '../src/jobs/webhooks.ts';
import { postgresSchema, tempDir, type WebhookReceipt, webhookReceiver } from './helpers.ts';

const sqliteFolders = await tempDir('reelsmith-outbox-');
const postgres = await postgresSchema();

/** Each engine: how a node opens the test's database (SQLite: a data folder per test; Postgres: the file's schema). */
const ENGINES = {
  sqlite: (name: string) => openSqlite(join(sqliteFolders, name)),
  postgres: (_name: string) => openPostgres(postgres.url),
};

/** An account's project: its id, and the secret its webhooks are signed with. */
async function project(db: Database) {
  const accounts = new Accounts(db);
  const account = await accounts.createAccount({ name: 'test', plan: 'pro' });
  return accounts.createProject({ accountId: account.id, name: 'test' });
}

/** A job of the project with a callback, submitted as the API does (its first event, the submit's, is not told). */
async function submittedJob(db: Database, project: ProjectRow, callbackUrl: string) {
  const store = new JobStore(db);
  const outcome = await store.submit(
    {
      accountId: project.account_id,
      projectId: project.id,
      request: {},
      seconds: 1,
      workers: 1,
      callbackUrl,
      scenes: [{ id: 'scene_1', frames: 30 }],
    },
    { concurrentJobs: null, monthlySeconds: null, dailySeconds: null },
  );
  assert.ok('job' in outcome);
  return { jobId: outcome.job.id, store };
}

/** The job runs to its end: the events a callback is told, as a node's feed reads them. */
async function runToEnd(store: JobStore, jobId: string, after: number): Promise<JobMessage[]> {
  await store.enterPhase(jobId, 'planning', 0.05);
  await store.enterPhase(jobId, 'rendering', 0.1);
  await store.enterPhase(jobId, 'assembling', 0.9);
  await store.finish(jobId, 'done', { output_key: `outputs/${jobId}/output.mp4` }, {});
  return (await store.events(jobId, after)).map((e) => messageOf(e));
}

/** A node's outbox: polls often and retries after 10 ms, 60 ms, ... */
function node(db: Database, secret: string, options: Partial<WebhookOptions> = {}): WebhookOutbox {
  const outbox = new WebhookOutbox(db, async () => secret, {
    network: { allowPrivateNetworks: true },
    log: pino({ level: 'silent' }),
    retryScale: 0.001,
    pollMs: 5,
    ...options,
  });
  outbox.start();
  return outbox;
}

async function enqueueAll(outbox: WebhookOutbox, messages: JobMessage[], url: string): Promise<void> {
  for (const m of messages) await outbox.enqueue(m, url);
}

async function untilDelivered(outbox: WebhookOutbox, jobId: string, count: number, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const all = await outbox.deliveries(jobId);
    if (all.length === count && all.every((d) => d.status === 'delivered')) return all;
    if (Date.now() > deadline) throw new Error(`not all delivered: ${JSON.stringify(all)}`);
    await sleep(20);
  }
}

const idOf = (jobId: string, m: JobMessage) => `msg_${jobId}_${m.id}`;
const countBy = (receipts: WebhookReceipt[]) =>
  receipts.reduce((n, r) => n.set(r.webhookId, (n.get(r.webhookId) ?? 0) + 1), new Map<string, number>());

/** Answers `status(d)` 30 ms late: long enough for another node's poll to find an unclaimed delivery still due. */
const answerLate = (status: (d: WebhookReceipt) => number) => (d: WebhookReceipt, res: ServerResponse) =>
  void setTimeout(() => res.writeHead(status(d)).end(), 30);

for (const [engine, open] of Object.entries(ENGINES)) {
  test(`${engine}: two nodes enqueue the same events; the receiver gets each once, signed`, async () => {
    const [dbA, dbB] = [await open('once'), await open('once')];
    try {
      const owner = await project(dbA);
      const receiver = await webhookReceiver(
        owner.webhook_secret,
        answerLate(() => 200),
      );
      const { jobId, store } = await submittedJob(dbA, owner, receiver.url);
      const [a, b] = [node(dbA, owner.webhook_secret), node(dbB, owner.webhook_secret)];
      try {
        assert.deepEqual(
          (await a.untold()).map((j) => j.jobId),
          [jobId],
          'a queued job with a callback may have events untold',
        );
        const told = await b.toldUpTo(jobId);
        const [submitted] = await store.events(jobId);
        assert.equal(told, submitted.id, 'nothing told yet: up to the submit event');
        const messages = await runToEnd(store, jobId, told);
        assert.equal(messages.length, 4);

        await Promise.all([enqueueAll(a, messages, receiver.url), enqueueAll(b, messages, receiver.url)]);
        const deliveries = await untilDelivered(b, jobId, messages.length);
        await sleep(300); // a second POST of any event would arrive by now

        assert.deepEqual(
          [...countBy(receiver.deliveries)].sort(),
          messages.map((m) => [idOf(jobId, m), 1]).sort(),
          'each event told once',
        );
        for (const r of receiver.deliveries) {
          assert.equal(r.badSignature, undefined, 'verifies with the project secret');
          const m = messages.find((m) => idOf(jobId, m) === r.webhookId)!;
          assert.deepEqual(r.body, m.body);
        }
        assert.deepEqual(
          deliveries.map((d) => [d.eventId, d.attempts.map((t) => t.statusCode)]),
          messages.map((m) => [m.id, [200]]),
        );
        assert.deepEqual(await a.deliveries(jobId), deliveries, 'both nodes see the same record');
        assert.equal(await a.toldUpTo(jobId), messages.at(-1)!.id);
        assert.deepEqual(await b.untold(), [], 'the finished job was told its end');
      } finally {
        a.stop();
        b.stop();
      }
    } finally {
      await Promise.all([dbA.destroy(), dbB.destroy()]);
    }
  });

  test(`${engine}: a failing receiver: each delivery retried until delivered, each attempt made by one node`, async () => {
    const [dbA, dbB] = [await open('retries'), await open('retries')];
    try {
      const owner = await project(dbA);
      const seen = new Map<string, number>();
      const receiver = await webhookReceiver(
        owner.webhook_secret,
        answerLate((d) => {
          seen.set(d.webhookId, (seen.get(d.webhookId) ?? 0) + 1);
          return seen.get(d.webhookId)! <= 2 ? 500 : 200;
        }),
      );
      const { jobId, store } = await submittedJob(dbA, owner, receiver.url);
      const [a, b] = [node(dbA, owner.webhook_secret), node(dbB, owner.webhook_secret)];
      try {
        const messages = await runToEnd(store, jobId, await a.toldUpTo(jobId));
        await Promise.all([enqueueAll(a, messages, receiver.url), enqueueAll(b, messages, receiver.url)]);
        const deliveries = await untilDelivered(a, jobId, messages.length);
        await sleep(300);

        assert.deepEqual(
          [...countBy(receiver.deliveries)].sort(),
          messages.map((m) => [idOf(jobId, m), 3]).sort(),
          'two failures and the success, no attempt twice',
        );
        for (const d of deliveries)
          assert.deepEqual(
            d.attempts.map((t) => t.statusCode),
            [500, 500, 200],
          );
      } finally {
        a.stop();
        b.stop();
      }
    } finally {
      await Promise.all([dbA.destroy(), dbB.destroy()]);
    }
  });

  test(`${engine}: a node that dies mid-attempt: another attempts the delivery once its claim lapses`, async () => {
    const [dbA, dbB] = [await open('lease'), await open('lease')];
    try {
      // the first POST is never answered (its node dies waiting), the next is
      const owner = await project(dbA);
      const receiver = await webhookReceiver(owner.webhook_secret, (_d, res) => {
        if (receiver.deliveries.length > 1) res.writeHead(200).end();
      });
      const { jobId, store } = await submittedJob(dbA, owner, receiver.url);
      // a 250 ms time limit: A's claim lasts a second
      const a = node(dbA, owner.webhook_secret, { timeoutMs: 250 });
      const [done] = (await runToEnd(store, jobId, await a.toldUpTo(jobId))).slice(-1);
      await a.enqueue(done, receiver.url);
      while (receiver.deliveries.length === 0) await sleep(5);
      a.stop();
      await dbA.destroy();

      const b = node(dbB, owner.webhook_secret);
      try {
        const [delivery] = await untilDelivered(b, jobId, 1);
        const [first, second] = receiver.deliveries;
        assert.equal(receiver.deliveries.length, 2);
        assert.equal(second.webhookId, first.webhookId, 'the same message, which the receiver can dedupe');
        const waited = second.at - first.at;
        assert.ok(waited >= 900 && waited < 5000, `attempted again once the claim lapsed, ${waited} ms later`);
        assert.deepEqual(
          delivery.attempts.map((t) => t.statusCode),
          [200],
          "the dead node's attempt was never recorded",
        );
      } finally {
        b.stop();
      }
    } finally {
      await dbB.destroy();
    }
  });
}
