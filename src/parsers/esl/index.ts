import { RAW_LIMIT, type EventKind, type Evidence, type SecurityEvent } from '../../core/event.js';
import { normalizeIp } from '../../core/ip.js';
import { NO_EVENTS, type ParseContext } from '../types.js';
import { CALL_RAW_FIRST, callEvent } from './calls.js';

/**
 * FreeSWITCH sofia security events read from the event socket (`event plain CUSTOM sofia::register_failure
 * sofia::register_attempt sofia::pre_register`), one decoded event-plain header map at a time.
 *
 * The address is `network-ip`, which sofia fills from the transport source of the packet, never from SIP
 * headers; an event without a valid one yields nothing. Everything else the caller controls (To/From users and
 * hosts, the digest username, the User-Agent) only goes into account/destination/domain/userAgent. Values come
 * URL-encoded, so nothing a caller writes can add or replace a header line.
 *
 * Decisions, kept in line with the freeswitch log parser:
 * - register_failure fires exactly when sofia answers 403 (credentials present, AUTH_FORBIDDEN: wrong password,
 *   unknown user, user ACL, UA filter, max registrations) and is the one failure event. Its evidence is
 *   `verified`: sofia_reg_parse_auth looks the nonce up before anything else, so a 403 follows a challenge round
 *   trip. `to-user` is the account for REGISTER and the dialled number (destination) for INVITE; an event
 *   without `registration-type` is taken as REGISTER.
 * - register_attempt with auth-result FORBIDDEN yields nothing: the same request also fires register_failure,
 *   and counting both would double every failure. STALE yields nothing either (sofia re-challenges, and fires
 *   pre_register for it). SUCCESS and RENEWED (a refresh with valid credentials) yield auth-success with the
 *   digest `username` as account.
 * - Channel events (CHANNEL_CREATE, CHANNEL_ANSWER, CHANNEL_HANGUP_COMPLETE) are calls: see calls.ts.
 * - pre_register is a request without credentials, about to be challenged: a `challenge`, spoofable (one UDP
 *   request). It has no registration type, so its To user cannot be told apart as account or dialled number;
 *   the account is the SIP From user, which in this event sits in the header named `to-user` (sofia swaps the
 *   names in register_attempt and pre_register).
 */

export const ESL_PATTERNS = ['esl-register-failure', 'esl-register-success', 'esl-pre-register'] as const;
type PatternId = (typeof ESL_PATTERNS)[number];

interface Found {
  pattern: PatternId;
  kind: EventKind;
  evidence: Evidence;
  reason: string;
  account?: string | undefined;
  domain?: string | undefined;
  destination?: string | undefined;
}

/** Headers put first in `raw`, so the bounded text keeps what explains the event. */
const RAW_FIRST = [
  'Event-Subclass', 'network-ip', 'network-port', 'registration-type', 'auth-result', 'to-user', 'to-host',
  'from-user', 'from-host', 'username', 'realm', 'user-agent', 'profile-name', 'Event-Date-Timestamp',
];

function text(event: Map<string, string>, name: string): string | undefined {
  const value = event.get(name);
  return value === undefined || value === '' ? undefined : value;
}

function registerFailure(event: Map<string, string>): Found {
  const type = event.get('registration-type') === 'INVITE' ? 'INVITE' : 'REGISTER';
  const user = text(event, 'to-user');
  return {
    pattern: 'esl-register-failure',
    kind: 'auth-failure',
    evidence: 'verified',
    reason: `SIP auth failure (${type}) on sofia profile '${event.get('profile-name') ?? ''}'`,
    // For INVITE the To user is the number being dialled, not an account: the toll-fraud destination.
    [type === 'INVITE' ? 'destination' : 'account']: user,
    domain: text(event, 'to-host'),
  };
}

function registerAttempt(event: Map<string, string>): Found | null {
  const result = event.get('auth-result');
  if (result !== 'SUCCESS' && result !== 'RENEWED') return null;
  return {
    pattern: 'esl-register-success',
    kind: 'auth-success',
    evidence: 'verified',
    reason: `SIP auth ${result.toLowerCase()} on sofia profile '${event.get('profile-name') ?? ''}'`,
    account: text(event, 'username'),
    domain: text(event, 'realm'),
  };
}

function preRegister(event: Map<string, string>): Found {
  return {
    pattern: 'esl-pre-register',
    kind: 'challenge',
    evidence: 'spoofable',
    reason: `SIP auth challenge on sofia profile '${event.get('profile-name') ?? ''}'`,
    account: text(event, 'to-user'),
    domain: text(event, 'to-host'),
  };
}

/** `Event-Date-Timestamp` is microseconds since the epoch. */
function eventTime(event: Map<string, string>, ctx: ParseContext): number {
  const micros = event.get('Event-Date-Timestamp');
  return micros !== undefined && /^\d{1,16}$/.test(micros) ? Math.floor(Number(micros) / 1000) : ctx.referenceTime;
}

function port(event: Map<string, string>): number | undefined {
  const value = event.get('network-port');
  if (value === undefined || !/^\d{1,5}$/.test(value)) return undefined;
  const n = Number(value);
  return n > 0 && n <= 65535 ? n : undefined;
}

/** `Name: value` lines, control characters re-escaped so one header stays one line, cut to RAW_LIMIT. */
export function renderRaw(event: Map<string, string>, first: readonly string[] = RAW_FIRST): string {
  const names = [...first.filter((name) => event.has(name)), ...[...event.keys()].filter((n) => !first.includes(n))];
  let raw = '';
  for (const name of names) {
    // A decoded %0A from a caller's User-Agent must not start a new line wherever raw is shown.
    const value = (event.get(name) ?? '').replace(/[\x00-\x1f\x7f]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0').toUpperCase()}`);
    raw += `${raw === '' ? '' : '\n'}${name}: ${value}`;
    if (raw.length >= RAW_LIMIT) return raw.slice(0, RAW_LIMIT);
  }
  return raw;
}

export function parseEslEvent(event: Map<string, string>, ctx: ParseContext): readonly SecurityEvent[] {
  const call = callEvent(event);
  if (call) return [{ ...call, at: eventTime(event, ctx), raw: renderRaw(event, CALL_RAW_FIRST) }];
  const subclass = event.get('Event-Subclass');
  const found =
    subclass === 'sofia::register_failure' ? registerFailure(event)
      : subclass === 'sofia::register_attempt' ? registerAttempt(event)
        : subclass === 'sofia::pre_register' ? preRegister(event)
          : null;
  if (!found) return NO_EVENTS;
  const ip = normalizeIp(event.get('network-ip') ?? '');
  if (!ip) return NO_EVENTS;
  const { pattern, kind, evidence, reason, account, domain, destination } = found;
  const result: SecurityEvent = { at: eventTime(event, ctx), kind, ip, server: 'freeswitch', evidence, pattern, reason, raw: renderRaw(event) };
  const networkPort = port(event);
  const userAgent = text(event, 'user-agent');
  if (networkPort !== undefined) result.port = networkPort;
  if (account !== undefined) result.account = account;
  if (domain !== undefined) result.domain = domain;
  if (destination !== undefined) result.destination = destination;
  if (userAgent !== undefined) result.userAgent = userAgent;
  return [result];
}
