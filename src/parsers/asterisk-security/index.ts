import type { LineParser, ParseContext } from '../types.js';
import { NO_EVENTS } from '../types.js';
import { Level, LogLine } from './prefix.js';
import { parseSecurityEvent, SECURITY_PATTERNS } from './security-event.js';

const BODY = 'SecurityEvent="';

/**
 * The `security` log channel of res_security_log (`security.log => security` in logger.conf). A bare body
 * without the logger prefix is accepted too, for relays that strip it; its time then comes from EventTV.
 */
export function createAsteriskSecurityParser(): LineParser {
  const view = new LogLine();
  return {
    format: 'asterisk-security',
    server: 'asterisk',
    patterns: SECURITY_PATTERNS,
    parse(line: string, ctx: ParseContext) {
      if (line.startsWith(BODY)) return parseSecurityEvent(line, 0, ctx.referenceTime, ctx);
      if (!view.locate(line) || view.level !== Level.Security) return NO_EVENTS;
      const start = view.messageOf('res_security_log.c');
      if (start < 0 || !line.startsWith(BODY, start)) return NO_EVENTS;
      return parseSecurityEvent(line, start, view.at(ctx), ctx);
    },
  };
}
