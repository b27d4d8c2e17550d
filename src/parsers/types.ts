import type { SecurityEvent, Server } from '../core/event.js';
import type { TimeContext } from '../core/time.js';

/** The formats sipwarden parses without configuration. */
export const BUILTIN_FORMATS = ['asterisk', 'asterisk-security', 'asterisk-cdr', 'freeswitch', 'freeswitch-cdr', 'kamailio', 'opensips'] as const;

/** What a parser may know besides the line: the zone of the timestamps and a reference instant for the year. */
export type ParseContext = TimeContext;

/**
 * A parser turns one log line into zero or more events.
 *
 * Contract:
 * - Pure: no I/O, no clock, no state that changes what a later line yields (a timestamp memo is fine).
 * - Never throws, for any input string (garbage, binary, 1 MB lines). Unknown lines yield NO_EVENTS.
 * - Takes the address only from server-written positions. When the line shows injection (a delimiter that
 *   anchors the address appears more than once, a second RemoteAddress, ...) it yields one event of kind
 *   `tampered` with `tampered: true`, every address seen in `candidates`, and no `ip`.
 * - `at` comes from the line's own timestamp; a line without one gets `ctx.referenceTime`.
 * - `raw` is the line cut to RAW_LIMIT (core/event.ts boundRaw).
 */
export interface LineParser {
  /** The format name used in config and on the command line, e.g. `asterisk`. */
  readonly format: string;
  readonly server: Server;
  /** Ids of every pattern this parser knows; each needs a matching sample and a near miss (parsers/samples.ts). */
  readonly patterns: readonly string[];
  parse(line: string, ctx: ParseContext): readonly SecurityEvent[];
}

export const NO_EVENTS: readonly SecurityEvent[] = Object.freeze([]);
