import type { CallFacts, EventKind, Evidence, SecurityEvent, Server, Transport } from '../../core/event.js';
import { normalizeIp, parseCidr } from '../../core/ip.js';
import type { SourcePosition } from '../../sources/types.js';
import type { AuditEntry, Decision, DecisionAction, DecisionOrigin, KnownGoodPair, NewDecision, PolicyStep, StoredEvent } from '../types.js';
import { text } from './db.js';

/**
 * Row shapes as pg returns them (int8 already a number, json already parsed), and the mapping both ways.
 * Optional fields map to NULL and back to an absent property, so what a caller stores is what it reads back.
 */

type Nullable<T> = T | null;

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

export interface EventRow {
  id: number;
  at: number;
  kind: string;
  ip: Nullable<string>;
  port: Nullable<number>;
  transport: Nullable<string>;
  account: Nullable<string>;
  domain: Nullable<string>;
  destination: Nullable<string>;
  user_agent: Nullable<string>;
  call_id: Nullable<string>;
  server: string;
  sensor: Nullable<string>;
  evidence: string;
  pattern: Nullable<string>;
  reason: Nullable<string>;
  tampered: boolean;
  candidates: Nullable<string[]>;
  raw: string;
  call: Nullable<CallFacts>;
}

export function eventFromRow(row: EventRow): StoredEvent {
  const event: StoredEvent = {
    id: row.id, at: row.at, kind: row.kind as EventKind, server: row.server as Server, evidence: row.evidence as Evidence, raw: row.raw,
  };
  if (row.ip !== null) event.ip = row.ip;
  if (row.port !== null) event.port = row.port;
  if (row.transport !== null) event.transport = row.transport as Transport;
  if (row.account !== null) event.account = row.account;
  if (row.domain !== null) event.domain = row.domain;
  if (row.destination !== null) event.destination = row.destination;
  if (row.user_agent !== null) event.userAgent = row.user_agent;
  if (row.call_id !== null) event.callId = row.call_id;
  if (row.sensor !== null) event.sensor = row.sensor;
  if (row.pattern !== null) event.pattern = row.pattern;
  if (row.reason !== null) event.reason = row.reason;
  if (row.tampered) event.tampered = true;
  if (row.candidates !== null) event.candidates = row.candidates;
  if (row.call !== null) event.call = row.call;
  return event;
}

export interface DecisionRow {
  id: number;
  at: number;
  target: string;
  target_type: string;
  action: string;
  origin: string;
  rule: Nullable<string>;
  reason: string;
  actor: Nullable<string>;
  duration_ms: Nullable<number>;
  expires_at: Nullable<number>;
  level: number;
  evidence: string;
  event_count: number;
  first_event_at: Nullable<number>;
  last_event_at: Nullable<number>;
  event_ids: Nullable<number[]>;
  policy: PolicyStep[];
  dry_run: boolean;
  sensor: Nullable<string>;
  revoked_at: Nullable<number>;
  revoked_by: Nullable<string>;
  revoke_reason: Nullable<string>;
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

export function decisionFromRow(row: DecisionRow): Decision {
  const action = row.action as DecisionAction;
  const decision: Decision = {
    id: row.id, at: row.at, target: row.target, targetType: row.target_type as Decision['targetType'], action,
    origin: row.origin as DecisionOrigin, reason: row.reason, level: row.level, evidence: row.evidence as Evidence,
    eventCount: row.event_count, policy: row.policy, dryRun: row.dry_run,
  };
  if (row.rule !== null) decision.rule = row.rule;
  if (row.actor !== null) decision.actor = row.actor;
  // A ban without a length is permanent (null); a report has no length at all, so NULL reads back as absent.
  if (row.duration_ms !== null || action === 'ban') decision.durationMs = row.duration_ms;
  if (row.expires_at !== null || action === 'ban') decision.expiresAt = row.expires_at;
  if (row.first_event_at !== null) decision.firstEventAt = row.first_event_at;
  if (row.last_event_at !== null) decision.lastEventAt = row.last_event_at;
  if (row.event_ids !== null) decision.eventIds = row.event_ids;
  if (row.sensor !== null) decision.sensor = row.sensor;
  if (row.revoked_at !== null) decision.revokedAt = row.revoked_at;
  if (row.revoked_by !== null) decision.revokedBy = row.revoked_by;
  if (row.revoke_reason !== null) decision.revokeReason = row.revoke_reason;
  return decision;
}

/** An address or prefix as a `cidr` parameter; throws SW_ERR_IP for anything else. */
export function cidrParam(value: string): string {
  const cidr = parseCidr(value);
  return `${cidr.network}/${cidr.prefix}`;
}

export interface KnownGoodRow {
  ip: string;
  account: string;
  first_seen: number;
  last_seen: number;
  count: number;
}

export function knownGoodFromRow(row: KnownGoodRow): KnownGoodPair {
  return { ip: row.ip, account: row.account, firstSeen: row.first_seen, lastSeen: row.last_seen, count: row.count };
}

export interface AuditRow {
  id: number;
  at: number;
  actor: string;
  action: string;
  target: string;
  reason: string;
  detail: Nullable<string>;
}

export function auditFromRow(row: AuditRow): AuditEntry {
  const entry: AuditEntry = { at: row.at, actor: row.actor, action: row.action, target: row.target, reason: row.reason };
  if (row.detail !== null) entry.detail = row.detail;
  return entry;
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
