import { boundRaw, type SecurityEvent } from '../../core/event.js';
import { findAddresses, normalizeIp } from '../../core/ip.js';
import { TimestampCache } from '../../core/time.js';
import { NO_EVENTS, type LineParser, type ParseContext } from '../types.js';
import { firstMarker, parseKamailioPrefix } from './prefix.js';
import { countOf, parseRecommended, RECOMMENDED_MARKER, recommendedName, type RcOutcome } from './recommended.js';

export { KAMAILIO_RECOMMENDED_XLOG } from './xlog.js';

/**
 * Kamailio logs (stderr or syslog): pike blocks, the default-cfg anti-flood ALERT, and the recommended
 * `sipwarden: ...` script lines (recommended.ts, xlog.ts).
 *
 * Trust comes from position: Kamailio writes `LEVEL: [log_prefix]` and then a marker (`<script>: ` or
 * `module [file.c:NN]: `) before any message text, so a key phrase is believed only right after the first
 * marker. Found anywhere else it was planted in a header and the line is `tampered`. The one residual risk is a
 * log_prefix that itself prints request data; the README tells operators not to do that.
 *
 * pike floods are spoofable: pike counts packets, and one UDP packet can carry any source. `PIKE - UNBLOCKing`
 * carries no address and yields nothing.
 */

export const KAMAILIO_PATTERNS = [
  'kamailio-pike-block',
  'kamailio-pike-alert',
  'kamailio-auth-failed',
  'kamailio-auth-ok',
  'kamailio-scanner',
] as const;
type PatternId = (typeof KAMAILIO_PATTERNS)[number];

/** Kamailio `enum auth_cfg_result` (auth/api.h). auth_db checks the nonce (pre_auth) before it looks the user up. */
const KAMAILIO_RC: ReadonlyMap<number, RcOutcome> = new Map<number, RcOutcome>([
  [-1, { kind: 'auth-failure', evidence: 'spoofable', reason: 'error or bad credentials (rc -1)' }],
  [-2, { kind: 'auth-failure', evidence: 'verified', reason: 'invalid password (rc -2)' }],
  [-3, { kind: 'unknown-account', evidence: 'verified', reason: 'user unknown (rc -3)' }],
  [-6, { kind: 'auth-failure', evidence: 'spoofable', reason: 'nonce reused (rc -6)' }],
  [-7, { kind: 'auth-failure', evidence: 'spoofable', reason: 'username expired (rc -7)' }],
  [-8, { kind: 'auth-failure', evidence: 'spoofable', reason: 'auth user mismatch (rc -8)' }],
]);

const PIKE_BLOCK = 'PIKE - BLOCKing ip ';
const PIKE_ALERT = 'ALERT: pike blocking ';
const SCRIPT = '<script>: ';
const PIKE_MODULE = /pike \[pike_funcs\.c:\d+$/;
const PIKE_FUNC = /^(?:\w+\(\): )?/;
const PIKE_TAIL = /^(\S+), node=(?:0x[0-9a-fA-F]+|\(nil\))\s*$/;
const ALERT_TAIL = /^\S+ from .* \(IP:([^()\s]+)\)\s*$/;

interface Found {
  pattern: PatternId;
  fields: Partial<SecurityEvent> & Pick<SecurityEvent, 'kind' | 'evidence'>;
}
/** `nothing`: a key phrase sits where the server writes it, but the line carries no event (rc -5, a bad address). */
type Outcome = Found | 'nothing' | null;

function tampered(pattern: PatternId, line: string, bodyStart: number): Found {
  // findAddresses reads `IP:1.2.3.4:5060` as one token starting with a colon; a space lets it see the address.
  const body = line.slice(bodyStart).replaceAll('(IP:', '(IP: ');
  return { pattern, fields: { kind: 'tampered', evidence: 'spoofable', tampered: true, candidates: findAddresses(body) } };
}

/** `$si:$sp` as the default cfg prints it: IPv6 comes bare, so the port is after the last colon. */
function splitSourcePort(text: string): { ip: string; port: number } | null {
  const colon = text.lastIndexOf(':');
  if (colon < 0 || !/^\d{1,5}$/.test(text.slice(colon + 1))) return null;
  const ip = normalizeIp(text.slice(0, colon));
  const port = Number(text.slice(colon + 1));
  return ip && port <= 65535 ? { ip, port } : null;
}

function parseAtScript(line: string, bodyStart: number, messageStart: number): Outcome {
  if (line.startsWith(RECOMMENDED_MARKER, messageStart)) {
    const name = recommendedName(line, messageStart);
    const fields = name && parseRecommended(line.slice(messageStart), KAMAILIO_RC);
    if (!fields) return 'nothing';
    const { name: matched, ...rest } = fields;
    return { pattern: `kamailio-${matched}`, fields: rest };
  }
  if (!line.startsWith(PIKE_ALERT, messageStart)) return null;
  // The from-uri before `(IP:` is attacker text; a second `(IP:` means one of them was planted.
  if (countOf(line.slice(bodyStart), '(IP:') > 1) return tampered('kamailio-pike-alert', line, bodyStart);
  const tail = ALERT_TAIL.exec(line.slice(messageStart + PIKE_ALERT.length));
  const source = tail && splitSourcePort(tail[1] as string);
  if (!source) return 'nothing';
  return { pattern: 'kamailio-pike-alert', fields: { kind: 'flood', evidence: 'spoofable', ...source, reason: 'pike blocking' } };
}

function parseAtModule(line: string, bodyStart: number, marker: number): Outcome {
  if (!PIKE_MODULE.test(line.slice(Math.max(bodyStart, marker - 40), marker))) return null;
  const afterMarker = line.slice(marker + 3);
  const func = (PIKE_FUNC.exec(afterMarker) as RegExpExecArray)[0].length;
  if (!afterMarker.startsWith(PIKE_BLOCK, func)) return null;
  if (countOf(line.slice(bodyStart), PIKE_BLOCK) > 1) return tampered('kamailio-pike-block', line, bodyStart);
  const tail = PIKE_TAIL.exec(afterMarker.slice(func + PIKE_BLOCK.length));
  const ip = tail && normalizeIp(tail[1] as string);
  if (!ip) return 'nothing';
  return { pattern: 'kamailio-pike-block', fields: { kind: 'flood', evidence: 'spoofable', ip, reason: 'PIKE - BLOCKing' } };
}

/** A key phrase that is not where Kamailio would have written it. */
function planted(line: string, bodyStart: number, pike: number, alert: number, mark: number): Found | null {
  if (pike >= 0) return tampered('kamailio-pike-block', line, bodyStart);
  if (alert >= 0) return tampered('kamailio-pike-alert', line, bodyStart);
  const name = recommendedName(line, mark);
  return name ? tampered(`kamailio-${name}`, line, bodyStart) : null;
}

export function createKamailioParser(): LineParser {
  const timestamps = new TimestampCache();
  return {
    format: 'kamailio',
    server: 'kamailio',
    patterns: KAMAILIO_PATTERNS,
    parse(line: string, ctx: ParseContext): readonly SecurityEvent[] {
      const pike = line.indexOf(PIKE_BLOCK);
      const alert = line.indexOf(PIKE_ALERT);
      const mark = line.indexOf(RECOMMENDED_MARKER);
      if (pike < 0 && alert < 0 && mark < 0) return NO_EVENTS;
      const prefix = parseKamailioPrefix(line);
      if (!prefix) return NO_EVENTS;
      const marker = firstMarker(line, prefix.bodyStart);
      let found: Outcome = null;
      if (marker >= 0 && line.startsWith(SCRIPT, marker)) found = parseAtScript(line, prefix.bodyStart, marker + SCRIPT.length);
      else if (marker >= 0) found = parseAtModule(line, prefix.bodyStart, marker);
      found ??= planted(line, prefix.bodyStart, pike, alert, mark);
      if (!found || found === 'nothing') return NO_EVENTS;
      const at = prefix.date === undefined ? ctx.referenceTime : (timestamps.parse(prefix.date, ctx) ?? ctx.referenceTime);
      return [{ at, server: 'kamailio', pattern: found.pattern, ...found.fields, raw: boundRaw(line) }];
    },
  };
}
