import type { SecurityEvent } from '../../core/event.js';
import { normalizeIp, parseCidr } from '../../core/ip.js';
import type { SourcePosition } from '../../sources/types.js';
import type { NewDecision } from '../types.js';
import { text } from './db.js';

/**
 * What PostgreSQL writes and reads. pg returns rows in the shared shape (int8 already a number, json already
 * parsed, booleans as booleans), so the decoders of store/rows.ts read them as they come.
 */

export { auditFromRow, decisionFromRow, eventFromRow, knownGoodFromRow } from '../rows.js';
export type { AuditRow, DecisionRow, EventRow, KnownGoodRow } from '../rows.js';

/** The event columns in the order of EVENT_COLUMNS, each as one array for an UNNEST insert. */
export const EVENT_COLUMNS = [
  ['at', 'bigint'], ['kind', 'text'], ['ip', 'text'], ['ip_net', 'inet'], ['port', 'integer'], ['transport', 'text'],
  ['account', 'text'], ['domain', 'text'], ['destination', 'text'], ['user_agent', 'text'], ['call_id', 'text'],
  ['server', 'text'], ['sensor', 'text'], ['evidence', 'text'], ['pattern', 'text'], ['reason', 'text'],
  ['tampered', 'boolean'], ['candidates', 'json'], ['raw', 'text'], ['call', 'json'],
] as const;

/**
 * One INSERT for a whole batch: each column travels as one array parameter, so the statement text and its
 * parameter count stay fixed however many events there are. Ordering by the array position makes the ids
 * (drawn as rows are produced) rise in the order given.
 */
export const INSERT_EVENTS = `INSERT INTO events (${EVENT_COLUMNS.map(([name]) => name).join(', ')})
  SELECT ${EVENT_COLUMNS.map(([name]) => name).join(', ')} FROM unnest(${EVENT_COLUMNS.map(([, type], i) => `$${i + 1}::${type}[]`).join(', ')})
  WITH ORDINALITY AS batch (${EVENT_COLUMNS.map(([name]) => name).join(', ')}, position) ORDER BY position
  RETURNING id`;

/** The batch as column arrays, in EVENT_COLUMNS order. */
export function eventColumns(events: readonly SecurityEvent[]): unknown[][] {
  const columns: unknown[][] = EVENT_COLUMNS.map(() => new Array<unknown>(events.length));
  events.forEach((e, i) => {
    const row = [
      e.at, text(e.kind), text(e.ip), e.ip === undefined ? null : normalizeIp(e.ip), e.port ?? null, e.transport ?? null,
      text(e.account), text(e.domain), text(e.destination), text(e.userAgent), text(e.callId), text(e.server),
      text(e.sensor), text(e.evidence), text(e.pattern), text(e.reason), e.tampered === true,
      e.candidates === undefined ? null : JSON.stringify(e.candidates), text(e.raw),
      e.call === undefined ? null : JSON.stringify(e.call),
    ];
    row.forEach((value, c) => ((columns[c] as unknown[])[i] = value));
  });
  return columns;
}

export const INSERT_DECISION = `INSERT INTO decisions (at, target, target_type, net, action, origin, rule, reason, actor,
  duration_ms, expires_at, level, evidence, event_count, first_event_at, last_event_at, event_ids, policy, dry_run, sensor)
  VALUES ($1, $2, $3, $4::cidr, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17::json, $18::json, $19, $20)
  RETURNING *`;

/** The network of an ip target, or null: a target that is not an address is stored, but found only by its text. */
function targetNet(d: NewDecision): string | null {
  if (d.targetType !== 'ip') return null;
  try {
    const cidr = parseCidr(d.target);
    return `${cidr.network}/${cidr.prefix}`;
  } catch {
    return null;
  }
}

export function decisionParams(d: NewDecision): unknown[] {
  return [
    d.at, text(d.target), d.targetType, targetNet(d), d.action, d.origin, text(d.rule), text(d.reason), text(d.actor),
    d.durationMs ?? null, d.expiresAt ?? null, d.level, d.evidence, d.eventCount, d.firstEventAt ?? null,
    d.lastEventAt ?? null, d.eventIds === undefined ? null : JSON.stringify(d.eventIds), JSON.stringify(d.policy),
    d.dryRun, text(d.sensor),
  ];
}

/** An address or prefix as a `cidr` parameter; throws SW_ERR_IP for anything else. */
export function cidrParam(value: string): string {
  const cidr = parseCidr(value);
  return `${cidr.network}/${cidr.prefix}`;
}

export interface PositionRow {
  source_id: string;
  path: string;
  dev: number;
  ino: number;
  byte_offset: number;
  head: string;
}

export function positionFromRow(row: PositionRow): SourcePosition {
  return { sourceId: row.source_id, path: row.path, dev: row.dev, ino: row.ino, offset: row.byte_offset, head: row.head };
}
