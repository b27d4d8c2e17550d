import type { EventKind, SecurityEvent, Transport } from '../../core/event.js';
import { normalizeIp } from '../../core/ip.js';
import { parseTimestamp } from '../../core/time.js';
import { evidenceFor, makeEvent, makeTampered, parseTransport } from '../asterisk-security/emit.js';
import type { AmiMessage } from '../../sources/ami/decoder.js';
import { formatAmiMessage } from '../../sources/ami/decoder.js';
import type { ParseContext } from '../types.js';
import { NO_EVENTS } from '../types.js';

/**
 * Asterisk security events read from AMI (reference §1.5): `Event: <SecurityEventName>` with the IEs of the
 * security log (§1.4) as `Key: value` lines. Each field is its own line, so a client-written value (AccountID,
 * SessionID, Response) cannot pose as RemoteAddress the way it can in the one-line log form. A frame with two
 * RemoteAddress fields is still possible from a broken relay or a hostile peer speaking AMI, and no field of
 * it is trusted (the event is tampered).
 */

interface TypeRule {
  pattern: string;
  kind: EventKind;
  /** The event itself proves a digest round trip against the server's nonce. */
  roundTrip: boolean;
}

/**
 * The kinds and round-trip rules of parsers/asterisk-security/security-event.ts, which keeps its table private;
 * ami.test.ts runs both parsers on the same events so the two cannot drift apart. MemoryLimit and
 * LoadAverageLimit are absent for the same reason as there: server load is no evidence against a source.
 */
const TYPES = new Map<string, TypeRule>([
  ['FailedACL', { pattern: 'ami-failed-acl', kind: 'acl-denied', roundTrip: false }],
  ['InvalidAccountID', { pattern: 'ami-invalid-account-id', kind: 'unknown-account', roundTrip: false }],
  ['SessionLimit', { pattern: 'ami-session-limit', kind: 'flood', roundTrip: false }],
  ['RequestNotSupported', { pattern: 'ami-request-not-supported', kind: 'acl-denied', roundTrip: false }],
  ['RequestNotAllowed', { pattern: 'ami-request-not-allowed', kind: 'acl-denied', roundTrip: false }],
  ['AuthMethodNotAllowed', { pattern: 'ami-auth-method-not-allowed', kind: 'acl-denied', roundTrip: false }],
  ['RequestBadFormat', { pattern: 'ami-request-bad-format', kind: 'acl-denied', roundTrip: false }],
  ['SuccessfulAuth', { pattern: 'ami-successful-auth', kind: 'auth-success', roundTrip: false }],
  ['UnexpectedAddress', { pattern: 'ami-unexpected-address', kind: 'acl-denied', roundTrip: false }],
  ['ChallengeResponseFailed', { pattern: 'ami-challenge-response-failed', kind: 'auth-failure', roundTrip: true }],
  ['InvalidPassword', { pattern: 'ami-invalid-password', kind: 'auth-failure', roundTrip: true }],
  ['ChallengeSent', { pattern: 'ami-challenge-sent', kind: 'challenge', roundTrip: false }],
  ['InvalidTransport', { pattern: 'ami-invalid-transport', kind: 'acl-denied', roundTrip: false }],
]);

export const AMI_PATTERNS: readonly string[] = [...TYPES.values()].map((rule) => rule.pattern);

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

function valuesOf(message: AmiMessage, key: string): string[] {
  const wanted = key.toLowerCase();
  return message.fields.filter(([name]) => name.toLowerCase() === wanted).map(([, value]) => value);
}

/**
 * Events of one AMI message: one for a security event with a readable RemoteAddress, a tampered one for a
 * frame with several, none for anything else (banner, responses, Cdr, FullyBooted, ...). Pure; never throws.
 */
export function parseAmiEvent(message: AmiMessage, ctx: ParseContext): readonly SecurityEvent[] {
  if (message.kind !== 'message') return NO_EVENTS;
  const name = message.get('Event');
  const rule = name === undefined ? undefined : TYPES.get(name);
  if (!name || !rule) return NO_EVENTS;
  const remotes = valuesOf(message, 'RemoteAddress');
  if (remotes.length === 0) return NO_EVENTS;
  const eventTv = message.get('EventTV');
  const at = (eventTv === undefined ? null : parseTimestamp(eventTv, ctx)) ?? ctx.referenceTime;
  const raw = formatAmiMessage(message);
  if (remotes.length > 1) {
    return [makeTampered(at, raw, rule.pattern, remotes.join(' '), 'more than one RemoteAddress')];
  }
  const address = parseAddress(remotes[0] as string);
  if (!address) return NO_EVENTS;
  const service = message.get('Service');
  const transport = address.transport ?? (service === 'AMI' ? 'tcp' : undefined);
  let kind = rule.kind;
  let roundTrip = rule.roundTrip;
  let reason = name;
  switch (name) {
    case 'FailedACL': {
      const acl = message.get('ACLName');
      if (acl) reason = `${reason}: ${acl}`;
      if (acl === 'no_extension_match') kind = 'dialplan-miss';
      break;
    }
    case 'RequestNotSupported':
      if (message.get('RequestType') === 'registrar_requested_aor_not_found') kind = 'unknown-account';
      break;
    case 'SuccessfulAuth':
      roundTrip = message.get('UsingPassword') === '1';
      break;
    case 'InvalidPassword': {
      // chan_sip reports the nonce it issued (Challenge) and the one the request used (ReceivedChallenge).
      // A request with a nonce the server never sent there proves no round trip: anyone can forge it.
      const challenge = message.get('Challenge');
      const received = message.get('ReceivedChallenge');
      if (challenge !== undefined && received !== undefined && received !== challenge) roundTrip = false;
      break;
    }
  }
  // `<unknown>` marks PJSIP's artificial endpoint; keeping it would merge every stranger into one account.
  const account = message.get('AccountID');
  return [
    makeEvent(at, raw, {
      kind,
      pattern: rule.pattern,
      evidence: evidenceFor(transport, roundTrip),
      reason,
      ip: address.ip,
      port: address.port,
      transport,
      account: account && account !== '<unknown>' ? account : undefined,
      // PJSIP's SessionID is the SIP Call-ID; chan_sip's and AMI's are pointers, useless across events.
      callId: service === 'PJSIP' ? message.get('SessionID') || undefined : undefined,
    }),
  ];
}
