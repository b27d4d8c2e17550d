import { boundRaw, type SecurityEvent } from '../../core/event.js';
import { findAddresses, normalizeIp } from '../../core/ip.js';
import { TimestampCache } from '../../core/time.js';
import { countOf, parseRecommended, RECOMMENDED_MARKER, recommendedName, type RcOutcome } from '../kamailio/recommended.js';
import { NO_EVENTS, type LineParser, type ParseContext } from '../types.js';

export { OPENSIPS_RECOMMENDED_XLOG } from './xlog.js';

/**
 * OpenSIPS logs: pike blocks and the recommended `sipwarden: ...` script lines (shared with Kamailio, see
 * kamailio/recommended.ts).
 *
 *   syslog:  `Jan  1 12:00:00 host opensips[1234]: WARNING:PIKE - BLOCKing ip 1.2.3.4, node=0x...`
 *   stderr:  `Jan  1 12:00:00 [1234] WARNING:PIKE - BLOCKing ip 1.2.3.4, node=0x...`
 *
 * OpenSIPS writes `[log_prefix]LEVEL:` and then the message; pike (LM_GEN1) and xlog print no module name. So a
 * key phrase is believed only right after the first `LEVEL:`; anywhere else it came from a header and the line
 * is `tampered`. As with Kamailio, a log_prefix that prints request data is the one thing this cannot see through.
 */

export const OPENSIPS_PATTERNS = ['opensips-pike-block', 'opensips-auth-failed', 'opensips-auth-ok', 'opensips-scanner'] as const;
type PatternId = (typeof OPENSIPS_PATTERNS)[number];

/** OpenSIPS auth_db return codes differ from Kamailio's. The nonce is checked before the user is looked up. */
const OPENSIPS_RC: ReadonlyMap<number, RcOutcome> = new Map<number, RcOutcome>([
  [-1, { kind: 'unknown-account', evidence: 'verified', reason: 'invalid user (rc -1)' }],
  [-2, { kind: 'auth-failure', evidence: 'verified', reason: 'invalid password (rc -2)' }],
  [-5, { kind: 'auth-failure', evidence: 'spoofable', reason: 'generic error (rc -5)' }],
]);

const PIKE_BLOCK = 'PIKE - BLOCKing ip ';
const PREFIX = /^(?:([A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d(?:\.\d{1,9})?|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?(?:Z|[+-]\d\d:?\d\d)?) (?:\S+ \S+\[\d+\]:|\[\d+\]) )/;
const LEVEL = /(?:ALERT|BUG|CRITICAL|ERROR|WARNING|NOTICE|INFO|DBG):/g;
const PIKE_TAIL = /^(\S+), node=(?:0x[0-9a-fA-F]+|\(nil\))\s*$/;

type Fields = Partial<SecurityEvent> & Pick<SecurityEvent, 'kind' | 'evidence'>;
interface Found {
  pattern: PatternId;
  fields: Fields;
}

function tampered(pattern: PatternId, body: string): Found {
  return { pattern, fields: { kind: 'tampered', evidence: 'spoofable', tampered: true, candidates: findAddresses(body) } };
}

/** Offset of the message: just after the first `LEVEL:` that follows the syslog or stderr prefix. */
function messageStart(line: string, bodyStart: number): number {
  LEVEL.lastIndex = bodyStart;
  const level = LEVEL.exec(line);
  return level ? level.index + level[0].length : -1;
}

/** `nothing`: a key phrase is where OpenSIPS writes it, but the line carries no event. */
function parseMessage(line: string, bodyStart: number, start: number): Found | 'nothing' | null {
  if (line.startsWith(RECOMMENDED_MARKER, start)) {
    const name = recommendedName(line, start);
    const fields = name && parseRecommended(line.slice(start), OPENSIPS_RC);
    if (!fields) return 'nothing';
    const { name: matched, ...rest } = fields;
    return { pattern: `opensips-${matched}`, fields: rest };
  }
  if (!line.startsWith(PIKE_BLOCK, start)) return null;
  const body = line.slice(bodyStart);
  if (countOf(body, PIKE_BLOCK) > 1) return tampered('opensips-pike-block', body);
  const tail = PIKE_TAIL.exec(line.slice(start + PIKE_BLOCK.length));
  const ip = tail && normalizeIp(tail[1] as string);
  if (!ip) return 'nothing';
  return { pattern: 'opensips-pike-block', fields: { kind: 'flood', evidence: 'spoofable', ip, reason: 'PIKE - BLOCKing' } };
}

function planted(line: string, bodyStart: number, pike: number, mark: number): Found | null {
  const body = line.slice(bodyStart);
  if (pike >= 0) return tampered('opensips-pike-block', body);
  const name = recommendedName(line, mark);
  return name ? tampered(`opensips-${name}`, body) : null;
}

export function createOpensipsParser(): LineParser {
  const timestamps = new TimestampCache();
  return {
    format: 'opensips',
    server: 'opensips',
    patterns: OPENSIPS_PATTERNS,
    parse(line: string, ctx: ParseContext): readonly SecurityEvent[] {
      const pike = line.indexOf(PIKE_BLOCK);
      const mark = line.indexOf(RECOMMENDED_MARKER);
      if (pike < 0 && mark < 0) return NO_EVENTS;
      const prefix = PREFIX.exec(line);
      if (!prefix) return NO_EVENTS;
      const bodyStart = prefix[0].length;
      const start = messageStart(line, bodyStart);
      const found = (start < 0 ? null : parseMessage(line, bodyStart, start)) ?? planted(line, bodyStart, pike, mark);
      if (!found || found === 'nothing') return NO_EVENTS;
      const at = timestamps.parse(prefix[1] as string, ctx) ?? ctx.referenceTime;
      return [{ at, server: 'opensips', pattern: found.pattern, ...found.fields, raw: boundRaw(line) }];
    },
  };
}
