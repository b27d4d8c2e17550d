import { boundRaw, type EventKind, type Evidence, type SecurityEvent } from '../../core/event.js';
import { findAddresses, normalizeIp } from '../../core/ip.js';
import { TimestampCache } from '../../core/time.js';
import { NO_EVENTS, type LineParser, type ParseContext } from '../types.js';
import { parseFreeswitchPrefix } from './prefix.js';

/**
 * FreeSWITCH `freeswitch.log` (mod_logfile, also behind syslog/journald), sofia security lines.
 *
 * Where the address sits, and why it can be trusted:
 * - `SIP auth failure|challenge (...) ... for [user@host] from ip IP` and `Can't find user [user@domain] from IP`:
 *   the address ends the line, after attacker text (the To user/host, the digest username). The line is trusted
 *   only when its anchor (`from ip `, `] from `) occurs once; otherwise it is `tampered`. An attacker can thereby
 *   turn their own lines into tampered ones, but never make us blame another address.
 * - `IP x Rejected by ... acl ...`: the address comes first and the rest is configuration, so nothing to inject.
 *
 * Evidence: sofia_reg_parse_auth looks the nonce up before it looks the user up, checks the user ACL and compares
 * the digest, so `SIP auth failure`, `Can't find user` and `Rejected by user acl` each follow a challenge round
 * trip (verified). The register and inbound ACLs run before any challenge (spoofable).
 *
 * Lines that yield nothing, on purpose: the two continuation lines of `Can't find user` (no address), and
 * `SIP auth failure (REGISTER) due to user-agent-filter|reaching max allowed registrations` (no address; with
 * log-auth-failures the same request also logs the usual `SIP auth failure ... from ip` line, which counts).
 */

export const FREESWITCH_PATTERNS = [
  'freeswitch-auth-failure',
  'freeswitch-auth-challenge',
  'freeswitch-unknown-user',
  'freeswitch-register-acl',
  'freeswitch-inbound-acl',
  'freeswitch-acl-digest-fallback',
  'freeswitch-user-acl',
] as const;
type PatternId = (typeof FREESWITCH_PATTERNS)[number];

const AUTH_HEAD = /^SIP auth (failure|challenge) \((REGISTER|INVITE)\) on sofia profile '[^']*' for \[/;
const ACL = /^IP (\S+) Rejected by (register acl|user acl|acl) (.+)$/;
const DIGEST_FALLBACK = '. Falling back to Digest auth.';

interface Found {
  pattern: PatternId;
  kind: EventKind;
  evidence: Evidence;
  ip?: string;
  reason: string;
  account?: string;
  domain?: string;
  destination?: string;
  candidates?: string[];
}

function countOf(text: string, needle: string): number {
  let count = 0;
  for (let i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + needle.length)) count++;
  return count;
}

function tampered(pattern: PatternId, message: string, reason: string): Found {
  return { pattern, kind: 'tampered', evidence: 'spoofable', reason, candidates: findAddresses(message) };
}

/** `user@host` as sofia prints it; the host may itself hold `@` only if forged, so split at the last one. */
function splitUserHost(inner: string): { user: string; host?: string } {
  const at = inner.lastIndexOf('@');
  return at < 0 ? { user: inner } : { user: inner.slice(0, at), host: inner.slice(at + 1) };
}

function parseAuth(message: string): Found | null {
  const head = AUTH_HEAD.exec(message);
  if (!head) return null;
  const failure = head[1] === 'failure';
  const pattern: PatternId = failure ? 'freeswitch-auth-failure' : 'freeswitch-auth-challenge';
  const reason = message.slice(0, head[0].length - ' for ['.length);
  const anchors = countOf(message, 'from ip ');
  if (anchors === 0) return null;
  const close = message.lastIndexOf('] from ip ');
  if (anchors > 1 || close < head[0].length) return tampered(pattern, message, reason);
  const ip = normalizeIp(message.slice(close + '] from ip '.length).trimEnd());
  if (!ip) return null;
  const { user, host } = splitUserHost(message.slice(head[0].length, close));
  // For INVITE the To user is the number being dialled, not an account: the toll-fraud destination.
  const who = head[2] === 'INVITE' ? { destination: user } : { account: user };
  return {
    pattern,
    kind: failure ? 'auth-failure' : 'challenge',
    evidence: failure ? 'verified' : 'spoofable',
    ip,
    reason,
    ...who,
    ...(host === undefined ? {} : { domain: host }),
  };
}

function parseUnknownUser(message: string): Found | null {
  // Older releases print `can't find user [u@d]` without an address; those yield nothing.
  const open = message.indexOf("an't find user [");
  if (open !== 1) return null;
  const innerStart = open + "an't find user [".length;
  const anchors = countOf(message, '] from ');
  if (anchors === 0) return null;
  const reason = "Can't find user";
  if (anchors > 1) return tampered('freeswitch-unknown-user', message, reason);
  const close = message.indexOf('] from ');
  const ip = normalizeIp(message.slice(close + '] from '.length).trimEnd());
  if (!ip) return null;
  const { user, host } = splitUserHost(message.slice(innerStart, close));
  return {
    pattern: 'freeswitch-unknown-user',
    kind: 'unknown-account',
    evidence: 'verified',
    ip,
    reason,
    account: user,
    ...(host === undefined ? {} : { domain: host }),
  };
}

function parseAcl(message: string): Found | null {
  const m = ACL.exec(message.trimEnd());
  if (!m) return null;
  const ip = normalizeIp(m[1] as string);
  if (!ip) return null;
  const which = m[2] as string;
  const rest = m[3] as string;
  const reason = `Rejected by ${which} ${rest}`;
  if (which === 'register acl') return { pattern: 'freeswitch-register-acl', kind: 'acl-denied', evidence: 'spoofable', ip, reason };
  if (which === 'user acl') return { pattern: 'freeswitch-user-acl', kind: 'acl-denied', evidence: 'verified', ip, reason };
  // An inbound-ACL miss with auth fallback only leads to a 401: a challenge, not a rejection.
  if (rest.endsWith(DIGEST_FALLBACK)) {
    return { pattern: 'freeswitch-acl-digest-fallback', kind: 'challenge', evidence: 'spoofable', ip, reason };
  }
  return { pattern: 'freeswitch-inbound-acl', kind: 'acl-denied', evidence: 'spoofable', ip, reason };
}

export function createFreeswitchParser(): LineParser {
  const timestamps = new TimestampCache();
  return {
    format: 'freeswitch',
    server: 'freeswitch',
    patterns: FREESWITCH_PATTERNS,
    parse(line: string, ctx: ParseContext): readonly SecurityEvent[] {
      // Noise costs three substring scans and no allocation.
      if (line.indexOf('SIP auth ') < 0 && line.indexOf("an't find user [") < 0 && line.indexOf(' Rejected by ') < 0) {
        return NO_EVENTS;
      }
      const prefix = parseFreeswitchPrefix(line);
      if (!prefix) return NO_EVENTS;
      const message = line.slice(prefix.messageStart);
      const found = message.startsWith('SIP auth ')
        ? parseAuth(message)
        : message.startsWith('IP ')
          ? parseAcl(message)
          : parseUnknownUser(message);
      if (!found) return NO_EVENTS;
      const at = timestamps.parse(prefix.date, ctx) ?? ctx.referenceTime;
      const { candidates, ...fields } = found;
      const event: SecurityEvent = { at, server: 'freeswitch', ...fields, raw: boundRaw(line) };
      if (candidates) {
        event.tampered = true;
        event.candidates = candidates;
      }
      return [event];
    },
  };
}
