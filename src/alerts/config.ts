import { z } from 'zod';
import { parseDuration } from '../core/duration.js';
import { ALERT_KINDS } from './types.js';

/**
 * The `alerts:` block. Its own small duration helper, because importing the one in config/schema.ts would be
 * circular (schema.ts imports this file). Secrets (the SMTP password, webhook headers) come from `${ENV}`
 * substitution and are never logged: channels are named by index and host only.
 */

const DURATION_TEXT = /^\d+(?:\.\d+)?(?:ms|s|m|h|d|w)$/;
const durationText = () => z.string().regex(DURATION_TEXT, 'expected a duration such as 30s, 5m, 1h').transform(parseDuration);
const duration = (fallback: string) => durationText().prefault(fallback);

const httpUrl = z.string().refine((text) => {
  try {
    const url = new URL(text);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}, 'expected an http:// or https:// URL');

// Loose on purpose: the SMTP server is the judge of an address; this only catches typos such as a missing @.
const emailAddress = z.string().regex(/^[^\s@<>,;]+@[^\s@<>,;]+\.[^\s@<>,;]+$/, 'expected an email address such as ops@example.net');

// A header value with CR or LF could smuggle further headers into the request.
const headerValue = z.string().regex(/^[^\r\n]*$/, 'expected a header value without line breaks');
const headerName = z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'expected an HTTP header name');

const smtp = z
  .strictObject({
    host: z.string().min(1).describe('SMTP server name or address'),
    port: z.number().int().min(1).max(65535).optional().describe('default: 465 when secure, else 25'),
    secure: z.boolean().default(false).describe('TLS from the first byte (SMTPS, usually port 465)'),
    starttls: z
      .enum(['auto', 'always', 'never'])
      .default('auto')
      .describe('auto: upgrade when the server offers STARTTLS; always: refuse to send without it; never: plain text'),
    user: z.string().min(1).optional().describe('login name, when the server wants one'),
    password: z.string().optional().describe('login password; write ${SMTP_PASSWORD} and keep it in the environment'),
    rejectUnauthorized: z.boolean().default(true).describe('refuse a server certificate that does not verify'),
  })
  .refine((s) => s.password === undefined || s.user !== undefined, { message: 'a password needs a user', path: ['user'] })
  .transform((s) => ({ ...s, port: s.port ?? (s.secure ? 465 : 25) }));

const email = z
  .strictObject({
    smtp,
    from: emailAddress.describe('sender address'),
    to: z.array(emailAddress).min(1).describe('recipients'),
  })
  .describe('alerts by email through an SMTP server');

const webhook = z.strictObject({
  url: httpUrl.describe('where to POST; Slack and Teams webhook URLs are secrets and are never logged'),
  format: z
    .enum(['json', 'slack', 'teams'])
    .default('json')
    .describe('json: the alert object; slack: {text, blocks}; teams: an Adaptive Card message'),
  headers: z.record(headerName, headerValue).default({}).describe('extra request headers, e.g. Authorization: Bearer ${HOOK_TOKEN}'),
});

const kindLimit = z.strictObject({
  immediate: z.number().int().min(0).max(1000).optional(),
  window: durationText().optional(),
});

export const alertsConfigSchema = z
  .strictObject({
    consoleUrl: httpUrl
      .transform((url) => url.replace(/\/+$/, ''))
      .optional()
      .describe('the web console as operators reach it; alerts link to <consoleUrl>/#/explain/<target>'),
    email: email.optional(),
    webhooks: z.array(webhook).default([]).describe('HTTP receivers: generic JSON, Slack or Teams incoming webhooks'),
    kinds: z.array(z.enum(ALERT_KINDS)).min(1).default([...ALERT_KINDS]).describe('which kinds of alert are sent; default: all'),
    rateLimit: z
      .strictObject({
        immediate: z.number().int().min(0).max(1000).default(3).describe('alerts of one kind sent at once in a window'),
        window: duration('10m').describe('the rest of the window is held and goes out as one digest when it ends'),
        perKind: z.partialRecord(z.enum(ALERT_KINDS), kindLimit).default({}).describe('other limits for some kinds'),
      })
      .prefault({})
      .describe('per kind: a flood of bans produces a few mails and one digest per window, not ten thousand'),
    delivery: z
      .strictObject({
        retries: z.number().int().min(0).max(10).default(3).describe('further attempts after a failed delivery'),
        backoff: duration('2s').describe('wait before the first retry; doubled for each further one'),
        timeout: duration('10s').describe('give up on one SMTP or HTTP attempt after this long'),
      })
      .prefault({}),
  })
  .refine((a) => a.email !== undefined || a.webhooks.length > 0, { message: 'alerts need email or at least one webhook' })
  .describe('email and webhook alerts');

export type AlertsConfig = z.output<typeof alertsConfigSchema>;
export type WebhookConfig = AlertsConfig['webhooks'][number];
export type EmailConfig = NonNullable<AlertsConfig['email']>;
