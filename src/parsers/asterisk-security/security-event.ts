import type { SecurityEvent } from '../../core/event.js';
import { parseSecurityAddress, SECURITY_EVENT_TYPES, securityPatterns } from './event-types.js';
import type { TimeContext } from '../../core/time.js';
import { parseTimestamp } from '../../core/time.js';
import { NO_EVENTS } from '../types.js';
import { evidenceFor, makeEvent, makeTampered } from './emit.js';

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

export const SECURITY_PATTERNS: readonly string[] = securityPatterns('security');

const HEAD = /SecurityEvent="(\w+)",EventTV="([^"]*)",Severity="\w+",Service="(\w+)",EventVersion="\d+"/y;
const REMOTE = 'RemoteAddress="';
const CHALLENGE = ',Challenge="';

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
  const rule = SECURITY_EVENT_TYPES.get(head[1] as string);
  if (!rule) return NO_EVENTS;
  const at = parseTimestamp(head[2] as string, ctx) ?? lineAt;
  const remote = line.indexOf(REMOTE, HEAD.lastIndex);
  if (remote < 0) return NO_EVENTS;
  if (line.indexOf(REMOTE, remote + 1) >= 0) {
    return [makeTampered(at, line, `security-${rule.slug}`, remoteValues(line, start), 'more than one RemoteAddress')];
  }
  const valueEnd = line.indexOf('"', remote + REMOTE.length);
  if (valueEnd < 0) return NO_EVENTS;
  const address = parseSecurityAddress(line.slice(remote + REMOTE.length, valueEnd));
  if (!address) return NO_EVENTS;
  const service = head[3] as string;
  const afterRemote = valueEnd + 1;
  const transport = address.transport ?? (service === 'AMI' ? 'tcp' : undefined);
  let kind = rule.kind;
  let roundTrip = rule.roundTrip;
  let reason = head[1] as string;
  switch (`security-${rule.slug}`) {
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
      pattern: `security-${rule.slug}`,
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
