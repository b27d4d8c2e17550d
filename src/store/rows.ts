import type { CallFacts, EventKind, Evidence, Server, Transport } from '../core/event.js';
import type { ApiToken, AuditEntry, Decision, DecisionAction, DecisionOrigin, KnownGoodPair, PolicyStep, Role, StoredEvent } from './types.js';

/**
 * Rows as every store reads them once its driver's own encodings are undone (JSON parsed, booleans as booleans),
 * and the mapping to the domain types. Optional fields map from NULL to an absent property (not `undefined`), so
 * what a caller stores is what it reads back, whichever store holds it.
 */

export type Nullable<T> = T | null;

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

export interface TokenRow {
  id: number;
  name: string;
  role: string;
  created_at: number;
  created_by: string;
  last_used_at: number | null;
  revoked_at: number | null;
}

export function tokenFromRow(row: TokenRow): ApiToken {
  return {
    id: row.id, name: row.name, role: row.role as Role, createdAt: row.created_at, createdBy: row.created_by,
    ...(row.last_used_at !== null ? { lastUsedAt: row.last_used_at } : {}),
    ...(row.revoked_at !== null ? { revokedAt: row.revoked_at } : {}),
  };
}
