import type { EventKind, SecurityEvent } from '../../core/event.js';
import { parseEndpoint } from '../../core/ip.js';
import type { TimeContext } from '../../core/time.js';
import { contentEnd, makeEvent, makeTampered, repeats } from '../asterisk-security/emit.js';
import type { LogLine } from '../asterisk-security/prefix.js';
import { Level } from '../asterisk-security/prefix.js';
import { NO_EVENTS } from '../types.js';
import { parseDialplanMiss } from './dialplan.js';
import { uriParts } from './uri.js';

/** chan_sip (channels/chan_sip.c, Asterisk ≤ 20). */

interface Reason {
  text: string;
  kind: EventKind;
  /** The reason is only reached after the digest response to our nonce was checked. */
  roundTrip: boolean;
}

/**
 * `Registration from` reasons (enum check_auth_result). `RTP initialization failed` and `Unknown failure` are
 * left out on purpose: they are server-side conditions (resources, limits) reached after the peer matched,
 * not bad credentials, and counting them would ban a working phone for the server's trouble. With
 * alwaysauthreject (the default) an unknown user also gets `Wrong password`, so that does not prove the
 * account exists.
 */
const REGISTER_REASONS: readonly Reason[] = [
  { text: 'Wrong password', kind: 'auth-failure', roundTrip: true },
  { text: 'Username/auth name mismatch', kind: 'auth-failure', roundTrip: true },
  { text: 'No matching peer found', kind: 'unknown-account', roundTrip: false },
  { text: 'Not a local domain', kind: 'acl-denied', roundTrip: false },
  { text: 'Peer is not supposed to register', kind: 'acl-denied', roundTrip: false },
  { text: 'Device does not match ACL', kind: 'acl-denied', roundTrip: false },
  // Older releases; fail2ban's samples carry it.
  { text: 'ACL error (permit/deny)', kind: 'acl-denied', roundTrip: false },
  { text: 'Device not configured to use this transport type', kind: 'acl-denied', roundTrip: false },
];

const FAILED_FOR = "' failed for '";

/**
 * `Registration from '<To>' failed for '<addr>' - <reason>`. The To value comes first and is client-chosen;
 * the address is printed by the server (`IP:port`, `[v6]:port`, or a bare IP before 1.8).
 */
function registerFailed(view: LogLine, msg: number, ctx: TimeContext): readonly SecurityEvent[] {
  const line = view.line;
  const pattern = 'chan_sip-register-failed';
  const failedFor = line.indexOf(FAILED_FOR, msg);
  if (failedFor < 0) return NO_EVENTS;
  if (repeats(line, FAILED_FOR, msg)) {
    return [makeTampered(view.at(ctx), line, pattern, line.slice(msg), `"${FAILED_FOR}" appears more than once`)];
  }
  const start = failedFor + FAILED_FOR.length;
  const close = line.indexOf("' - ", start);
  if (close < 0) return NO_EVENTS;
  const reasonText = line.slice(close + 4, contentEnd(line));
  const reason = REGISTER_REASONS.find((r) => reasonText.startsWith(r.text));
  const endpoint = parseEndpoint(line.slice(start, close));
  if (!reason || !endpoint) return NO_EVENTS;
  const to = uriParts(line.slice(msg + 19, failedFor));
  return [
    makeEvent(view.at(ctx), line, {
      kind: reason.kind,
      pattern,
      evidence: reason.roundTrip ? 'verified' : 'spoofable',
      reason: reason.text,
      ip: endpoint.ip,
      port: endpoint.port,
      account: to.user,
      domain: to.host,
    }),
  ];
}

const AT = "' at ";

/**
 * VERBOSE `Registered SIP '<peer>' at <addr>`. Spoofable: the line does not say whether a password was checked,
 * and without nat=force_rport the address is the host of the Contact header, which the client writes.
 */
function registered(view: LogLine, msg: number, ctx: TimeContext): readonly SecurityEvent[] {
  const line = view.line;
  const pattern = 'chan_sip-registered';
  const at = line.indexOf(AT, msg);
  if (at < 0) return NO_EVENTS;
  if (repeats(line, AT, msg)) return [makeTampered(view.at(ctx), line, pattern, line.slice(msg), `"${AT}" appears more than once`)];
  const endpoint = parseEndpoint(line.slice(at + AT.length, contentEnd(line)));
  if (!endpoint) return NO_EVENTS;
  return [
    makeEvent(view.at(ctx), line, {
      kind: 'auth-success',
      pattern,
      evidence: 'spoofable',
      reason: 'Registered',
      ip: endpoint.ip,
      port: endpoint.port,
      account: line.slice(msg + 16, at),
    }),
  ];
}

/** Skips Asterisk 11/13's verbose markers (`    -- `, `  == `) in front of a VERBOSE message. */
function verboseText(line: string, msg: number): number {
  let pos = msg;
  while (line.charCodeAt(pos) === 32) pos++;
  if (line.startsWith('-- ', pos) || line.startsWith('== ', pos)) pos += 3;
  return pos;
}

/**
 * Lines of chan_sip that sipwarden reads. Outbound trunk failures (`Failed to authenticate on REGISTER to ...`)
 * are Asterisk acting as a client and never an attack. `Failed to authenticate device <From> for INVITE` names
 * no address at all; the matching security event (InvalidPassword, InvalidAccountID, ...) carries it, so an
 * address-less event here would only count the same failure twice.
 */
export function parseChanSip(view: LogLine, msg: number, ctx: TimeContext): readonly SecurityEvent[] {
  const line = view.line;
  if (view.level === Level.Verbose) {
    const text = verboseText(line, msg);
    return line.startsWith("Registered SIP '", text) ? registered(view, text, ctx) : NO_EVENTS;
  }
  if (line.startsWith("Registration from '", msg)) return registerFailed(view, msg, ctx);
  if (line.startsWith("Call from '", msg)) return parseDialplanMiss(view, msg, ctx, 'chan_sip');
  return NO_EVENTS;
}
