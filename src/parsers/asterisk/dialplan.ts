import type { SecurityEvent, Transport } from '../../core/event.js';
import { parseEndpoint } from '../../core/ip.js';
import type { TimeContext } from '../../core/time.js';
import { contentEnd, evidenceFor, makeEvent, makeTampered, parseTransport, repeats } from '../asterisk-security/emit.js';
import type { LogLine } from '../asterisk-security/prefix.js';
import { NO_EVENTS } from '../types.js';

/**
 * The toll-fraud probe: a call to an extension that the context does not have. Three server forms:
 *
 *   chan_sip:     Call from 'user' (1.2.3.4:10836) to extension 'X' rejected because extension not found in context 'c'.
 *   PJSIP 13:     Call from 'endpoint' (TCP:[1.2.3.4]:61470) to extension 'X' rejected because ...
 *   PJSIP 16+:    endpoint: Call (UDP:1.2.3.4:65049) to extension 'X' rejected because ...
 *
 * The extension is client-chosen and is URI-decoded before it is logged, so it can hold `) to extension '` (two
 * anchors: tampered) and even a newline: the line is then cut after `to extension '...`, without the server's
 * tail. Such a fragment is reported as tampered too; its address is kept among the candidates.
 */
export type DialplanForm = 'chan_sip' | 'pjsip';

const TO_EXTEN = ") to extension '";
const REJECTED = "' rejected because ";
const NOT_FOUND = "' rejected because extension not found in context '";

export function parseDialplanMiss(view: LogLine, msg: number, ctx: TimeContext, form: DialplanForm): readonly SecurityEvent[] {
  const line = view.line;
  const fromForm = line.startsWith("Call from '", msg);
  if (!fromForm && (form === 'chan_sip' || line.indexOf(': Call (', msg) < 0)) return NO_EVENTS;
  const toExten = line.indexOf(TO_EXTEN, msg);
  if (toExten < 0) return NO_EVENTS;
  const pattern = form === 'chan_sip' ? 'chan_sip-dialplan-miss' : 'pjsip-dialplan-miss';
  if (repeats(line, TO_EXTEN, msg)) {
    return [makeTampered(view.at(ctx), line, pattern, line.slice(msg), `"${TO_EXTEN}" appears more than once`)];
  }
  const open = line.lastIndexOf('(', toExten);
  const headOk = fromForm ? line.startsWith("' (", open - 2) : line.startsWith(': Call (', open - 7);
  if (open < msg || !headOk) return NO_EVENTS;
  const end = contentEnd(line);
  const notFound = line.lastIndexOf(NOT_FOUND, end);
  if (line.indexOf(REJECTED, toExten) < 0) {
    return [{ ...makeTampered(view.at(ctx), line, pattern, line.slice(msg), 'dialplan line cut inside the extension'), cut: true }];
  }
  if (notFound < toExten || !line.startsWith("'.", end - 2) || end - 2 < notFound + NOT_FOUND.length) return NO_EVENTS;
  let address = line.slice(open + 1, toExten);
  let transport: Transport | undefined;
  if (form === 'pjsip') {
    const colon = address.indexOf(':');
    transport = parseTransport(address.slice(0, colon));
    address = address.slice(colon + 1);
  }
  const endpoint = parseEndpoint(address);
  if (!endpoint) return NO_EVENTS;
  const caller = fromForm ? line.slice(msg + 11, open - 2) : line.slice(msg, open - 7);
  return [
    makeEvent(view.at(ctx), line, {
      kind: 'dialplan-miss',
      pattern,
      evidence: evidenceFor(transport, false),
      reason: `extension not found in context '${line.slice(notFound + NOT_FOUND.length, end - 2)}'`,
      ip: endpoint.ip,
      port: endpoint.port,
      transport,
      // PJSIP names the endpoint (server config); `unknown` means none was identified.
      account: caller === 'unknown' ? undefined : caller,
      destination: line.slice(toExten + TO_EXTEN.length, notFound),
    }),
  ];
}
