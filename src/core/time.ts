/**
 * Log timestamps carry local wall time without a zone (Asterisk, FreeSWITCH, syslog) and often without a year
 * (`%b %e %T`). The parse context supplies both the zone and a reference instant from which the year is
 * inferred; nothing here reads the wall clock.
 */

export interface TimeContext {
  /** IANA zone name (`Europe/Berlin`), `UTC`, or `local` for the zone of this process. */
  timezone: string;
  /** Epoch ms near the records: for a live tail, now; for a replay, the file's modification time. */
  referenceTime: number;
}

const MONTHS: Record<string, number> = {
  Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11,
};

const offsetCache = new Map<string, number>();
const formatters = new Map<string, Intl.DateTimeFormat>();

function zoneFormatter(timezone: string): Intl.DateTimeFormat {
  let f = formatters.get(timezone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      hourCycle: 'h23',
      year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
    });
    formatters.set(timezone, f);
  }
  return f;
}

/** True if the zone name is one this runtime knows. */
export function isValidTimezone(timezone: string): boolean {
  if (timezone === 'local' || timezone === 'UTC') return true;
  try {
    zoneFormatter(timezone);
    return true;
  } catch {
    return false;
  }
}

/** Offset of the zone from UTC at an instant, in ms (east positive). Cached per zone and hour. */
function zoneOffset(timezone: string, at: number): number {
  const key = `${timezone}|${Math.floor(at / 3_600_000)}`;
  const cached = offsetCache.get(key);
  if (cached !== undefined) return cached;
  const parts = zoneFormatter(timezone).formatToParts(new Date(at));
  const get = (type: string): number => Number(parts.find((p) => p.type === type)?.value);
  const wall = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  const offset = wall - Math.floor(at / 1000) * 1000;
  if (offsetCache.size > 10_000) offsetCache.clear();
  offsetCache.set(key, offset);
  return offset;
}

/** Epoch ms of a wall-clock time in a zone. */
export function wallTimeToEpoch(
  timezone: string, year: number, month: number, day: number, hour: number, minute: number, second: number, ms: number,
): number {
  if (timezone === 'UTC') return Date.UTC(year, month, day, hour, minute, second, ms);
  if (timezone === 'local') return new Date(year, month, day, hour, minute, second, ms).getTime();
  const guess = Date.UTC(year, month, day, hour, minute, second, ms);
  const first = guess - zoneOffset(timezone, guess);
  const second2 = guess - zoneOffset(timezone, first);
  return second2;
}

const ISO_LIKE = /^(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:[.,](\d{1,9}))?(?:\s*(Z|[+-]\d\d:?\d\d))?$/;
const BSD = /^([A-Z][a-z]{2}) {1,2}(\d{1,2}) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?$/;
const MONTH_DAY = /^(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?$/;
const SEC_USEC = /^(\d{9,11})-(\d{1,6})$/;

function fraction(text: string | undefined): number {
  if (!text) return 0;
  return Math.floor(Number(text.padEnd(3, '0').slice(0, 3)));
}

/** Picks the year for a yearless date so that it does not lie more than two days after the reference. */
function inferYear(ctx: TimeContext, month: number, day: number, build: (year: number) => number): number {
  const refYear = new Date(ctx.referenceTime).getUTCFullYear();
  const candidate = build(refYear);
  if (candidate > ctx.referenceTime + 2 * 86_400_000) return build(refYear - 1);
  if (candidate < ctx.referenceTime - 340 * 86_400_000 && month === 0 && day < 32) return build(refYear + 1);
  return candidate;
}

function digits(text: string, start: number, count: number): number {
  let value = 0;
  for (let i = start; i < start + count; i++) {
    const c = text.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    value = value * 10 + c;
  }
  return value;
}

interface DateTime {
  y: number;
  mo: number;
  d: number;
  h: number;
  mi: number;
  s: number;
}

/**
 * `YYYY-MM-DD?HH:MM:SS` at the start of `text` (any single separator between date and time), digits and ranges
 * checked, or null. Shared by the regex-free fast paths below.
 */
function readDateTime(text: string): DateTime | null {
  if (text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45 || text.charCodeAt(13) !== 58 || text.charCodeAt(16) !== 58) return null;
  const y = digits(text, 0, 4);
  const mo = digits(text, 5, 2);
  const d = digits(text, 8, 2);
  const h = digits(text, 11, 2);
  const mi = digits(text, 14, 2);
  const s = digits(text, 17, 2);
  if ((y | mo | d | h | mi | s) < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return null;
  return { y, mo, d, h, mi, s };
}

/**
 * `2015-05-24T08:42:16.296+0300`, the EventTV of every Asterisk security event, read without a regex: each
 * one is unique to the millisecond, so no memo helps, and the regex path costs more than the rest of the line.
 */
function isoWithOffset(text: string): number | null {
  if (text.length !== 28 || text.charCodeAt(10) !== 84 /* T */ || text.charCodeAt(19) !== 46 /* . */) return null;
  const sign = text.charCodeAt(23);
  if (sign !== 43 && sign !== 45) return null;
  const t = readDateTime(text);
  const ms = digits(text, 20, 3);
  const oh = digits(text, 24, 2);
  const om = digits(text, 26, 2);
  if (!t || (ms | oh | om) < 0 || oh > 23 || om > 59) return null;
  const offset = (sign === 45 ? -1 : 1) * (oh * 60 + om) * 60_000;
  return Date.UTC(t.y, t.mo - 1, t.d, t.h, t.mi, t.s, ms) - offset;
}

/** `2024-01-01 12:00:00` with optional `.123` (Asterisk's `%F %T[.%3q]`), read without a regex. */
function localDateTime(text: string, timezone: string): number | null {
  const length = text.length;
  if ((length !== 19 && length !== 23) || text.charCodeAt(10) !== 32) return null;
  const t = readDateTime(text);
  const ms = length === 19 ? 0 : text.charCodeAt(19) === 46 ? digits(text, 20, 3) : -1;
  if (!t || ms < 0) return null;
  return wallTimeToEpoch(timezone, t.y, t.mo - 1, t.d, t.h, t.mi, t.s, ms);
}

/**
 * Parses the timestamp forms that VoIP servers write: `%F %T[.%q]`, ISO 8601 with an optional offset,
 * `%b %e %T[.%q]` (syslog and Asterisk's default), FreeSWITCH's `MM-DD HH:MM:SS.uuuuuu`, and Asterisk 1.8-11's
 * `sec-usec`. Returns epoch ms, or null when the text is none of these.
 */
export function parseTimestamp(text: string, ctx: TimeContext): number | null {
  const fast = isoWithOffset(text) ?? localDateTime(text, ctx.timezone);
  if (fast !== null) return fast;
  let m = ISO_LIKE.exec(text);
  if (m) {
    const [, y, mo, d, h, mi, s, frac, zone] = m;
    // Date.UTC would roll an out-of-range field into the next unit; such a stamp is not a date at all.
    if (!readDateTime(`${y}-${mo}-${d}T${h}:${mi}:${s}`)) return null;
    const ms = fraction(frac);
    if (zone) {
      const utc = Date.UTC(+y!, +mo! - 1, +d!, +h!, +mi!, +s!, ms);
      if (zone === 'Z') return utc;
      const sign = zone[0] === '-' ? -1 : 1;
      const digits = zone.replace(':', '');
      const offset = sign * (Number(digits.slice(1, 3)) * 60 + Number(digits.slice(3, 5))) * 60_000;
      return utc - offset;
    }
    return wallTimeToEpoch(ctx.timezone, +y!, +mo! - 1, +d!, +h!, +mi!, +s!, ms);
  }
  m = BSD.exec(text);
  if (m) {
    const month = MONTHS[m[1] as string];
    if (month === undefined) return null;
    const [, , d, h, mi, s, frac] = m;
    return inferYear(ctx, month, +d!, (year) => wallTimeToEpoch(ctx.timezone, year, month, +d!, +h!, +mi!, +s!, fraction(frac)));
  }
  m = MONTH_DAY.exec(text);
  if (m) {
    const [, mo, d, h, mi, s, frac] = m;
    return inferYear(ctx, +mo! - 1, +d!, (year) => wallTimeToEpoch(ctx.timezone, year, +mo! - 1, +d!, +h!, +mi!, +s!, fraction(frac)));
  }
  m = SEC_USEC.exec(text);
  if (m) return Number(m[1]) * 1000 + Math.floor(Number(m[2]) / 1000);
  return null;
}

/**
 * A one-entry memo around parseTimestamp: consecutive log lines mostly share their timestamp text, and the
 * full parse costs more than the rest of a line's work.
 */
export class TimestampCache {
  private lastText = '';
  private lastValue: number | null = null;
  private lastTz = '';
  private lastRef = Number.NaN;

  /** Like parse, for the date at line[start, end), without cutting it out when it repeats the last one. */
  parseIn(line: string, start: number, end: number, ctx: TimeContext): number | null {
    const last = this.lastText;
    if (
      end - start === last.length && line.startsWith(last, start) && ctx.timezone === this.lastTz &&
      Math.abs(ctx.referenceTime - this.lastRef) < 86_400_000
    ) {
      return this.lastValue;
    }
    return this.parse(line.slice(start, end), ctx);
  }

  /** The reference only decides the year of yearless dates, so small moves of it keep the memo. */
  parse(text: string, ctx: TimeContext): number | null {
    if (
      text === this.lastText && ctx.timezone === this.lastTz && Math.abs(ctx.referenceTime - this.lastRef) < 86_400_000
    ) {
      return this.lastValue;
    }
    this.lastText = text;
    this.lastTz = ctx.timezone;
    this.lastRef = ctx.referenceTime;
    this.lastValue = parseTimestamp(text, ctx);
    return this.lastValue;
  }
}
