// POSTing JSON to a URL a client gave us (webhooks): through the SSRF guard, with a
// time limit, never following redirects.
import { request } from 'undici';
import type { NetworkPolicy } from './address-guard.ts';
import { describe } from './fetch-source.ts';
import { guardedAgent, urlRefusal } from './guarded-agent.ts';

export interface PostResult {
  /** HTTP status, or undefined when no response came. */
  status?: number;
  error?: string;
  ms: number;
}

export async function postJson(
  url: string,
  body: string,
  headers: Record<string, string>,
  policy: NetworkPolicy,
  timeoutMs: number,
): Promise<PostResult> {
  const started = performance.now();
  const ms = () => Math.round(performance.now() - started);
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return { error: 'not a valid URL', ms: 0 };
  }
  const dispatcher = guardedAgent(policy);
  try {
    const refusal = urlRefusal(target, policy);
    if (refusal) return { error: refusal, ms: 0 };
    const res = await request(target, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', ...headers },
      dispatcher,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      signal: AbortSignal.timeout(timeoutMs),
    });
    await res.body.dump().catch(() => {});
    return { status: res.statusCode, ms: ms() };
  } catch (err) {
    return { error: describe(err as Error), ms: ms() };
  } finally {
    dispatcher.close().catch(() => {});
  }
}
