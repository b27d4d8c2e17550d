import { z } from 'zod';
import { parseDuration } from '../core/duration.js';
import { formatCidr, parseCidr } from '../core/ip.js';
import { EVENT_KINDS } from '../core/event.js';
import { ROLES } from '../store/types.js';

/** Inputs of the API. Every query value arrives as a string; every body is JSON checked here before use. */

const durationText = z.string().refine((text) => {
  try {
    parseDuration(text);
    return true;
  } catch {
    return false;
  }
}, 'expected a duration such as 30m, 1h, 7d');

/** An address or prefix, returned canonical (`2001:db8::/64`, `203.0.113.7`). */
export const addressOrPrefix = z.string().max(64).transform((text, ctx) => {
  try {
    return formatCidr(parseCidr(text.trim()));
  } catch {
    ctx.addIssue({ code: 'custom', message: 'expected an IPv4/IPv6 address or prefix such as 203.0.113.7 or 2001:db8::/64' });
    return z.NEVER;
  }
});

const reason = z.string().trim().min(1, 'a reason is required (it goes into the audit trail)').max(500);

/** Epoch milliseconds, or a duration meaning that long before now (`24h`). Resolved with `resolveTime`. */
const time = z.string().regex(/^(\d{1,15}|\d+(\.\d+)?[smhdw]|\d+ms)$/, 'expected epoch milliseconds or a duration back from now such as 24h');

export function resolveTime(text: string | undefined, now: number): number | undefined {
  if (text === undefined) return undefined;
  return /^\d+$/.test(text) ? Number(text) : now - parseDuration(text);
}

const limit = z.coerce.number().int().min(1).max(1000).default(100);
const bool = z.enum(['true', 'false']).transform((v) => v === 'true');
const name = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/, 'expected 1-64 letters, digits, . _ @ -');

export const decisionListQuery = z.strictObject({
  active: bool.optional(),
  target: addressOrPrefix.optional(),
  account: z.string().min(1).max(128).optional(),
  rule: z.string().min(1).max(64).optional(),
  origin: z.enum(['rule', 'manual', 'feed']).optional(),
  action: z.enum(['ban', 'report']).optional(),
  since: time.optional(),
  until: time.optional(),
  before: z.coerce.number().int().min(1).optional(),
  limit,
});

export const idParams = z.strictObject({ id: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER) });

export const banBody = z.strictObject({
  target: addressOrPrefix,
  duration: durationText.nullable().optional(),
  reason,
});

export const revokeBody = z.strictObject({ reason });

export const bulkUnbanBody = z
  .strictObject({ target: addressOrPrefix.optional(), rule: z.string().min(1).max(64).optional(), reason })
  .refine((b) => b.target !== undefined || b.rule !== undefined, { message: 'give a target (address or prefix), a rule, or both', path: ['target'] });

export const eventQuery = z.strictObject({
  ip: addressOrPrefix.optional(),
  cidr: addressOrPrefix.optional(),
  account: z.string().min(1).max(128).optional(),
  kind: z.union([z.enum(EVENT_KINDS), z.array(z.enum(EVENT_KINDS))]).optional(),
  since: time.optional(),
  until: time.optional(),
  limit,
});

export const statsQuery = z.strictObject({
  since: durationText.default('24h'),
  bucket: durationText.optional(),
});

export const incidentQuery = z.strictObject({ account: z.string().min(1).max(128).optional(), since: time.optional(), limit });
export const auditQuery = z.strictObject({ target: z.string().min(1).max(128).optional(), since: time.optional(), limit });
export const explainParams = z.strictObject({ target: z.string().min(1).max(128) });
export const sessionBody = z.strictObject({ token: z.string().min(1).max(200) });
export const tokenBody = z.strictObject({ name, role: z.enum(ROLES) });
export const emptyQuery = z.strictObject({});
