// `import ... from 'reelsmith/client'`: a typed client of the render API (HTTP, global fetch
// only) and webhook signature checking. Its types come from the server's schemas.
export {
  createClient,
  type ReelsmithClient,
  type ClientOptions,
  type RequestOptions,
  type SubmitOptions,
  type ListOptions,
  type ProgressOptions,
} from './client.ts';
export { ReelsmithApiError, UNEXPECTED_RESPONSE } from './api-error.ts';
export { verifyWebhook, WebhookVerificationError, type WebhookHeaders } from './webhooks.ts';
export type * from './types.ts';
