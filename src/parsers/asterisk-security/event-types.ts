import type { EventKind, Transport } from '../../core/event.js';
import { normalizeIp } from '../../core/ip.js';
import { parseTransport } from './emit.js';

/**
 * Asterisk security event types, shared by the security log (`SecurityEvent="..."`) and AMI (`Event: ...`),
 * which carry the same events with the same fields.
 */
export interface SecurityEventType {
  /** Pattern id without its source prefix: `failed-acl` becomes `security-failed-acl` or `ami-failed-acl`. */
  slug: string;
  kind: EventKind;
  /** The event itself proves a digest round trip against the server's nonce. */
  roundTrip: boolean;
}

/**
 * MemoryLimit and LoadAverageLimit are absent on purpose: they say the server was short of resources when the
 * request arrived, not that its source did anything wrong, so they are no evidence against that source.
 */
export const SECURITY_EVENT_TYPES: ReadonlyMap<string, SecurityEventType> = new Map([
  ['FailedACL', { slug: 'failed-acl', kind: 'acl-denied', roundTrip: false }],
  ['InvalidAccountID', { slug: 'invalid-account-id', kind: 'unknown-account', roundTrip: false }],
  // A session or call limit fired for this source or account: the closest kind is a limiter firing.
  ['SessionLimit', { slug: 'session-limit', kind: 'flood', roundTrip: false }],
  ['RequestNotSupported', { slug: 'request-not-supported', kind: 'acl-denied', roundTrip: false }],
  ['RequestNotAllowed', { slug: 'request-not-allowed', kind: 'acl-denied', roundTrip: false }],
  ['AuthMethodNotAllowed', { slug: 'auth-method-not-allowed', kind: 'acl-denied', roundTrip: false }],
  // A malformed request (AMI action without a name, ...) is rejected by policy like an ACL would reject it.
  ['RequestBadFormat', { slug: 'request-bad-format', kind: 'acl-denied', roundTrip: false }],
  ['SuccessfulAuth', { slug: 'successful-auth', kind: 'auth-success', roundTrip: false }],
  ['UnexpectedAddress', { slug: 'unexpected-address', kind: 'acl-denied', roundTrip: false }],
  ['ChallengeResponseFailed', { slug: 'challenge-response-failed', kind: 'auth-failure', roundTrip: true }],
  ['InvalidPassword', { slug: 'invalid-password', kind: 'auth-failure', roundTrip: true }],
  ['ChallengeSent', { slug: 'challenge-sent', kind: 'challenge', roundTrip: false }],
  ['InvalidTransport', { slug: 'invalid-transport', kind: 'acl-denied', roundTrip: false }],
] as [string, SecurityEventType][]);

export function securityPatterns(prefix: string): string[] {
  return [...SECURITY_EVENT_TYPES.values()].map((type) => `${prefix}-${type.slug}`);
}

export interface SecurityAddress {
  ip: string;
  port: number;
  transport?: Transport;
}

/** `IPV4/UDP/1.2.3.4/5060`, `IPV6/TLS/2001:db8::1/5061`, or without the transport: `IPV4/1.2.3.4/5060`. */
export function parseSecurityAddress(value: string): SecurityAddress | null {
  const parts = value.split('/');
  if (parts.length !== 3 && parts.length !== 4) return null;
  if (parts[0] !== 'IPV4' && parts[0] !== 'IPV6') return null;
  const transport = parts.length === 4 ? parseTransport(parts[1] as string) : undefined;
  if (parts.length === 4 && transport === undefined) return null;
  const ip = normalizeIp(parts[parts.length - 2] as string);
  const portText = parts[parts.length - 1] as string;
  if (!ip || !/^\d{1,5}$/.test(portText) || Number(portText) > 65535) return null;
  return transport === undefined ? { ip, port: Number(portText) } : { ip, port: Number(portText), transport };
}
