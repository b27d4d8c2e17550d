import type { TimeContext } from '../../core/time.js';
import { TimestampCache } from '../../core/time.js';

/**
 * Finds the parts of an Asterisk logger line by index, without allocating: most lines of a real log are noise
 * and must cost a few character comparisons. The security log is written by the same logger, so both Asterisk
 * parsers share this. Forms (main/logger.c):
 *
 *   [date] LEVEL[lwp][C-xxxxxxxx] file: msg                                   default formatter
 *   [date] LEVEL[lwp][C-xxxxxxxx]: file:line func: msg                        plain formatter
 *   Mon dd hh:mm:ss host asterisk[pid]: LEVEL[lwp]: file:line in func: msg    syslog
 *
 * Quirks seen in the wild: `NOTICE [22382]` (a space before the lwp), a file field with spaces (`Ext. s`, from
 * the dialplan Log() app), and two spaces after `file:` (ast_trace_log prepends one to the message).
 */

export const Level = { Other: 0, Notice: 1, Warning: 2, Error: 3, Verbose: 4, Security: 5 } as const;
export type Level = (typeof Level)[keyof typeof Level];

const SPACE = 32;
const COLON = 58;
const OPEN = 91; // [
const CLOSE = 93; // ]

function isUpper(c: number): boolean {
  return c >= 65 && c <= 90;
}

function isLower(c: number): boolean {
  return c >= 97 && c <= 122;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/**
 * The level from its length and first two letters, with no string compare: this runs for every line of the
 * log. Asterisk writes the level itself, so nothing a caller sends can land here; a level that is not one of
 * these is noise.
 */
function levelOf(line: string, start: number, end: number): Level {
  const first = line.charCodeAt(start);
  const second = line.charCodeAt(start + 1);
  switch (end - start) {
    case 5:
      return first === 69 /* E */ && second === 82 /* R */ ? Level.Error : Level.Other;
    case 6:
      return first === 78 /* N */ && second === 79 /* O */ ? Level.Notice : Level.Other;
    case 7:
      if (first === 87 /* W */ && second === 65 /* A */) return Level.Warning;
      return first === 86 /* V */ && second === 69 /* E */ ? Level.Verbose : Level.Other;
    case 8:
      return first === 83 /* S */ && second === 69 /* E */ ? Level.Security : Level.Other;
    default:
      return Level.Other;
  }
}

/** One reusable view of the current line; `locate` fills it in. */
export class LogLine {
  line = '';
  /** The date text is line.slice(dateStart, dateEnd); dateStart < 0 when the line has none. */
  dateStart = -1;
  dateEnd = -1;
  level: Level = Level.Other;
  /** First character of the source-file field (`chan_sip.c`, `res_pjsip/pjsip_distributor.c`, `Ext. s`). */
  fileStart = 0;
  private readonly dates = new TimestampCache();

  /** False when the line is not an Asterisk logger line. */
  locate(line: string): boolean {
    this.line = line;
    this.dateStart = -1;
    let pos = 0;
    let c = line.charCodeAt(0);
    if (c === 60 /* < syslog priority */) {
      pos = line.indexOf('>');
      if (pos < 0 || pos > 5) return false;
      c = line.charCodeAt(++pos);
    }
    if (c === OPEN) {
      // `%b %e %T` and `%F %T` (the two usual date formats) put the bracket at a fixed column. Column 16 is
      // checked first: in a `%F %T` date it holds a digit, while after a `%b %e %T` date column 20 is text.
      const close =
        line.charCodeAt(pos + 16) === CLOSE ? pos + 16 : line.charCodeAt(pos + 20) === CLOSE ? pos + 20 : line.indexOf(']', pos + 1);
      if (close < 0 || close > pos + 40) return false;
      this.dateStart = pos + 1;
      this.dateEnd = close;
      pos = close + 1;
      while (line.charCodeAt(pos) === SPACE) pos++;
    } else if (isUpper(c) ? isLower(line.charCodeAt(pos + 1)) : isDigit(c)) {
      pos = this.skipSyslogHeader(pos);
      if (pos < 0) return false;
    }
    const levelStart = pos;
    while (isUpper(line.charCodeAt(pos))) pos++;
    this.level = levelOf(line, levelStart, pos);
    if (this.level === Level.Other) return false;
    if (line.charCodeAt(pos) === SPACE) pos++;
    if (line.charCodeAt(pos) !== OPEN) return false;
    pos++;
    while (isDigit(line.charCodeAt(pos))) pos++;
    if (line.charCodeAt(pos) !== CLOSE) return false;
    pos++;
    if (line.charCodeAt(pos) === OPEN) {
      const close = line.indexOf(']', pos);
      if (close < 0 || close > pos + 14) return false;
      pos = close + 1;
    }
    if (line.charCodeAt(pos) === COLON) pos++;
    if (line.charCodeAt(pos) !== SPACE) return false;
    this.fileStart = pos + 1;
    return true;
  }

  /**
   * `Nov  4 18:30:40 host asterisk[32229]: ` or an RFC 3339 stamp (`2024-01-01T12:00:00.123+01:00 host ...`).
   * Returns the index of the level, or -1.
   */
  private skipSyslogHeader(start: number): number {
    const line = this.line;
    let pos = start;
    if (isDigit(line.charCodeAt(start))) {
      pos = line.indexOf(' ', start);
      if (pos < 0 || pos > start + 40) return -1;
    } else {
      pos += 3;
      while (line.charCodeAt(pos) === SPACE) pos++;
      while (isDigit(line.charCodeAt(pos))) pos++;
      if (line.charCodeAt(pos) !== SPACE || line.charCodeAt(pos + 3) !== COLON) return -1;
      pos += 9;
      if (line.charCodeAt(pos) === 46 /* . */) {
        pos++;
        while (isDigit(line.charCodeAt(pos))) pos++;
      }
    }
    this.dateStart = start;
    this.dateEnd = pos;
    const tagEnd = line.indexOf(': ', pos + 1);
    if (tagEnd < 0 || tagEnd > pos + 300) return -1;
    return tagEnd + 2;
  }

  /**
   * Index of the message after a known file name ending at `afterFile`: `: msg` (default), `:123 func: msg`
   * (plain) or `:123 in func: msg` (syslog). Leading spaces of the message are skipped. -1 if neither.
   */
  messageAfter(afterFile: number): number {
    const line = this.line;
    if (line.charCodeAt(afterFile) !== COLON) return -1;
    let pos = afterFile + 1;
    if (isDigit(line.charCodeAt(pos))) {
      while (isDigit(line.charCodeAt(pos))) pos++;
      if (line.charCodeAt(pos) !== SPACE) return -1;
      pos++;
      if (line.startsWith('in ', pos)) pos += 3;
      const funcEnd = line.indexOf(': ', pos);
      if (funcEnd < 0 || funcEnd > pos + 80) return -1;
      pos = funcEnd + 1;
    }
    if (line.charCodeAt(pos) !== SPACE) return -1;
    while (line.charCodeAt(pos) === SPACE) pos++;
    return pos;
  }

  /** Index of the message when the file field is exactly `file`, else -1. */
  messageOf(file: string): number {
    return this.line.startsWith(file, this.fileStart) ? this.messageAfter(this.fileStart + file.length) : -1;
  }

  /** The line's own time; a line without a readable date gets the reference time. */
  at(ctx: TimeContext): number {
    if (this.dateStart < 0) return ctx.referenceTime;
    return this.dates.parseIn(this.line, this.dateStart, this.dateEnd, ctx) ?? ctx.referenceTime;
  }
}
