// Webhook outbox: events worth telling a job's callbackUrl are written as deliveries,
// then POSTed in the background, signed per Standard Webhooks, retried with backoff for
// more than a day. Every attempt is recorded. Nothing here ever waits on a render.
// Several nodes may share the outbox (distributed mode): an event is recorded once however
// many nodes enqueue it, and each due delivery is claimed by one node for a lease before it
// is attempted; a node that dies mid-attempt leaves its claim to lapse, and another node
// then attempts it again (at least once: receivers dedupe by webhook-id).
import type { Logger } from 'pino';
import { Webhook } from 'standardwebhooks';
import { postJson, type NetworkPolicy } from '../render/index.ts';
import { type Database, kindOf, type WebhookDelivery } from './database.ts';
import { clockNow, now } from './clock.ts';
import { ACTIVE, type DeliveryStatus, isTerminal, TERMINAL } from './job-state.ts';
import type { JobMessage } from './job-view.ts';

/** Seconds after each failed attempt: the last retry is more than a day after the first try. */
export const RETRY_SCHEDULE = [10, 60, 300, 1800, 7200, 21600, 43200, 43200];
/** Progress is told to a callback at most this often; phase changes and endings always. */
const WEBHOOK_PROGRESS_EVERY_MS = 2000;
/** A POST's time limit unless told otherwise. */
const POST_TIMEOUT_MS = 15_000;
/** Deliveries claimed at once by a node. */
const CLAIM_BATCH = 50;

/** A delivery as its job's owner sees it, with every attempt. */
export interface Delivery {
  id: number;
  /** The id of the event it tells, as in the progress stream. */
  eventId: number;
  url: string;
  status: DeliveryStatus;
  /** The JSON body sent. */
  payload: unknown;
  attempts: Array<{ at: string; statusCode: number | null; error: string | null; durationMs: number }>;
  nextAttemptAt: string | null;
  deliveredAt: string | null;
}

export interface WebhookOptions {
  network: NetworkPolicy;
  /** Each attempt's outcome, and an outbox that cannot be read. */
  log: Logger;
  /** A POST's time limit; a claim lasts four of them, so an attempt ends (and is recorded) well within its lease. */
  timeoutMs?: number;
  /** Multiplies every retry delay (tests use a tiny one). */
  retryScale?: number;
  pollMs?: number;
}

export class WebhookOutbox {
  private lastProgress = new Map<string, number>();
  private timer?: NodeJS.Timeout;
  private stopped = false;
  /** A claim is running; `kicked`: something was enqueued meanwhile, so claim again at once after it. */
  private claiming = false;
  private kicked = false;

  constructor(
    private readonly db: Database,
    private readonly secretOf: (jobId: string) => Promise<string | undefined>,
    private readonly options: WebhookOptions,
  ) {}

  /**
   * Records a delivery of `message` to `callbackUrl` if the event is due one (progress is
   * throttled, per process); an event recorded already (by another node's feed) is left as it is.
   */
  async enqueue(message: JobMessage, callbackUrl: string): Promise<void> {
    if (message.type === 'progress') {
      const last = this.lastProgress.get(message.jobId) ?? 0;
      if (Date.now() - last < WEBHOOK_PROGRESS_EVERY_MS) return;
      this.lastProgress.set(message.jobId, Date.now());
    }
    if (isTerminal(message.type)) this.lastProgress.delete(message.jobId);
    await this.db
      .insertInto('webhook_deliveries')
      .values({
        job_id: message.jobId,
        event_id: message.id,
        url: callbackUrl,
        payload: JSON.stringify(message.body),
        status: 'pending',
        attempts: 0,
        next_attempt_at: now(),
        last_error: null,
        created_at: now(),
        delivered_at: null,
      })
      .onConflict((oc) => oc.columns(['job_id', 'event_id']).doNothing())
      .execute();
    this.kick();
  }

  /**
   * Jobs with a callback that may have events not yet told: every unfinished one, and every
   * finished one whose final event has no delivery (a process killed between writing a job's
   * end and its delivery).
   */
  async untold(): Promise<Array<{ jobId: string; callbackUrl: string }>> {
    const rows = await this.db
      .selectFrom('jobs as j')
      .select(['j.id', 'j.callback_url'])
      .where('j.callback_url', 'is not', null)
      .where((eb) =>
        eb.or([
          eb('j.status', 'in', ACTIVE),
          eb.exists(
            eb
              .selectFrom('job_events as e')
              .select('e.id')
              .whereRef('e.job_id', '=', 'j.id')
              .where('e.type', 'in', [...TERMINAL])
              .where((inner) =>
                inner.not(
                  inner.exists(
                    inner.selectFrom('webhook_deliveries as d').select('d.id').whereRef('d.event_id', '=', 'e.id'),
                  ),
                ),
              ),
          ),
        ]),
      )
      .orderBy('j.created_at')
      .execute();
    return rows.map((r) => ({ jobId: r.id, callbackUrl: r.callback_url! }));
  }

  /**
   * The event a job's webhooks were told up to: its latest with a delivery, else its first
   * (the submit's, which a callback is not told: it hears from the job once it starts).
   */
  async toldUpTo(jobId: string): Promise<number> {
    const delivered = await this.db
      .selectFrom('webhook_deliveries')
      .select((eb) => eb.fn.max<number>('event_id').as('id'))
      .where('job_id', '=', jobId)
      .executeTakeFirst();
    if (delivered?.id != null) return Number(delivered.id);
    const first = await this.db
      .selectFrom('job_events')
      .select((eb) => eb.fn.min<number>('id').as('id'))
      .where('job_id', '=', jobId)
      .executeTakeFirst();
    return Number(first?.id ?? 0);
  }

  start(): void {
    this.stopped = false;
    this.kick();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** A job's deliveries, oldest first, each with every attempt (GET /v1/jobs/{jobId}/webhooks). */
  async deliveries(jobId: string): Promise<Delivery[]> {
    const rows = await this.db
      .selectFrom('webhook_deliveries')
      .selectAll()
      .where('job_id', '=', jobId)
      .orderBy('id')
      .execute();
    const attempts = rows.length
      ? await this.db
          .selectFrom('webhook_attempts')
          .selectAll()
          .where(
            'delivery_id',
            'in',
            rows.map((r) => r.id),
          )
          .orderBy('id')
          .execute()
      : [];
    return rows.map((d) => ({
      id: d.id,
      eventId: d.event_id,
      url: d.url,
      status: d.status,
      payload: JSON.parse(d.payload),
      attempts: attempts
        .filter((a) => a.delivery_id === d.id)
        .map((a) => ({ at: a.attempted_at, statusCode: a.status_code, error: a.error, durationMs: a.duration_ms })),
      nextAttemptAt: d.status === 'pending' ? d.next_attempt_at : null,
      deliveredAt: d.delivered_at,
    }));
  }

  private kick(): void {
    if (this.stopped) return;
    // one claim at a time: the one running sets the next timer
    if (this.claiming) {
      this.kicked = true;
      return;
    }
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.deliverDue(), 0);
  }

  private async deliverDue(): Promise<void> {
    if (this.stopped) return;
    this.claiming = true;
    this.kicked = false;
    try {
      // each delivery on its own: a slow receiver holds up only itself
      for (const d of await this.claimDue()) void this.attempt(d);
    } catch (err) {
      this.options.log.error({ error: (err as Error).message }, 'webhooks: cannot read due deliveries');
    } finally {
      this.claiming = false;
      if (!this.stopped)
        this.timer = setTimeout(() => void this.deliverDue(), this.kicked ? 0 : (this.options.pollMs ?? 1000));
    }
  }

  /**
   * Due deliveries, each made this node's until its lease ends: in one statement their next
   * attempt is moved to the lease's end, so no other node finds them due meanwhile. Postgres
   * skips rows another node is claiming right now; SQLite has one writer at a time.
   */
  private async claimDue(): Promise<WebhookDelivery[]> {
    const lease = new Date(clockNow().getTime() + 4 * this.timeoutMs()).toISOString();
    const due = this.db
      .selectFrom('webhook_deliveries')
      .select('id')
      .where('status', '=', 'pending')
      .where('next_attempt_at', '<=', now())
      .orderBy('id')
      .limit(CLAIM_BATCH);
    const claimed = await this.db
      .updateTable('webhook_deliveries')
      .set({ next_attempt_at: lease })
      .where('id', 'in', kindOf(this.db) === 'postgres' ? due.forUpdate().skipLocked() : due)
      .returningAll()
      .execute();
    return claimed.sort((a, b) => a.id - b.id);
  }

  private timeoutMs(): number {
    return this.options.timeoutMs ?? POST_TIMEOUT_MS;
  }

  /** Attempts a delivery this node claimed (its next_attempt_at is the claim's lease). */
  private async attempt(delivery: WebhookDelivery): Promise<void> {
    try {
      const secret = await this.secretOf(delivery.job_id);
      const messageId = `msg_${delivery.job_id}_${delivery.event_id}`;
      // the signature's time is this machine's (receivers compare it with theirs); the stored one the database's
      const sentAt = new Date();
      const attemptedAt = now();
      const headers: Record<string, string> = secret
        ? {
            'webhook-id': messageId,
            'webhook-timestamp': String(Math.floor(sentAt.getTime() / 1000)),
            'webhook-signature': new Webhook(secret).sign(messageId, sentAt, delivery.payload),
          }
        : {};
      const result = await postJson(
        delivery.url,
        delivery.payload,
        { ...headers, 'user-agent': 'Reelsmith-Webhooks/1' },
        this.options.network,
        this.timeoutMs(),
      );
      const ok = result.status !== undefined && result.status >= 200 && result.status < 300;
      const attempts = delivery.attempts + 1;
      const error = ok ? null : (result.error ?? `HTTP ${result.status}`);
      await this.db
        .insertInto('webhook_attempts')
        .values({
          delivery_id: delivery.id,
          attempted_at: attemptedAt,
          status_code: result.status ?? null,
          error,
          duration_ms: result.ms,
        })
        .execute();
      const retryIn = RETRY_SCHEDULE[attempts - 1];
      await this.db
        .updateTable('webhook_deliveries')
        .set(
          ok
            ? { status: 'delivered', attempts, delivered_at: now(), last_error: null }
            : retryIn === undefined
              ? { status: 'failed', attempts, last_error: error }
              : {
                  attempts,
                  last_error: error,
                  next_attempt_at: new Date(
                    clockNow().getTime() + retryIn * 1000 * (this.options.retryScale ?? 1),
                  ).toISOString(),
                },
        )
        .where('id', '=', delivery.id)
        // only while the claim is still ours: once it lapsed (a stalled node), another node may hold the delivery
        .where('next_attempt_at', '=', delivery.next_attempt_at)
        .execute();
      const about = {
        jobId: delivery.job_id,
        eventId: delivery.event_id,
        to: new URL(delivery.url).origin,
        attempt: attempts,
      };
      if (ok) this.options.log.info({ ...about, status: result.status }, 'webhook delivered');
      else if (retryIn === undefined) this.options.log.warn({ ...about, error }, 'webhook failed: every retry spent');
      else this.options.log.info({ ...about, error, retryInSeconds: retryIn }, 'webhook attempt failed');
      if (!ok && retryIn !== undefined)
        setTimeout(() => this.kick(), retryIn * 1000 * (this.options.retryScale ?? 1) + 5).unref();
    } catch {
      // the store closed under an attempt (shutdown): the delivery stays pending, due again when its claim lapses
    }
  }
}
