import type { SecurityEvent } from '../../core/event.js';
import { parseEndpoint } from '../../core/ip.js';
import type { TimeContext } from '../../core/time.js';
import { contentEnd, makeEvent } from '../asterisk-security/emit.js';
import type { LogLine } from '../asterisk-security/prefix.js';
import { NO_EVENTS } from '../types.js';

/**
 * FreePBX dialplan Log() lines; the file field is `Ext. <exten>`, and the extension may be the dialled one,
 * so everything before the message is suspect. Both messages end with the address, so the last anchor and
 * the end of the line fix it.
 *
 * - `"Rejecting unknown SIP connection from 1.2.3.4"` (from-sip-external; the address is the channel's
 *   received address, optionally with `:port` or `[v6]:port`): a stranger calling in without a matching
 *   peer, refused because anonymous calls are off. That is a policy refusal, so acl-denied.
 * - `Friendly Scanner from 1.2.3.4`: the address is cut out of the Via header, which the client writes, so it
 *   is only ever spoofable evidence (anyone can name any address there).
 */

export const FREEPBX_PATTERNS: readonly string[] = ['freepbx-unknown-connection', 'freepbx-friendly-scanner'];

const UNKNOWN = 'Rejecting unknown SIP connection from ';
const SCANNER = 'Friendly Scanner from ';

export function parseFreepbx(view: LogLine, ctx: TimeContext): readonly SecurityEvent[] {
  const line = view.line;
  let end = contentEnd(line);
  if (line.charCodeAt(end - 1) === 34 /* " */) end--;
  const unknownAt = line.lastIndexOf(UNKNOWN, end);
  const scannerAt = line.lastIndexOf(SCANNER, end);
  const unknown = unknownAt > scannerAt;
  const anchor = unknown ? unknownAt : scannerAt;
  if (anchor < view.fileStart) return NO_EVENTS;
  const endpoint = parseEndpoint(line.slice(anchor + (unknown ? UNKNOWN.length : SCANNER.length), end));
  if (!endpoint) return NO_EVENTS;
  return [
    makeEvent(view.at(ctx), line, {
      kind: unknown ? 'acl-denied' : 'scanner',
      pattern: unknown ? 'freepbx-unknown-connection' : 'freepbx-friendly-scanner',
      evidence: 'spoofable',
      reason: unknown ? 'Rejecting unknown SIP connection' : 'Friendly Scanner',
      ip: endpoint.ip,
      port: endpoint.port,
    }),
  ];
}
