import { boundRaw, type Disposition, type SecurityEvent } from '../../core/event.js';
import { parseTimestamp } from '../../core/time.js';
import { NO_EVENTS, type LineParser, type ParseContext } from '../types.js';

/**
 * Asterisk `cdr_csv` (`Master.csv`, formats reference §1.6.1): one line per finished call, written at hangup.
 * Columns: accountcode, src, dst, dcontext, clid, channel, dstchannel, lastapp, lastdata, start, answer, end,
 * duration, billsec, disposition, amaflags, then uniqueid, userfield (`loguniqueid`, `loguserfield`) and
 * peeraccount, linkedid, sequence (`newcdrcolumns`): 16, 17, 18, 19 or 21 columns.
 *
 * Each line is a `call-end` for the account the call came from. That account is read from the channel name
 * (`PJSIP/1001-0000002a`), which Asterisk writes, and not from the caller id (`src`, `clid`), which the caller
 * sets; `accountcode` is the fallback when the channel names no endpoint. A CDR has no address: the fraud
 * detector joins it to registrations by account. Lines that are not a CDR of this layout yield nothing.
 */

const COLUMN_COUNTS = new Set([16, 17, 18, 19, 21]);

const DISPOSITION: Record<string, Disposition> = {
  ANSWERED: 'answered', 'NO ANSWER': 'no-answer', BUSY: 'busy', FAILED: 'failed', CONGESTION: 'congestion', CANCEL: 'cancel',
};

/** `PJSIP/1001-0000002a`, `SIP/trunk-00000001`, `IAX2/1001-1234`: technology, endpoint, a hex sequence. */
const CHANNEL = /^(?:PJSIP|SIP|IAX2|DAHDI|WebRTC)\/([^\s/@-][^\s/@]*?)-[0-9a-f]{1,16}$/i;

const PATTERN = 'asterisk-cdr-csv';

export function createAsteriskCdrParser(): LineParser {
  return {
    format: 'asterisk-cdr',
    server: 'asterisk',
    patterns: [PATTERN],
    parse(line: string, ctx: ParseContext): readonly SecurityEvent[] {
      if (line.length > 16_384) return NO_EVENTS;
      const fields = splitCsv(line);
      if (fields === null || !COLUMN_COUNTS.has(fields.length)) return NO_EVENTS;
      const [accountcode, , dst, , , channel, , , , start, answer, end, duration, billsec, disposition] = fields as string[];
      const event = cdrEvent({
        accountcode: accountcode!, dst: dst!, channel: channel!, start: start!, answer: answer!, end: end!,
        duration: duration!, billsec: billsec!, disposition: disposition!, uniqueId: fields.length >= 17 ? fields[16] : undefined,
      }, ctx, line, PATTERN);
      return event === null ? NO_EVENTS : [event];
    },
  };
}

/** The columns of a CDR, by name: the same in `Master.csv` and in AMI `Event: Cdr`. */
export interface CdrFields {
  accountcode: string;
  dst: string;
  channel: string;
  start: string;
  answer: string;
  end: string;
  duration: string;
  billsec: string;
  disposition: string;
  uniqueId: string | undefined;
}

/** A `call-end` from one CDR, or null when its fields are not those of a CDR (see the parser above). */
export function cdrEvent(cdr: CdrFields, ctx: ParseContext, raw: string, pattern: string): SecurityEvent | null {
  const outcome = DISPOSITION[cdr.disposition];
  const durationSec = seconds(cdr.duration);
  const billSec = seconds(cdr.billsec);
  if (outcome === undefined || durationSec === undefined || billSec === undefined || billSec > durationSec) return null;
  const startAt = parseTimestamp(cdr.start, ctx);
  const endAt = parseTimestamp(cdr.end, ctx);
  if (startAt === null || endAt === null || endAt < startAt) return null;
  if (cdr.answer !== '' && parseTimestamp(cdr.answer, ctx) === null) return null;

  const endpoint = CHANNEL.exec(cdr.channel)?.[1];
  const account = endpoint ?? (cdr.accountcode !== '' ? cdr.accountcode : undefined);
  const event: SecurityEvent = {
    at: endAt,
    kind: 'call-end',
    server: 'asterisk',
    // A CDR is written for a call the PBX accepted and placed: nothing in it rests on a forgeable address.
    evidence: 'verified',
    pattern,
    reason: cdr.disposition,
    raw: boundRaw(raw),
    call: { durationSec, billSec, disposition: outcome, channel: cdr.channel.slice(0, 128) },
  };
  if (account !== undefined) event.account = account.slice(0, 128);
  if (cdr.dst !== '') event.destination = cdr.dst.slice(0, 128);
  if (cdr.uniqueId) event.call!.uniqueId = cdr.uniqueId.slice(0, 128);
  return event;
}

function seconds(text: string): number | undefined {
  return /^\d{1,9}$/.test(text) ? Number(text) : undefined;
}

/**
 * One CSV record as cdr_csv writes it: fields separated by commas, strings in double quotes with an embedded
 * quote doubled, numbers and empty answer times bare. Null for a line that is not a well-formed record (an
 * unterminated quote, text after a closing quote, a bare field with a quote in it).
 */
export function splitCsv(line: string): string[] | null {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    if (line.charCodeAt(i) === 0x22) {
      let value = '';
      let from = i + 1;
      for (;;) {
        const quote = line.indexOf('"', from);
        if (quote < 0) return null;
        if (line.charCodeAt(quote + 1) === 0x22) {
          value += line.slice(from, quote + 1);
          from = quote + 2;
          continue;
        }
        value += line.slice(from, quote);
        i = quote + 1;
        break;
      }
      fields.push(value);
    } else {
      const comma = line.indexOf(',', i);
      const value = comma < 0 ? line.slice(i) : line.slice(i, comma);
      if (value.includes('"')) return null;
      fields.push(value);
      if (comma < 0) return fields;
      i = comma + 1;
      continue;
    }
    if (i === line.length) return fields;
    if (line.charCodeAt(i) !== 0x2c) return null;
    i += 1;
  }
}
