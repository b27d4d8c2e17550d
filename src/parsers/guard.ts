import { boundRaw, type SecurityEvent } from '../core/event.js';
import type { LineParser, ParseContext } from './types.js';

/**
 * Distrusts the line right after a cut one. Asterisk URL-decodes the dialled extension before logging
 * it, so `%0A` in a Request-URI cuts its log line in two: the first part is caught as tampered (it lacks the
 * server's tail), but the second begins wherever the caller wants and can look like a whole server line.
 * Parsers mark such a fragment `cut`. Only cut lines taint their follower: an ordinary tampered line (a
 * duplicated anchor) ends where the server ended it, so the next line is the server's again.
 * The follower yields `tampered` events carrying its addresses as candidates, never a trusted `ip`.
 *
 * This is the one stateful step of parsing, so it wraps a pure parser per source instead of living in one.
 */
export function guardParser(parser: LineParser): LineParser {
  let distrustNext = false;
  return {
    format: parser.format,
    server: parser.server,
    patterns: parser.patterns,
    parse(line: string, ctx: ParseContext): readonly SecurityEvent[] {
      const events = parser.parse(line, ctx);
      if (events.length === 0 && !distrustNext) return events;
      const distrust = distrustNext;
      distrustNext = false;
      for (let i = 0; i < events.length; i++) if (events[i]!.cut) distrustNext = true;
      if (!distrust) return events;
      return events.map((event): SecurityEvent => {
        if (event.kind === 'tampered' || !event.ip) return event;
        const { ip, port: _port, ...rest } = event;
        return {
          ...rest,
          kind: 'tampered',
          tampered: true,
          candidates: [ip],
          evidence: 'spoofable',
          reason: `follows a tampered line (possible forged line from an embedded newline): ${event.reason ?? event.kind}`,
          raw: boundRaw(line),
        };
      });
    },
  };
}
