// Checking a webhook the service sent: Standard Webhooks signatures (webhook-id,
// webhook-timestamp, webhook-signature: HMAC-SHA256 with the project's whsec_ secret),
// over the raw body exactly as received, within five minutes of its timestamp.
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import type { JobEventBody } from './types.ts';

export { WebhookVerificationError };

/** Request headers as fetch (`Headers`) or Node's http module (`req.headers`) give them. */
export type WebhookHeaders = Headers | Record<string, string | string[] | undefined>;

/**
 * The event a webhook carries, once its signature is checked; throws WebhookVerificationError
 * for a missing, wrong or stale signature. `body` is the raw body: parsed and re-serialized
 * JSON would not match the signature.
 */
export function verifyWebhook(secret: string, headers: WebhookHeaders, body: string | Uint8Array): JobEventBody {
  const plain: Record<string, string> = {};
  const entries = headers instanceof Headers ? headers.entries() : Object.entries(headers);
  for (const [name, value] of entries) {
    const first = Array.isArray(value) ? value[0] : value;
    if (first !== undefined) plain[name.toLowerCase()] = first;
  }
  const text = typeof body === 'string' ? body : new TextDecoder().decode(body);
  return new Webhook(secret).verify(text, plain) as JobEventBody;
}
