import type { EventKind, SecurityEvent, Transport } from '../../core/event.js';
import { normalizeIp } from '../../core/ip.js';
import type { TimeContext } from '../../core/time.js';
import { parseTimestamp } from '../../core/time.js';
import { NO_EVENTS } from '../types.js';
import { evidenceFor, makeEvent, makeTampered, parseTransport } from './emit.js';

/**
 * The body of a `res_security_log` line (reference §1.4):
 *
 *   SecurityEvent="InvalidPassword",EventTV="...",Severity="Error",Service="SIP",EventVersion="2",
 *   AccountID="...",SessionID="...",LocalAddress="IPV4/UDP/a/5060",RemoteAddress="IPV4/UDP/b/5084",...
 *
 * Values are written unescaped, and AccountID and SessionID (and Response, ReceivedChallenge, ReceivedHash,
 * RequestType, RequestParams after the address) come from the client. The five head fields are written by the
 * server, so they are matched at the start of the message. The server writes exactly one `RemoteAddress="`;
 * a second one can only come from a client field, and then no position is trusted (the line is tampered).
 */

interface TypeRule {
  pattern: string;
  kind: EventKind;
  /** The event itself proves a digest round trip against the server's nonce. */
  roundTrip: boolean;
}

/**
 * MemoryLimit and LoadAverageLimit are absent on purpose: they say the server was short of resources when the
 * request arrived, not that its source did anything wrong, so they are no evidence against that source.
 */
const TYPES = new Map<string, TypeRule>([
  ['FailedACL', { pattern: 'security-failed-acl', kind: 'acl-denied', roundTrip: false }],
  ['InvalidAccountID', { pattern: 'security-invalid-account-id', kind: 'unknown-account', roundTrip: false }],
  // A session or call limit fired for this source or account: the closest kind is a limiter firing.
  ['SessionLimit', { pattern: 'security-session-limit', kind: 'flood', roundTrip: false }],
  ['RequestNotSupported', { pattern: 'security-request-not-supported', kind: 'acl-denied', roundTrip: false }],
  ['RequestNotAllowed', { pattern: 'security-request-not-allowed', kind: 'acl-denied', roundTrip: false }],
  ['AuthMethodNotAllowed', { pattern: 'security-auth-method-not-allowed', kind: 'acl-denied', roundTrip: false }],
  // A malformed request (AMI action without a name, ...) is rejected by policy like an ACL would reject it.
  ['RequestBadFormat', { pattern: 'security-request-bad-format', kind: 'acl-denied', roundTrip: false }],
  ['SuccessfulAuth', { pattern: 'security-successful-auth', kind: 'auth-success', roundTrip: false }],
  ['UnexpectedAddress', { pattern: 'security-unexpected-address', kind: 'acl-denied', roundTrip: false }],
  ['ChallengeResponseFailed', { pattern: 'security-challenge-response-failed', kind: 'auth-failure', roundTrip: true }],
  ['InvalidPassword', { pattern: 'security-invalid-password', kind: 'auth-failure', roundTrip: true }],
  ['ChallengeSent', { pattern: 'security-challenge-sent', kind: 'challenge', roundTrip: false }],
  ['InvalidTransport', { pattern: 'security-invalid-transport', kind: 'acl-denied', roundTrip: false }],
]);

export const SECURITY_PATTERNS: readonly string[] = [...TYPES.values()].map((rule) => rule.pattern);

const HEAD = /SecurityEvent="(\w+)",EventTV="([^"]*)",Severity="\w+",Service="(\w+)",EventVersion="\d+"/y;
const REMOTE = 'RemoteAddress="';
const CHALLENGE = ',Challenge="';

interface Address {
  ip: string;
  port: number;
  transport?: Transport;
}

/** `IPV4/UDP/1.2.3.4/5060`, `IPV6/TLS/2001:db8::1/5061`, or without the transport: `IPV4/1.2.3.4/5060`. */
function parseAddress(value: string): Address | null {
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

/** The value of `key` when it starts exactly at `pos` (`,Key="value"`), else null. */
function valueAt(line: string, pos: number, key: string): string | null {
  if (!line.startsWith(key, pos)) return null;
  const start = pos + key.length;
  const end = line.indexOf('"', start);
  return end < 0 ? null : line.slice(start, end);
}

/** The value of the first `key` at or after `from`; only for keys that no client field precedes. */
function valueAfter(line: string, from: number, key: string): string | null {
  const pos = line.indexOf(key, from);
  return pos < 0 ? null : valueAt(line, pos, key);
}

/** Every RemoteAddress value of a tampered line, for the candidates list. */
function remoteValues(line: string, from: number): string {
  const values: string[] = [];
  for (let pos = line.indexOf(REMOTE, from); pos >= 0 && values.length < 16; pos = line.indexOf(REMOTE, pos + 1)) {
    const end = line.indexOf('"', pos + REMOTE.length);
    values.push(line.slice(pos + REMOTE.length, end < 0 ? undefined : end));
  }
  return values.join(' ');
}

/**
 * Events of the security-event message starting at `start` in `line`, or an empty array. `lineAt` is the
 * line's own time, used when EventTV is unreadable (EventTV carries its zone offset, so it wins).
 */
export function parseSecurityEvent(
  line: string, start: number, lineAt: number, ctx: TimeContext,
): readonly SecurityEvent[] {
  HEAD.lastIndex = start;
  const head = HEAD.exec(line);
  if (!head) return NO_EVENTS;
  const rule = TYPES.get(head[1] as string);
  if (!rule) return NO_EVENTS;
  const at = parseTimestamp(head[2] as string, ctx) ?? lineAt;
  const remote = line.indexOf(REMOTE, HEAD.lastIndex);
  if (remote < 0) return NO_EVENTS;
  if (line.indexOf(REMOTE, remote + 1) >= 0) {
    return [makeTampered(at, line, rule.pattern, remoteValues(line, start), 'more than one RemoteAddress')];
  }
  const valueEnd = line.indexOf('"', remote + REMOTE.length);
  if (valueEnd < 0) return NO_EVENTS;
  const address = parseAddress(line.slice(remote + REMOTE.length, valueEnd));
  if (!address) return NO_EVENTS;
  const service = head[3] as string;
  const afterRemote = valueEnd + 1;
  const transport = address.transport ?? (service === 'AMI' ? 'tcp' : undefined);
  let kind = rule.kind;
  let roundTrip = rule.roundTrip;
  let reason = head[1] as string;
  switch (rule.pattern) {
    case 'security-failed-acl': {
      // Module and ACLName follow the address and are server-written, so their first occurrence is genuine.
      const acl = valueAfter(line, afterRemote, ',ACLName="');
      if (acl) reason = `${reason}: ${acl}`;
      if (acl === 'no_extension_match') kind = 'dialplan-miss';
      break;
    }
    case 'security-request-not-supported':
      if (valueAt(line, afterRemote, ',RequestType="') === 'registrar_requested_aor_not_found') kind = 'unknown-account';
      break;
    case 'security-successful-auth':
      roundTrip = valueAt(line, afterRemote, ',UsingPassword="') === '1';
      break;
    case 'security-invalid-password': {
      // chan_sip reports the nonce it issued (Challenge) and the one the request used (ReceivedChallenge).
      // A request with a nonce the server never sent there proves no round trip: anyone can forge it.
      const pos = line.indexOf(CHALLENGE, afterRemote);
      const challenge = pos < 0 ? null : valueAt(line, pos, CHALLENGE);
      if (challenge !== null) {
        const received = valueAt(line, pos + CHALLENGE.length + challenge.length + 1, ',ReceivedChallenge="');
        if (received !== null && received !== challenge) roundTrip = false;
      }
      break;
    }
  }
  return [
    makeEvent(at, line, {
      kind,
      pattern: rule.pattern,
      evidence: evidenceFor(transport, roundTrip),
      reason,
      ip: address.ip,
      port: address.port,
      transport,
      account: accountOf(line, HEAD.lastIndex, afterRemote),
      callId: service === 'PJSIP' ? sessionOf(line, HEAD.lastIndex, remote) : undefined,
    }),
  ];
}

/**
 * AccountID directly follows the head (RequestBadFormat puts it after the address). `<unknown>` marks PJSIP's
 * artificial endpoint; keeping it would merge every stranger into one fake account, so it is dropped.
 */
function accountOf(line: string, headEnd: number, afterRemote: number): string | undefined {
  let account: string | null;
  if (line.startsWith(',AccountID="', headEnd)) {
    const start = headEnd + 12;
    const end = line.indexOf('",SessionID="', start);
    account = end < 0 ? null : line.slice(start, end);
  } else {
    account = valueAfter(line, afterRemote, ',AccountID="');
  }
  return account && account !== '<unknown>' ? account : undefined;
}

/** PJSIP's SessionID is the Call-ID: from `SessionID="` to the LocalAddress that precedes RemoteAddress. */
function sessionOf(line: string, headEnd: number, remote: number): string | undefined {
  const start = line.indexOf(',SessionID="', headEnd);
  const end = line.lastIndexOf('",LocalAddress="', remote);
  return start >= 0 && end >= start + 12 ? line.slice(start + 12, end) : undefined;
}
