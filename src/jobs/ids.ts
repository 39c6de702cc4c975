// Identifiers as users see them: a prefix that says what it is, then random hex.
import { randomBytes } from 'node:crypto';

export const newJobId = () => `job_${randomBytes(6).toString('hex')}`;
export const newProjectId = () => `proj_${randomBytes(6).toString('hex')}`;
export const newAccountId = () => `acct_${randomBytes(6).toString('hex')}`;
export const newKeyId = () => `key_${randomBytes(6).toString('hex')}`;
/** 192 random bits after the environment prefix. */
export const newApiKey = (environment: 'prod' | 'test') => `vs_${environment}_${randomBytes(24).toString('base64url')}`;
export const newWebhookSecret = () => `whsec_${randomBytes(24).toString('base64')}`;
