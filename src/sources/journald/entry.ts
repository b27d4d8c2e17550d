import type { SyslogMessage } from '../syslog/message.js';

/** One journal entry as the syslog routes see it. `receivedAt` is when journald stored it, in epoch ms. */
export interface JournalRecord {
  message: SyslogMessage;
  receivedAt: number;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const USER_FACILITY = 1;
const INFO = 6;

/**
 * Reads one line of `journalctl -o json`. Returns null for anything that is not an entry with a MESSAGE and a
 * __REALTIME_TIMESTAMP (malformed JSON, a truncated line, a field journalctl left out as `null` because it was
 * too large). Never throws.
 *
 * The entry is dated in the BSD form `Mmm dd hh:mm:ss`, in `timezone`, because that is the one dated form every
 * built-in parser reads after route.ts lineFor (OpenSIPS has no dateless form). The parser is given the same
 * zone and `receivedAt` as its reference time, so the instant survives the round trip, seconds included.
 */
export function parseJournalEntry(line: string, timezone: string): JournalRecord | null {
  let entry: unknown;
  try {
    entry = JSON.parse(line);
  } catch {
    return null;
  }
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return null;
  const fields = entry as Record<string, unknown>;
  const text = fieldText(fields.MESSAGE);
  const micros = fieldText(fields.__REALTIME_TIMESTAMP);
  if (text === undefined || micros === undefined || !/^\d{1,19}$/.test(micros)) return null;
  const receivedAt = Math.floor(Number(micros) / 1000);
  const message: SyslogMessage = {
    facility: smallNumber(fieldText(fields.SYSLOG_FACILITY), 23) ?? USER_FACILITY,
    severity: smallNumber(fieldText(fields.PRIORITY), 7) ?? INFO,
    timestamp: bsdDate(receivedAt, timezone),
    message: text.replace(/[\r\n]+$/, ''),
  };
  const host = fieldText(fields._HOSTNAME);
  const app = fieldText(fields.SYSLOG_IDENTIFIER) ?? fieldText(fields._COMM);
  const pid = fieldText(fields._PID) ?? fieldText(fields.SYSLOG_PID);
  if (host !== undefined) message.host = host;
  if (app !== undefined) message.app = app;
  if (pid !== undefined) message.pid = pid;
  return { message, receivedAt };
}

/**
 * journalctl writes a field as a string when it is valid UTF-8, as an array of byte values when it is not, and
 * as an array of those when the entry has the field more than once (the first one is taken).
 */
function fieldText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (!Array.isArray(value) || value.length === 0) return undefined;
  if (typeof value[0] !== 'number') return fieldText(value[0]);
  if (!value.every((b) => Number.isInteger(b) && b >= 0 && b <= 255)) return undefined;
  return Buffer.from(value as number[]).toString('utf8');
}

function smallNumber(text: string | undefined, max: number): number | undefined {
  if (text === undefined || !/^\d{1,3}$/.test(text)) return undefined;
  const value = Number(text);
  return value <= max ? value : undefined;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** `Mmm dd hh:mm:ss` (day padded to two columns) of an instant in a zone: `local`, `UTC` or an IANA name. */
export function bsdDate(at: number, timezone: string): string {
  const date = new Date(at);
  let wall: number[];
  if (timezone === 'local') {
    wall = [date.getMonth(), date.getDate(), date.getHours(), date.getMinutes(), date.getSeconds()];
  } else if (timezone === 'UTC') {
    wall = [date.getUTCMonth(), date.getUTCDate(), date.getUTCHours(), date.getUTCMinutes(), date.getUTCSeconds()];
  } else {
    let format = formatters.get(timezone);
    if (!format) {
      format = new Intl.DateTimeFormat('en-US', { timeZone: timezone, hourCycle: 'h23', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
      formatters.set(timezone, format);
    }
    const parts = format.formatToParts(date);
    const get = (type: string): number => Number(parts.find((p) => p.type === type)?.value);
    wall = [get('month') - 1, get('day'), get('hour'), get('minute'), get('second')];
  }
  const [month = 0, day = 1, ...time] = wall;
  return `${MONTHS[month]} ${String(day).padStart(2, ' ')} ${time.map((n) => String(n).padStart(2, '0')).join(':')}`;
}
