import type { SyslogMessage } from './message.js';

/** Sends the messages of one program and/or one sending host to one format's line parser. */
export interface SyslogRoute {
  /** Program name, matched against the basename of the message's app (`/usr/sbin/kamailio` is `kamailio`). */
  app?: string;
  /** Sending host as the message names it, compared without regard to case. */
  host?: string;
  format: string;
}

function basename(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/**
 * The format of the first route whose app and host (those it names) both match, or null when none does. A route
 * that names neither matches every message, so it can close the list as a default.
 */
export function routeFormat(message: SyslogMessage, routes: readonly SyslogRoute[]): string | null {
  const program = message.app === undefined ? undefined : basename(message.app);
  const host = message.host?.toLowerCase();
  for (const route of routes) {
    if (route.app !== undefined && route.app !== program) continue;
    if (route.host !== undefined && route.host.toLowerCase() !== host) continue;
    return route.format;
  }
  return null;
}

/** What may stand in the `app[pid]:` slot of a syslog file line without moving where the parsers cut it. */
const SAFE_APP = /^[^\s[\]:]{1,255}$/;
const SAFE_HOST = /^[\x21-\x7e]{1,255}$/;

/**
 * The line a format's parser reads for this message: the line rsyslog or syslog-ng would have written to a
 * file, `DATE HOST APP[PID]: MESSAGE`. Every built-in parser knows that form (for Kamailio, OpenSIPS and
 * Asterisk the message itself starts with the server's `LEVEL`), so a message received over the network yields
 * the same events, dated by its own timestamp, as the same message read from /var/log.
 *
 * The parsers anchor on the shape of that prefix, not on its values, so a missing host or a PID that is not a
 * number is written as a placeholder (`localhost`, `0`). FreeSWITCH's prefix is recognised by the program
 * name, so another name is written as `freeswitch`.
 *
 * A message without a date has no file form. Asterisk and FreeSWITCH lines carry their own prefix and are
 * passed as they are; Kamailio's gets its stderr form (` 0(PID) LEVEL: ...`); both are dated by the parse
 * context's reference time. OpenSIPS has no dateless form, so a listener should stamp such messages with the
 * time of receipt before calling this.
 */
/** Kamailio's own stderr prefix (` 2(29318) WARNING: `), as `kamailio -E | logger` or a service manager forwards it. */
const KAMAILIO_STDERR = /^\s*\d+\(\d+\) [A-Z]+: /;

export function lineFor(message: SyslogMessage, format: string): string {
  const pid = message.pid !== undefined && /^\d{1,10}$/.test(message.pid) ? message.pid : '0';
  // Already in the stderr form the parser reads; a syslog prefix in front would hide it. Its time is the receive time.
  if (format === 'kamailio' && KAMAILIO_STDERR.test(message.message)) return message.message;
  if (message.timestamp === undefined) {
    return format === 'kamailio' ? ` 0(${pid}) ${message.message}` : message.message;
  }
  const host = message.host !== undefined && SAFE_HOST.test(message.host) ? message.host : 'localhost';
  let app = message.app !== undefined && SAFE_APP.test(message.app) ? message.app : format;
  if (format === 'freeswitch' && !app.endsWith('freeswitch')) app = 'freeswitch';
  return `${message.timestamp} ${host} ${app}[${pid}]: ${message.message}`;
}
