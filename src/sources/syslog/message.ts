/**
 * One syslog message, split into its header and the text the sending program wrote. Only the header is read
 * here; the text goes, untouched, to the line parser of the format it is routed to (route.ts).
 */
export interface SyslogMessage {
  facility: number;
  severity: number;
  /**
   * As sent: RFC 3339 (`2024-01-01T12:00:00.123+01:00`), or BSD `Mmm dd hh:mm:ss` with the day padded to two
   * columns (`Jan  1`), which is how every line parser expects a syslog date. A BSD date with a year
   * (`Jan  1 2024 12:00:00`, Cisco style) becomes `2024-01-01T12:00:00` (local time, no zone).
   */
  timestamp?: string;
  host?: string;
  /** The program name (RFC 3164 TAG, RFC 5424 APP-NAME), e.g. `kamailio` or `/usr/sbin/kamailio`. */
  app?: string;
  pid?: string;
  message: string;
}

/** Longest message read, in UTF-16 code units; the rest is cut. Matches the TCP frame limit (framing.ts). */
export const SYSLOG_MESSAGE_LIMIT = 64 * 1024;

const PRI = /^<(0|[1-9]\d{0,2})>/;
const MAX_PRI = 191; // facility 23, severity 7
const BOM = '\uFEFF';
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * Parses an RFC 5424 or RFC 3164 message (with or without a hostname, with an RFC 3339 or a BSD date, or with
 * no date at all). Returns null when the text does not start with a valid `<PRI>`; anything after a valid PRI
 * yields a message, since an unreadable header still leaves text worth keeping. Never throws.
 */
export function parseSyslog(text: string): SyslogMessage | null {
  const input = text.length > SYSLOG_MESSAGE_LIMIT ? text.slice(0, SYSLOG_MESSAGE_LIMIT) : text;
  const pri = PRI.exec(input);
  if (!pri) return null;
  const value = Number(pri[1]);
  if (value > MAX_PRI) return null;
  const head = { facility: value >> 3, severity: value & 7 };
  const rest = trimTrailer(input.slice(pri[0].length));
  return parse5424(head, rest) ?? parse3164(head, rest);
}

/** Transports leave a trailing newline (UDP senders) or NUL (some TCP senders) that is not message text. */
function trimTrailer(text: string): string {
  let end = text.length;
  while (end > 0) {
    const c = text.charCodeAt(end - 1);
    if (c !== 10 && c !== 13 && c !== 0) break;
    end--;
  }
  return text.slice(0, end);
}

function withoutBom(text: string): string {
  return text.startsWith(BOM) ? text.slice(1) : text;
}

type Head = Pick<SyslogMessage, 'facility' | 'severity'>;

const VERSION = /^[1-9]\d{0,2} /;
const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?(?:Z|[+-]\d\d:\d\d)$/;

/** PRINTUSASCII (33-126) of bounded length, or `-` for nil. */
function headerField(field: string, maxLength: number): string | undefined | false {
  if (field === '-') return undefined;
  if (field.length === 0 || field.length > maxLength || !/^[\x21-\x7e]+$/.test(field)) return false;
  return field;
}

/** `VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP MSGID SP STRUCTURED-DATA [SP MSG]`, else null. */
function parse5424(head: Head, rest: string): SyslogMessage | null {
  const version = VERSION.exec(rest);
  if (!version) return null;
  let pos = version[0].length;
  const fields: string[] = [];
  for (let i = 0; i < 5; i++) {
    const end = rest.indexOf(' ', pos);
    if (end < 0) return null;
    fields.push(rest.slice(pos, end));
    pos = end + 1;
  }
  const [stamp = '', hostField = '', appField = '', pidField = '', msgid = ''] = fields;
  if (stamp !== '-' && !RFC3339.test(stamp)) return null;
  const host = headerField(hostField, 255);
  const app = headerField(appField, 48);
  const pid = headerField(pidField, 128);
  if (host === false || app === false || pid === false || headerField(msgid, 32) === false) return null;
  const message: SyslogMessage = { ...head, message: '' };
  if (stamp !== '-') message.timestamp = stamp;
  if (host !== undefined) message.host = host;
  if (app !== undefined) message.app = app;
  if (pid !== undefined) message.pid = pid;
  const sdEnd = skipStructuredData(rest, pos);
  if (sdEnd < 0 || (sdEnd < rest.length && rest.charCodeAt(sdEnd) !== 32)) {
    // A broken SD element leaves no place where MSG reliably starts; keep all of it rather than guess.
    message.message = rest.slice(pos);
  } else {
    message.message = withoutBom(rest.slice(sdEnd + 1));
  }
  return message;
}

const SPACE = 32;
const QUOTE = 34;
const EQUALS = 61;
const OPEN = 91;
const BACKSLASH = 92;
const CLOSE = 93;

/** End of an SD-NAME (SD-ID or PARAM-NAME: 1-32 printable, not `= ] "`), or -1. */
function skipName(text: string, start: number): number {
  let pos = start;
  while (pos < text.length && pos - start <= 32) {
    const c = text.charCodeAt(pos);
    if (c <= SPACE || c > 126 || c === EQUALS || c === CLOSE || c === QUOTE) break;
    pos++;
  }
  return pos === start || pos - start > 32 ? -1 : pos;
}

/**
 * Index just after STRUCTURED-DATA (`-` or `[id name="value" ...]...`), or -1 when it is malformed. Inside a
 * value `\"`, `\\` and `\]` are escapes, so a `]` or `"` there does not end the element.
 */
function skipStructuredData(text: string, start: number): number {
  if (text.charCodeAt(start) === 45 /* - */) return start + 1;
  if (text.charCodeAt(start) !== OPEN) return -1;
  let pos = start;
  while (text.charCodeAt(pos) === OPEN) {
    pos = skipName(text, pos + 1);
    if (pos < 0) return -1;
    while (text.charCodeAt(pos) === SPACE) {
      pos = skipName(text, pos + 1);
      if (pos < 0 || text.charCodeAt(pos) !== EQUALS || text.charCodeAt(pos + 1) !== QUOTE) return -1;
      pos += 2;
      for (;;) {
        if (pos >= text.length) return -1;
        const c = text.charCodeAt(pos);
        pos += c === BACKSLASH ? 2 : 1;
        if (c === QUOTE) break;
      }
    }
    if (text.charCodeAt(pos) !== CLOSE) return -1;
    pos++;
  }
  return pos;
}

/** Cisco marks unsynchronised clocks with `*` and synchronised ones with `.` before the date. */
const BSD_DATE = /^[*.]?([A-Z][a-z]{2}) {1,2}(\d{1,2})(?: (\d{4}))? (\d\d:\d\d:\d\d(?:\.\d{1,9})?)(?: |$)/;
const ISO_DATE = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?(?:Z|[+-]\d\d:\d\d)?)(?: |$)/;
/** `tag: ` or `tag[pid]: `; a colon inside a token (an IPv6 hostname) is not a tag end. */
const TAG = /^([^\s[\]:]{1,255})(?:\[([^\s\]]{1,128})\])?:(?: |$)/;
const HOST = /^[\x21-\x7e]{1,255}(?: |$)/;

function bsdTimestamp(date: RegExpExecArray): string | null {
  const [, monthName = '', day = '', year, time = ''] = date;
  const month = MONTHS.indexOf(monthName);
  if (month < 0 || Number(day) < 1 || Number(day) > 31) return null;
  if (year === undefined) return `${monthName} ${day.padStart(2, ' ')} ${time}`;
  return `${year}-${String(month + 1).padStart(2, '0')}-${day.padStart(2, '0')}T${time}`;
}

/** `[date] [host] [tag[pid]:] msg`: every part is optional, and a hostless `date tag: msg` is what /dev/log gets. */
function parse3164(head: Head, rest: string): SyslogMessage {
  const message: SyslogMessage = { ...head, message: '' };
  let text = rest;
  const bsd = BSD_DATE.exec(text);
  const iso = bsd ? null : ISO_DATE.exec(text);
  const timestamp = bsd ? bsdTimestamp(bsd) : iso ? (iso[1] ?? null) : null;
  if (timestamp !== null) {
    message.timestamp = timestamp;
    text = text.slice((bsd ?? iso)?.[0].length ?? 0);
    if (!TAG.test(text)) {
      const host = HOST.exec(text);
      if (host) {
        message.host = host[0].trimEnd();
        text = text.slice(host[0].length);
      }
    }
  }
  const tag = TAG.exec(text);
  if (tag) {
    message.app = tag[1];
    if (tag[2] !== undefined) message.pid = tag[2];
    text = text.slice(tag[0].length);
  }
  message.message = withoutBom(text);
  return message;
}
