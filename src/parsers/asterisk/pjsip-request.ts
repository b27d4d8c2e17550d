import type { EventKind, SecurityEvent } from '../../core/event.js';
import { parseEndpoint } from '../../core/ip.js';
import type { TimeContext } from '../../core/time.js';
import { contentEnd, makeEvent, makeTampered, repeats } from '../asterisk-security/emit.js';
import type { LogLine } from '../asterisk-security/prefix.js';
import { NO_EVENTS } from '../types.js';
import { uriParts } from './uri.js';

/**
 * res_pjsip/pjsip_distributor.c log_failed_request():
 *
 *   Request 'REGISTER' from '<From>' failed for '1.2.3.4:5062' (callid: <Call-ID>) - <reason>[ after N tries in X ms]
 *   Request from '<From>' failed for '1.2.3.4:5062' (callid: <Call-ID>) - No matching endpoint found   (12.0-13.9)
 *
 * From, Call-ID and the method token are client-chosen and sit on both sides of the address, so each anchor
 * must appear once; otherwise the line is tampered. The reason is server text at the end of the line.
 */

interface Reason {
  text: string;
  kind: EventKind;
  roundTrip: boolean;
}

const REASONS: readonly Reason[] = [
  { text: 'No matching endpoint found', kind: 'unknown-account', roundTrip: false },
  { text: 'Not match Endpoint ACL', kind: 'acl-denied', roundTrip: false },
  { text: 'Not match Endpoint Contact ACL', kind: 'acl-denied', roundTrip: false },
  // PJSIP's nonce is bound to the source address, so a wrong digest to it proves the round trip.
  { text: 'Failed to authenticate', kind: 'auth-failure', roundTrip: true },
  // An internal error while checking (500): nothing says the client ever saw our nonce.
  { text: 'Error to authenticate', kind: 'auth-failure', roundTrip: false },
];

const FAILED_FOR = "' failed for '";
const CALLID = '(callid: ';
const REPEATED = /^ after (\d+) tries in (\d+(?:\.\d+)?) ms$/;

export function parsePjsipRequest(view: LogLine, msg: number, ctx: TimeContext): readonly SecurityEvent[] {
  const line = view.line;
  if (!line.startsWith("Request '", msg) && !line.startsWith("Request from '", msg)) return NO_EVENTS;
  const failedFor = line.indexOf(FAILED_FOR, msg);
  if (failedFor < 0) return NO_EVENTS;
  if (repeats(line, FAILED_FOR, msg) || repeats(line, CALLID, msg)) {
    return [makeTampered(view.at(ctx), line, 'pjsip-request-failed', line.slice(msg), 'an address anchor appears more than once')];
  }
  const start = failedFor + FAILED_FOR.length;
  const close = line.indexOf("' " + CALLID, start);
  const dash = line.lastIndexOf(') - ');
  if (close < 0 || dash < close) return NO_EVENTS;
  const endpoint = parseEndpoint(line.slice(start, close));
  const tail = line.slice(dash + 4, contentEnd(line));
  const reason = REASONS.find((r) => tail.startsWith(r.text));
  if (!endpoint || !reason) return NO_EVENTS;
  const rest = tail.slice(reason.text.length);
  const repeated = rest === '' ? null : REPEATED.exec(rest);
  if (rest !== '' && !repeated) return NO_EVENTS;
  const from = uriParts(line.slice(line.indexOf(" from '", msg) + 7, failedFor));
  return [
    makeEvent(view.at(ctx), line, {
      kind: reason.kind,
      // Asterisk already folded N requests into this one line (endpoint_identifier_order with auth_username);
      // its own pattern id lets rules tell it apart, and it counts as one event, not N.
      pattern: repeated ? 'pjsip-request-failed-repeated' : 'pjsip-request-failed',
      evidence: reason.roundTrip ? 'verified' : 'spoofable',
      reason: tail,
      ip: endpoint.ip,
      port: endpoint.port,
      account: from.user,
      domain: from.host,
      callId: line.slice(close + 2 + CALLID.length, dash),
    }),
  ];
}
