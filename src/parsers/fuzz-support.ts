import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RAW_LIMIT } from '../core/event.js';
import { normalizeIp } from '../core/ip.js';
import type { LineParser, ParseContext } from './types.js';

/**
 * Test support shared by the parser fuzz tests: client-controlled field values built from the delimiters the
 * parsers anchor on, an injected address in the spellings servers use, random text, and mutated real lines.
 */

export const fuzzCtx: ParseContext = { timezone: 'UTC', referenceTime: Date.UTC(2024, 5, 1) };

/** The address the server wrote in every template; injected addresses are drawn to differ from it. */
export const TRUE_IP = '198.51.100.7';

const DELIMITERS = [
  "' failed for '", "' - ", ' - Wrong password', '(callid: ', ') - ', ') to extension \'', "' rejected because ",
  "' (", ' (from ', ') ', '(', ')', "'", '"', ',', '=', ':', '[', ']', ' ', 'RemoteAddress="', '",RemoteAddress="',
  ',LocalAddress="', 'IPV4/UDP/', '/5060"', ' at ', ' failed to authenticate as \'', 'Host ', ',UsingPassword="1"',
  ' not found for endpoint \'', ' has no configured AORs', 'Rejecting unknown SIP connection from ', 'sip:', '@',
  // FreeSWITCH, Kamailio and OpenSIPS anchors.
  ' from ip ', "Can't find user [", '] from ', ' (IP:', 'PIKE - BLOCKing ip ', ' src=', ' port=', '<script>: ', 'WARNING:',
];

/** One spelling of `ip` as it could appear in a log line. */
function spell(ip: string): fc.Arbitrary<string> {
  const v6 = ip.includes(':');
  return fc.constantFrom(
    ip, `${ip}:5060`, v6 ? `[${ip}]:5060` : `${ip}:1111`, `IPV${v6 ? 6 : 4}/UDP/${ip}/1111`,
    `RemoteAddress="IPV${v6 ? 6 : 4}/UDP/${ip}/1111"`, `' failed for '${ip}:5060' - Wrong password`,
    `(UDP:${ip}:5060) to extension '1`, ` (from ${ip})`,
  );
}

export const injectedIp: fc.Arbitrary<string> = fc
  .oneof(fc.ipV4(), fc.ipV6())
  .map((ip) => normalizeIp(ip) ?? ip)
  .filter((ip) => ip !== TRUE_IP);

/** A client-controlled field value that mentions `ip`; never a line break (that would be another line). */
export function fieldWith(ip: string): fc.Arbitrary<string> {
  const piece = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...DELIMITERS) },
    { weight: 3, arbitrary: spell(ip) },
    { weight: 2, arbitrary: fc.string({ maxLength: 6 }) },
  );
  return fc.array(piece, { minLength: 1, maxLength: 8 }).map((parts) => parts.join('').replace(/[\r\n]/g, ' '));
}

/** Invariants every event of any line must hold, whatever the input. */
export function assertWellFormed(parser: LineParser, line: string, ctx: ParseContext = fuzzCtx): void {
  for (const event of parser.parse(line, ctx)) {
    assert.ok(event.raw.length <= RAW_LIMIT);
    assert.ok(Number.isFinite(event.at));
    if (event.kind === 'tampered') {
      assert.equal(event.ip, undefined);
      assert.equal(event.tampered, true);
    } else {
      assert.ok(event.ip !== undefined && normalizeIp(event.ip) === event.ip, `canonical ip in ${line}`);
    }
  }
}

/** Random edits of a real line: cut, duplicate a slice, insert a delimiter or an address. */
export function mutated(lines: readonly string[]): fc.Arbitrary<string> {
  const edit = fc.tuple(fc.nat(), fc.nat(), fc.oneof(fc.constantFrom(...DELIMITERS), fc.string({ maxLength: 8 }), fc.ipV4()));
  return fc.tuple(fc.constantFrom(...lines), fc.array(edit, { minLength: 1, maxLength: 4 })).map(([line, edits]) => {
    let text = line;
    for (const [a, b, insert] of edits) {
      const at = a % (text.length + 1);
      const cut = b % 5 === 0 ? b % 7 : 0;
      text = text.slice(0, at) + insert + text.slice(at + cut);
    }
    return text;
  });
}
