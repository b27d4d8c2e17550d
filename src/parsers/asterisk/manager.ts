import type { EventKind, SecurityEvent } from '../../core/event.js';
import { normalizeIp } from '../../core/ip.js';
import type { TimeContext } from '../../core/time.js';
import { contentEnd, makeEvent } from '../asterisk-security/emit.js';
import type { LogLine } from '../asterisk-security/prefix.js';
import { NO_EVENTS } from '../types.js';

/**
 * AMI login failures (main/manager.c): `<ip> failed to authenticate as '<user>'` and friends. The address is
 * the first word, printed by the server (ast_sockaddr_stringify_addr: bare IP, IPv6 without brackets); the
 * user name after it is the client's, so whatever it holds cannot move the address. AMI runs over TCP, whose
 * handshake proves the source.
 */

interface Shape {
  text: string;
  pattern: string;
  kind: EventKind;
  reason: string;
}

const SHAPES: readonly Shape[] = [
  {
    text: " tried to authenticate with nonexistent user '",
    pattern: 'ami-unknown-user',
    kind: 'unknown-account',
    reason: 'AMI nonexistent user',
  },
  { text: " failed to pass IP ACL as '", pattern: 'ami-acl-denied', kind: 'acl-denied', reason: 'AMI IP ACL' },
  { text: " failed to authenticate as '", pattern: 'ami-auth-failed', kind: 'auth-failure', reason: 'AMI authentication failed' },
];

export const MANAGER_PATTERNS: readonly string[] = SHAPES.map((shape) => shape.pattern);

export function parseManager(view: LogLine, msg: number, ctx: TimeContext): readonly SecurityEvent[] {
  const line = view.line;
  const space = line.indexOf(' ', msg);
  if (space < 0 || space - msg > 45) return NO_EVENTS;
  const shape = SHAPES.find((s) => line.startsWith(s.text, space));
  if (!shape) return NO_EVENTS;
  const end = contentEnd(line);
  const ip = normalizeIp(line.slice(msg, space));
  const userStart = space + shape.text.length;
  if (!ip || line.charCodeAt(end - 1) !== 39 /* ' */ || end - 1 < userStart) return NO_EVENTS;
  return [
    makeEvent(view.at(ctx), line, {
      kind: shape.kind,
      pattern: shape.pattern,
      evidence: 'verified',
      reason: shape.reason,
      ip,
      transport: 'tcp',
      account: line.slice(userStart, end - 1),
    }),
  ];
}
