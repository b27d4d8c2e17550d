import type { EventKind, Evidence, SecurityEvent } from '../core/event.js';
import type { SourcePosition } from '../sources/types.js';

/** One step of the policy path, kept on every decision so `why` can replay the reasoning. */
export interface PolicyStep {
  /** e.g. `allowlist`, `known-good`, `evidence`, `budget`, `escalation`, `scope`, `dry-run`, `existing`. */
  check: string;
  /** `pass` lets the ban go on; `block` stopped it; `info` only records a fact. */
  result: 'pass' | 'block' | 'info';
  detail: string;
}

export type DecisionAction = 'ban' | 'report';
export type DecisionOrigin = 'rule' | 'manual' | 'feed';

export interface NewDecision {
  /** When the decision was made: the triggering event's time for rule decisions, wall time for manual ones. */
  at: number;
  /** An address or prefix in canonical form (`1.2.3.4`, `2001:db8::/64`), or an account name. */
  target: string;
  targetType: 'ip' | 'account';
  /** `ban` is enforced (unless dryRun); `report` records a finding that was not enforced, with the reason. */
  action: DecisionAction;
  origin: DecisionOrigin;
  rule?: string;
  reason: string;
  /** Who made a manual decision (`root@pbx1`); absent for rule decisions. */
  actor?: string;
  /** Ban length in ms; null means permanent. Absent for reports. */
  durationMs?: number | null;
  expiresAt?: number | null;
  /** Escalation level: 0 for a first ban, n for the n-th repeat inside the escalation window. */
  level: number;
  evidence: Evidence;
  eventCount: number;
  firstEventAt?: number;
  lastEventAt?: number;
  /** Ids of (up to 20) stored events that led to it. */
  eventIds?: number[];
  policy: PolicyStep[];
  dryRun: boolean;
  sensor?: string;
}

export interface Decision extends NewDecision {
  id: number;
  revokedAt?: number;
  revokedBy?: string;
  revokeReason?: string;
}

export interface StoredEvent extends SecurityEvent {
  id: number;
}

export interface EventQuery {
  /** Exact canonical address. */
  ip?: string;
  /** All addresses inside a prefix (`1.2.3.0/24`). */
  cidr?: string;
  account?: string;
  /** Only events with `at >= since`. */
  since?: number;
  /** Newest first, at most this many (default 100). */
  limit?: number;
}

export interface KnownGoodPair {
  ip: string;
  account: string;
  firstSeen: number;
  lastSeen: number;
  count: number;
}

export interface AuditEntry {
  at: number;
  actor: string;
  action: string;
  target: string;
  reason: string;
  /** Free-form detail, e.g. the decision id. */
  detail?: string;
}

export interface RetentionPolicy {
  /** Drop events older than this (ms). */
  maxAgeMs: number;
  /** Keep at most this many events; the oldest go first. */
  maxEvents: number;
}

/**
 * The store keeps events, decisions, known-good pairs, the audit trail and source positions.
 *
 * Contract (every implementation passes store/contract.ts):
 * - All methods are async and safe to call from one process while another process (the CLI) uses the same
 *   store; the daemon notices decisions the CLI adds through `decisionsAfter`.
 * - `appendEvents` writes a batch and the positions in one transaction, so a crash never stores events
 *   without the position after them, or the reverse. It returns the ids in the order given.
 * - Writes of the same known-good pair are idempotent (an upsert).
 * - Times are epoch ms. Nothing here reads the wall clock; callers pass `now`.
 * - Errors are SipwardenError SW_ERR_STORE with the driver error as cause.
 */
export interface Store {
  appendEvents(events: readonly SecurityEvent[], positions?: readonly SourcePosition[]): Promise<number[]>;
  events(query: EventQuery): Promise<StoredEvent[]>;
  /** Count of events per kind matching the query (ignores `limit`). */
  countEvents(query: EventQuery): Promise<Partial<Record<EventKind, number>>>;

  addDecision(decision: NewDecision): Promise<Decision>;
  /** Bans that are not revoked, not dry-run and not expired at `now` (expiresAt null = never expires). */
  activeBans(now: number): Promise<Decision[]>;
  /** Every decision about an address inside `target` (an address or prefix) or about an account, newest first. */
  decisionsFor(target: { ip?: string; cidr?: string; account?: string }, limit?: number): Promise<Decision[]>;
  /** Decisions with id > afterId, oldest first (how the daemon picks up manual bans and unbans). */
  decisionsAfter(afterId: number, limit?: number): Promise<Decision[]>;
  /** Decisions revoked at or after `since` (so the daemon can lift them). */
  revokedSince(since: number): Promise<Decision[]>;
  revokeDecision(id: number, by: string, reason: string, at: number): Promise<Decision>;
  /** Count of rule or manual bans of this exact target created at or after `since` (for escalation). */
  countBans(target: string, since: number): Promise<number>;

  rememberSuccess(ip: string, account: string, at: number): Promise<void>;
  /** Pairs for an address (and/or an account) last seen at or after `since`. */
  knownGood(query: { ip?: string; account?: string; since: number }): Promise<KnownGoodPair[]>;

  audit(entry: AuditEntry): Promise<void>;
  auditFor(target: string, limit?: number): Promise<AuditEntry[]>;

  position(sourceId: string): Promise<SourcePosition | undefined>;

  /** Applies retention; returns how many events were removed. */
  prune(now: number, retention: RetentionPolicy): Promise<number>;
  close(): Promise<void>;
}
