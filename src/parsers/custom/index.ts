import { boundRaw, EVENT_KINDS, EVIDENCE_CLASSES, type EventKind, type Evidence, type SecurityEvent } from '../../core/event.js';
import { swError } from '../../core/errors.js';
import { parseEndpoint } from '../../core/ip.js';
import { TimestampCache } from '../../core/time.js';
import { NO_EVENTS, type LineParser, type ParseContext } from '../types.js';

/**
 * Operator-defined formats: a list of regular expressions with named groups, tried in order (first match wins),
 * then, if the format extends a built-in one, the built-in parser.
 *
 * Named groups: `ip` (required: `1.2.3.4`, `1.2.3.4:5060`, `[2001:db8::1]:5060` or a bare IPv6 address), and
 * optionally `port`, `account`, `destination`, `at` (a timestamp; else ctx.referenceTime) and `userAgent`.
 * The operator decides which part of their line is server-written; the `ip` group must point there.
 *
 * Operator regexes run on untrusted lines and JavaScript regexes backtrack, so a careless pattern can take
 * exponential time on a crafted line. Lines longer than CUSTOM_LINE_LIMIT skip the custom patterns (the base
 * parser still sees them): that bounds the input a pathological pattern gets, without blocking real log lines.
 */

export interface CustomPatternSpec {
  id?: string;
  regex: string;
  kind: EventKind;
  evidence?: Evidence;
}

export interface CustomFormatSpec {
  name: string;
  patterns: CustomPatternSpec[];
}

export const CUSTOM_LINE_LIMIT = 8192;
const GROUPS = ['ip', 'port', 'account', 'destination', 'at', 'userAgent'] as const;

interface CompiledPattern {
  id: string;
  regex: RegExp;
  kind: EventKind;
  evidence: Evidence;
}

/** Names of every named group in a regex: an empty alternative makes exec('') match and list them all. */
function groupNames(source: string): string[] {
  return Object.keys(new RegExp(`(?:${source})|`).exec('')?.groups ?? {});
}

function compile(format: string, spec: CustomPatternSpec, index: number, ids: Map<string, number>): CompiledPattern {
  const where = `formats.${format}.patterns[${index}]${spec.id === undefined ? '' : ` (id "${spec.id}")`}`;
  const fail = (what: string, cause?: unknown): never => {
    throw swError('SW_ERR_PATTERN', `${where}: ${what}`, cause);
  };
  if (typeof spec.regex !== 'string') fail('regex must be a string');
  let regex: RegExp;
  try {
    regex = new RegExp(spec.regex);
  } catch (error) {
    return fail(`regex does not compile: ${(error as Error).message}`, error);
  }
  const names = groupNames(spec.regex);
  if (!names.includes('ip')) fail('regex has no named group "ip"');
  const unknown = names.find((n) => !(GROUPS as readonly string[]).includes(n));
  if (unknown !== undefined) fail(`regex has an unknown named group "${unknown}" (allowed: ${GROUPS.join(', ')})`);
  if (!(EVENT_KINDS as readonly string[]).includes(spec.kind)) {
    fail(`kind "${String(spec.kind)}" is not one of ${EVENT_KINDS.filter((k) => k !== 'tampered').join(', ')}`);
  }
  // A tampered event has no address by definition, and every custom pattern yields one.
  if (spec.kind === 'tampered') fail('kind "tampered" is set by parsers that detect injection, not by patterns');
  const evidence = spec.evidence ?? 'spoofable';
  if (!(EVIDENCE_CLASSES as readonly string[]).includes(evidence)) {
    fail(`evidence "${String(evidence)}" is not one of ${EVIDENCE_CLASSES.join(', ')}`);
  }
  const id = spec.id ?? `${format}-${index}`;
  const earlier = ids.get(id);
  if (earlier !== undefined) fail(`id "${id}" is already used by patterns[${earlier}]`);
  ids.set(id, index);
  return { id, regex, kind: spec.kind, evidence };
}

function portOf(text: string | undefined): number | undefined {
  if (text === undefined || !/^\d{1,5}$/.test(text)) return undefined;
  const port = Number(text);
  return port <= 65535 ? port : undefined;
}

/** Throws SW_ERR_PATTERN, naming the format, the pattern and the fault, for any invalid pattern. */
export function createCustomParser(spec: CustomFormatSpec, base?: LineParser): LineParser {
  const ids = new Map<string, number>();
  const compiled = spec.patterns.map((pattern, index) => compile(spec.name, pattern, index, ids));
  const server = base?.server ?? 'custom';
  const timestamps = new TimestampCache();

  function toEvent(pattern: CompiledPattern, groups: Record<string, string | undefined>, line: string, ctx: ParseContext): SecurityEvent | null {
    const endpoint = groups['ip'] === undefined ? null : parseEndpoint(groups['ip']);
    if (!endpoint) return null;
    const at = groups['at'] === undefined ? null : timestamps.parse(groups['at'], ctx);
    const event: SecurityEvent = { at: at ?? ctx.referenceTime, kind: pattern.kind, ip: endpoint.ip, server, evidence: pattern.evidence, pattern: pattern.id, raw: boundRaw(line) };
    const port = portOf(groups['port']) ?? endpoint.port;
    if (port !== undefined) event.port = port;
    if (groups['account']) event.account = groups['account'];
    if (groups['destination']) event.destination = groups['destination'];
    if (groups['userAgent']) event.userAgent = groups['userAgent'];
    return event;
  }

  return {
    format: spec.name,
    server,
    patterns: [...compiled.map((p) => p.id), ...(base?.patterns ?? [])],
    parse(line: string, ctx: ParseContext): readonly SecurityEvent[] {
      if (line.length <= CUSTOM_LINE_LIMIT) {
        for (const pattern of compiled) {
          const m = pattern.regex.exec(line);
          if (!m) continue;
          // The first matching pattern owns the line, even when its `ip` is not an address.
          const event = toEvent(pattern, m.groups ?? {}, line, ctx);
          return event ? [event] : NO_EVENTS;
        }
      }
      return base ? base.parse(line, ctx) : NO_EVENTS;
    },
  };
}
