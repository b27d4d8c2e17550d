/**
 * The part of a FreeSWITCH log line that FreeSWITCH (or syslog/journald) writes before the message:
 *
 *   [syslog date host freeswitch[pid]: ] [call-uuid ] YYYY-MM-DD HH:MM:SS.uuuuuu [NN.NN%] [LEVEL] file.c:LINE message
 *
 * plus the old `MM-DD ... [WARN] [SOFIA] [file.c:LINE]` variant (gh-2193). Everything here is server-written, so
 * it is parsed from the left; the message that follows may hold attacker text and is handled by the caller.
 */

const FS_DATE = String.raw`(?:\d{4}-)?\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}`;
const SYSLOG_HEAD = String.raw`(?:(?:[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d|\S+) \S+ \S*freeswitch\[\d+\]: )?`;
const CALL_UUID = String.raw`(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12} )?`;

/** Every quantifier is bounded by a space or a fixed token, so the match is linear even on megabyte lines. */
const FS_PREFIX = new RegExp(
  `^${SYSLOG_HEAD}${CALL_UUID}(${FS_DATE})(?: \\S+ \\S*freeswitch\\[\\d+\\]: ${FS_DATE})?` +
    String.raw`(?: \d+\.\d\d%)? \[[A-Z]+\](?: \[[A-Z]+\])? \[?[\w.]+:\d+\]? `,
);

export interface FreeswitchPrefix {
  /** FreeSWITCH's own timestamp (with or without the year). */
  date: string;
  /** Offset of the message in the line. */
  messageStart: number;
}

export function parseFreeswitchPrefix(line: string): FreeswitchPrefix | null {
  const m = FS_PREFIX.exec(line);
  if (!m) return null;
  return { date: m[1] as string, messageStart: m[0].length };
}
