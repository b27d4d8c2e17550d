import type { SecurityEvent } from '../../core/event.js';
import { normalizeIp } from '../../core/ip.js';
import type { TimeContext } from '../../core/time.js';
import { contentEnd, makeEvent } from '../asterisk-security/emit.js';
import type { LogLine } from '../asterisk-security/prefix.js';
import { NO_EVENTS } from '../types.js';

/**
 * chan_iax2 authentication failures. The address is printed by the server, either as the first word after
 * `Host ` or at the very end in `(from <ip>)`; peer names and hashes are the client's and sit elsewhere.
 * IAX2 runs over UDP. Only the MD5 failure proves that the client answered our challenge.
 */

const SHAPES = {
  'iax-auth-failed': { kind: 'auth-failure', reason: 'failed to authenticate', roundTrip: false },
  'iax-md5-failed': { kind: 'auth-failure', reason: 'MD5 authentication failed', roundTrip: true },
  'iax-unknown-peer': { kind: 'unknown-account', reason: 'No registration for peer', roundTrip: false },
} as const;

export const IAX_PATTERNS: readonly string[] = Object.keys(SHAPES);

const AUTH_AS = ' failed to authenticate as ';
const MD5_FOR = " failed MD5 authentication for '";
const FROM = ' (from ';

export function parseIax(view: LogLine, msg: number, ctx: TimeContext): readonly SecurityEvent[] {
  const line = view.line;
  const end = contentEnd(line);
  if (line.startsWith('Host ', msg)) {
    const space = line.indexOf(' ', msg + 5);
    const ip = space < 0 ? null : normalizeIp(line.slice(msg + 5, space));
    if (!ip) return NO_EVENTS;
    if (line.startsWith(AUTH_AS, space) && end > space + AUTH_AS.length) {
      const account = line.slice(space + AUTH_AS.length, end);
      return [event(view, ctx, 'iax-auth-failed', ip, account)];
    }
    if (line.startsWith(MD5_FOR, space)) {
      const start = space + MD5_FOR.length;
      const close = line.indexOf("' (", start);
      if (close < 0) return NO_EVENTS;
      return [event(view, ctx, 'iax-md5-failed', ip, line.slice(start, close))];
    }
    return NO_EVENTS;
  }
  if (line.startsWith("No registration for peer '", msg) && line.charCodeAt(end - 1) === 41 /* ) */) {
    const from = line.lastIndexOf(FROM, end);
    const ip = from < msg ? null : normalizeIp(line.slice(from + FROM.length, end - 1));
    if (!ip || line.charCodeAt(from - 1) !== 39 /* ' */) return NO_EVENTS;
    return [event(view, ctx, 'iax-unknown-peer', ip, line.slice(msg + 26, from - 1))];
  }
  return NO_EVENTS;
}

function event(view: LogLine, ctx: TimeContext, pattern: keyof typeof SHAPES, ip: string, account: string): SecurityEvent {
  const shape = SHAPES[pattern];
  return makeEvent(view.at(ctx), view.line, {
    kind: shape.kind,
    pattern,
    evidence: shape.roundTrip ? 'verified' : 'spoofable',
    reason: shape.reason,
    ip,
    transport: 'udp',
    account,
  });
}
