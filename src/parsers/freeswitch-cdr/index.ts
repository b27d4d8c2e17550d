import { boundRaw, type Disposition, type SecurityEvent } from '../../core/event.js';
import { parseTimestamp } from '../../core/time.js';
import { NO_EVENTS, type LineParser, type ParseContext } from '../types.js';

/**
 * FreeSWITCH `mod_cdr_csv` lines (formats reference §2.4) in the vanilla `example` template (15 columns) and
 * the code's own `default` template (13 columns, a space before the last one):
 *
 *   "caller_id_name","caller_id_number","destination_number","context","start_stamp","answer_stamp",
 *   "end_stamp","duration","billsec","hangup_cause","uuid","bleg_uuid","accountcode"[,"read_codec","write_codec"]
 *
 * One `call-end` per line, at `end_stamp` (local time, ctx.timezone). Other templates are operator-defined and
 * yield nothing here; a custom format can read them.
 *
 * mod_cdr_csv expands the template with no CSV escaping, and sofia URL-decodes the From user and the dialled
 * number (`check_decode`), so a caller can put `","` into the first three columns. Everything from `context` on
 * is written by the server and never holds a quote, so the line is read from its end: those columns are exact
 * whatever the caller wrote. The first three are trusted only when they split into exactly three; otherwise the
 * destination is left out rather than guessed.
 *
 * The account is `accountcode`, which the directory assigns to a user once sofia has authenticated them (the
 * vanilla directory sets it to the extension); `caller_id_number` is the From user the caller wrote and is never
 * the account. A line without an accountcode is a call nobody authenticated for (e.g. the `public` context) and
 * is `spoofable`: it may rest on one forged UDP INVITE. A CDR has no address.
 */

const PATTERN_EXAMPLE = 'freeswitch-cdr-example';
const PATTERN_DEFAULT = 'freeswitch-cdr-default';

/** The server-written columns from `context` to the end, each without a quote. */
const TAIL_EXAMPLE = /","([^"]*)","([^"]*)","([^"]*)","([^"]*)","([^"]*)","([^"]*)","([^"]*)","([^"]*)","([^"]*)","([^"]*)","[^"]*","[^"]*"$/;
const TAIL_DEFAULT = /","([^"]*)","([^"]*)","([^"]*)","([^"]*)","([^"]*)","([^"]*)","([^"]*)","([^"]*)","([^"]*)", "([^"]*)"$/;

const STAMP = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/;

/** Q.850 names as `switch_channel_cause2str` spells them (`CAUSE_CHART` in switch_channel.c). */
const CAUSE_NAME = /^[A-Z][A-Z0-9_]{1,40}$/;

/**
 * How a call ended, from whether it was answered and the FreeSWITCH cause name. An answered call is `answered`
 * whatever the cause (MEDIA_TIMEOUT, ALLOTTED_TIMEOUT and the like end answered calls too). Unanswered,
 * NORMAL_CLEARING is a caller who hung up while it rang before the far end answered, as Asterisk reads it (NO
 * ANSWER); LOSE_RACE and PICKED_OFF are legs another leg won; every cause not named here is a failure
 * (NO_ROUTE_DESTINATION, CALL_REJECTED, UNALLOCATED_NUMBER, ...). Null for a string that is not a cause name.
 */
export function hangupDisposition(cause: string, answered: boolean): Disposition | null {
  if (!CAUSE_NAME.test(cause)) return null;
  if (answered) return 'answered';
  switch (cause) {
    case 'USER_BUSY':
    case 'BUSY_EVERYWHERE':
      return 'busy';
    case 'NO_ANSWER':
    case 'NO_USER_RESPONSE':
    case 'NORMAL_CLEARING':
      return 'no-answer';
    case 'ORIGINATOR_CANCEL':
    case 'LOSE_RACE':
    case 'PICKED_OFF':
      return 'cancel';
    case 'NORMAL_CIRCUIT_CONGESTION':
    case 'SWITCH_CONGESTION':
      return 'congestion';
    default:
      return 'failed';
  }
}

export function createFreeswitchCdrParser(): LineParser {
  return {
    format: 'freeswitch-cdr',
    server: 'freeswitch',
    patterns: [PATTERN_EXAMPLE, PATTERN_DEFAULT],
    parse(line: string, ctx: ParseContext): readonly SecurityEvent[] {
      if (line.length > 16_384 || !line.startsWith('"')) return NO_EVENTS;
      const example = TAIL_EXAMPLE.exec(line);
      const match = example ?? TAIL_DEFAULT.exec(line);
      if (!match) return NO_EVENTS;
      const event = cdrEvent(line, match, ctx, example ? PATTERN_EXAMPLE : PATTERN_DEFAULT);
      return event === null ? NO_EVENTS : [event];
    },
  };
}

function cdrEvent(line: string, tail: RegExpExecArray, ctx: ParseContext, pattern: string): SecurityEvent | null {
  const [, , start, answer, end, duration, billsec, cause, uuid, , accountcode] = tail as unknown as string[];
  const durationSec = seconds(duration!);
  const billSec = seconds(billsec!);
  if (durationSec === undefined || billSec === undefined || billSec > durationSec) return null;
  if (!STAMP.test(start!) || !STAMP.test(end!) || (answer !== '' && !STAMP.test(answer!))) return null;
  const startAt = parseTimestamp(start!, ctx);
  const endAt = parseTimestamp(end!, ctx);
  if (startAt === null || endAt === null || endAt < startAt) return null;
  if (answer !== '' && parseTimestamp(answer!, ctx) === null) return null;
  const disposition = hangupDisposition(cause!, answer !== '');
  if (disposition === null) return null;

  const event: SecurityEvent = {
    at: endAt,
    kind: 'call-end',
    server: 'freeswitch',
    evidence: accountcode !== '' ? 'verified' : 'spoofable',
    pattern,
    reason: cause!,
    raw: boundRaw(line),
    call: { durationSec, billSec, disposition },
  };
  if (accountcode !== '') event.account = accountcode!.slice(0, 128);
  if (uuid !== '') event.call!.uniqueId = uuid!.slice(0, 128);
  const head = line.slice(1, tail.index).split('","');
  if (head.length === 3 && head[2] !== '') event.destination = head[2]!.slice(0, 128);
  return event;
}

function seconds(text: string): number | undefined {
  return /^\d{1,9}$/.test(text) ? Number(text) : undefined;
}
