import type { EventKind, SecurityEvent } from '../../core/event.js';
import type { Endpoint } from '../../core/ip.js';
import { normalizeIp } from '../../core/ip.js';
import type { TimeContext } from '../../core/time.js';
import { contentEnd, makeEvent } from '../asterisk-security/emit.js';
import type { LogLine } from '../asterisk-security/prefix.js';
import { NO_EVENTS } from '../types.js';

/**
 * res_pjsip_registrar.c warnings. They come after the endpoint was identified, and each ends with the source as
 * `(%s:%d)` from pkt_info.src_name: IPv6 without brackets, so the last colon separates the port. Only the AOR
 * name (from the To URI) is client-chosen and it comes before the address; the address sits at a fixed
 * distance from the end of the line, so it is found from the end and cannot be displaced by the AOR.
 */

interface Shape {
  pattern: string;
  kind: EventKind;
  /** Text that ends the line right after `(addr)`. */
  suffix: string;
  reason: string;
}

const SHAPES: readonly Shape[] = [
  { pattern: 'pjsip-registrar-no-aors', kind: 'acl-denied', suffix: ') has no configured AORs', reason: 'Endpoint has no configured AORs' },
  {
    pattern: 'pjsip-registrar-non-sip-uri',
    kind: 'acl-denied',
    suffix: ') attempted to register to an AOR with a non-SIP URI',
    reason: 'Register to an AOR with a non-SIP URI',
  },
  {
    pattern: 'pjsip-registrar-no-max-contacts',
    kind: 'acl-denied',
    suffix: ') unable to register',
    reason: 'AOR has no configured max_contacts',
  },
  { pattern: 'pjsip-registrar-aor-not-found', kind: 'unknown-account', suffix: ')', reason: 'AOR not found' },
];

export const REGISTRAR_PATTERNS: readonly string[] = SHAPES.map((shape) => shape.pattern);

/** `1.2.3.4:5060` or `2001:db8::1:5060`. */
function bareEndpoint(text: string): Endpoint | null {
  const colon = text.lastIndexOf(':');
  if (colon < 0 || !/^\d{1,5}$/.test(text.slice(colon + 1))) return null;
  const ip = normalizeIp(text.slice(0, colon));
  const port = Number(text.slice(colon + 1));
  return ip && port <= 65535 ? { ip, port } : null;
}

function shapeOf(line: string, msg: number, end: number): Shape | undefined {
  if (line.startsWith("Endpoint '", msg)) return SHAPES.find((s) => s.suffix !== ')' && line.endsWith(s.suffix, end));
  if (!line.startsWith("AOR '", msg)) return undefined;
  if (line.endsWith(') unable to register', end)) return SHAPES[2];
  return line.indexOf("' not found for endpoint '", msg) >= 0 ? SHAPES[3] : undefined;
}

export function parsePjsipRegistrar(view: LogLine, msg: number, ctx: TimeContext): readonly SecurityEvent[] {
  const line = view.line;
  const end = contentEnd(line);
  const shape = shapeOf(line, msg, end);
  if (!shape || !line.endsWith(shape.suffix, end)) return NO_EVENTS;
  const addrEnd = end - shape.suffix.length;
  const open = line.lastIndexOf("' (", addrEnd);
  if (open < msg) return NO_EVENTS;
  const endpoint = bareEndpoint(line.slice(open + 3, addrEnd));
  if (!endpoint) return NO_EVENTS;
  // The endpoint id (server config) is the last quoted name before the address.
  const name = line.lastIndexOf("'", open - 1);
  const endpointId = line.slice(name + 1, open);
  const aorNotFound = shape.pattern === 'pjsip-registrar-aor-not-found';
  return [
    makeEvent(view.at(ctx), line, {
      kind: shape.kind,
      pattern: shape.pattern,
      // The endpoint may be identified by address alone, without a digest: nothing proves the source.
      evidence: 'spoofable',
      reason: `${shape.reason} (endpoint '${endpointId}')`,
      ip: endpoint.ip,
      port: endpoint.port,
      // For a missing AOR the unknown name is the AOR the client asked for; otherwise the endpoint.
      account: aorNotFound ? line.slice(msg + 5, line.lastIndexOf("' not found for endpoint '", open)) : endpointId,
    }),
  ];
}
