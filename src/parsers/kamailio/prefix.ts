/**
 * What Kamailio (or syslog) writes before `LEVEL: `:
 *
 *   stderr (-E):  ` 2(29318) WARNING: ...`                 no date: the event takes ctx.referenceTime
 *   syslog:       `Jan  1 12:00:00 host /usr/sbin/kamailio[1234]: WARNING: ...` (also RFC 3339 dates)
 *
 * After `LEVEL: ` come the optional core `log_prefix`, then a structural marker: `<script>: ` for xlog, or
 * `module [file.c:NN]: ` for module messages. See firstMarker.
 */

const LEVELS = '(?:ALERT|BUG|CRITICAL|ERROR|WARNING|NOTICE|INFO|DEBUG)';
const STDERR = new RegExp(String.raw`^\s{0,8}\d+\(\d+\) ${LEVELS}: `);
const SYSLOG = new RegExp(
  String.raw`^([A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d(?:\.\d{1,9})?|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?(?:Z|[+-]\d\d:?\d\d)?) \S+ \S+\[\d+\]: ${LEVELS}: `,
);

export interface KamailioPrefix {
  /** The syslog date, absent on stderr lines. */
  date?: string;
  bodyStart: number;
}

export function parseKamailioPrefix(line: string): KamailioPrefix | null {
  const stderr = STDERR.exec(line);
  if (stderr) return { bodyStart: stderr[0].length };
  const syslog = SYSLOG.exec(line);
  if (syslog) return { date: syslog[1] as string, bodyStart: syslog[0].length };
  return null;
}

/**
 * Offset of the first structural marker in the body (after `LEVEL: `), or -1. Kamailio writes the marker before
 * any message text, so attacker text in a message can only come after it; a key phrase found before the first
 * marker, or away from where that marker puts it, was not written by the server.
 */
export function firstMarker(line: string, bodyStart: number): number {
  const script = line.indexOf('<script>: ', bodyStart);
  const module = line.indexOf(']: ', bodyStart);
  if (script < 0) return module;
  if (module < 0) return script;
  return Math.min(script, module);
}
