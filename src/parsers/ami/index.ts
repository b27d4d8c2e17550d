import type { SecurityEvent } from '../../core/event.js';
import { parseSecurityAddress, SECURITY_EVENT_TYPES, securityPatterns } from '../asterisk-security/event-types.js';
import { parseTimestamp } from '../../core/time.js';
import { evidenceFor, makeEvent, makeTampered } from '../asterisk-security/emit.js';
import type { AmiMessage } from '../../sources/ami/decoder.js';
import { formatAmiMessage } from '../../sources/ami/decoder.js';
import type { ParseContext } from '../types.js';
import { NO_EVENTS } from '../types.js';
import { cdrEvent } from '../asterisk-cdr/index.js';
import { CALL_EVENTS, CALL_PATTERNS, callFromAmi, valuesOf } from './calls.js';

/**
 * `Event: Cdr` (cdr_manager, reference §1.6.2; the AMI user needs `read = cdr` and the login `Events: security,cdr`):
 * the same record as a `Master.csv` line, one field per line, so it yields the same `call-end`.
 */
function cdrFromAmi(message: AmiMessage, ctx: ParseContext): readonly SecurityEvent[] {
  const field = (key: string): string => message.get(key) ?? '';
  const event = cdrEvent({
    accountcode: field('AccountCode'), dst: field('Destination'), channel: field('Channel'), start: field('StartTime'),
    answer: field('AnswerTime'), end: field('EndTime'), duration: field('Duration'), billsec: field('BillableSeconds'),
    disposition: field('Disposition'), uniqueId: message.get('UniqueID'),
  }, ctx, formatAmiMessage(message), 'ami-cdr');
  return event === null ? NO_EVENTS : [event];
}

/**
 * Asterisk security events read from AMI (reference §1.5): `Event: <SecurityEventName>` with the IEs of the
 * security log (§1.4) as `Key: value` lines. Each field is its own line, so a client-written value (AccountID,
 * SessionID, Response) cannot pose as RemoteAddress the way it can in the one-line log form. A frame with two
 * RemoteAddress fields is still possible from a broken relay or a hostile peer speaking AMI, and no field of
 * it is trusted (the event is tampered).
 */

export const AMI_PATTERNS: readonly string[] = [...securityPatterns('ami'), 'ami-cdr', ...CALL_PATTERNS];

/**
 * Events of one AMI message: one for a security event with a readable RemoteAddress, a tampered one for a
 * frame with several, a call event for a Cdr and for the channel events of calls.ts, none for anything else
 * (banner, responses, FullyBooted, ...). Pure; never throws.
 */
export function parseAmiEvent(message: AmiMessage, ctx: ParseContext): readonly SecurityEvent[] {
  if (message.kind !== 'message') return NO_EVENTS;
  const name = message.get('Event');
  if (name === 'Cdr') return cdrFromAmi(message, ctx);
  if (name !== undefined && CALL_EVENTS.has(name)) return callFromAmi(name, message, ctx);
  const rule = name === undefined ? undefined : SECURITY_EVENT_TYPES.get(name);
  if (!name || !rule) return NO_EVENTS;
  const remotes = valuesOf(message, 'RemoteAddress');
  if (remotes.length === 0) return NO_EVENTS;
  const eventTv = message.get('EventTV');
  const at = (eventTv === undefined ? null : parseTimestamp(eventTv, ctx)) ?? ctx.referenceTime;
  const raw = formatAmiMessage(message);
  if (remotes.length > 1) {
    return [makeTampered(at, raw, `ami-${rule.slug}`, remotes.join(' '), 'more than one RemoteAddress')];
  }
  const address = parseSecurityAddress(remotes[0] as string);
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
      pattern: `ami-${rule.slug}`,
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
