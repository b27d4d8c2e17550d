import type { EventKind, Evidence, SecurityEvent, Transport } from '../core/event.js';
import type { Incident } from '../fraud/incidents.js';
import type { SourcePosition } from '../sources/types.js';

/** One step of the policy path, kept on every decision so `why` can replay the reasoning. */
export interface PolicyStep {
  /** e.g. `allowlist`, `known-good`, `evidence`, `budget`, `escalation`, `scope`, `dry-run`, `existing`. */
  check: string;
  /** `pass` lets the ban go on; `block` stopped it; `info` only records a fact. */
  result: 'pass' | 'block' | 'info';
  detail: string;
  /** What the step found, as data: the trunk-list entry (`trunk`), the known-good accounts (`known-good`). */
  subjects?: string[];
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
  /** Only events of these kinds. */
  kinds?: readonly EventKind[];
  /** Only events with `at >= since`. */
  since?: number;
  /** Only events with `at < until`. */
  until?: number;
  /** Newest first, at most this many (default 100). */
  limit?: number;
}

/** Filters of the decision list (API and console); all optional, combined with AND. */
export interface DecisionQuery {
  /** true: bans in force at `now` (not revoked, not dry-run, not expired); false: every other decision. */
  active?: boolean;
  now?: number;
  /** Decisions inside or covering this address or prefix. */
  target?: string;
  account?: string;
  rule?: string;
  origin?: DecisionOrigin;
  action?: DecisionAction;
  since?: number;
  until?: number;
  /** Only ids below this one (paging, newest first). */
  beforeId?: number;
  /** Newest first, at most this many (default 100). */
  limit?: number;
}

export const ROLES = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** An API token; only the SHA-256 of its secret is stored. */
export interface ApiToken {
  id: number;
  name: string;
  role: Role;
  createdAt: number;
  createdBy: string;
  lastUsedAt?: number;
  revokedAt?: number;
}

export interface StoredAuditEntry extends AuditEntry {
  id: number;
}

/** An allowlist entry kept in the store: in fleet mode, every node honours it (`sipwarden allow add`). */
export interface SharedAllowEntry {
  /** Canonical address or prefix. */
  cidr: string;
  reason: string;
  actor: string;
  at: number;
}

/** Where an intelligence feed stands: `sipwarden feeds status`, the console and the next sync read it. */
export interface FeedState {
  id: string;
  /** APIBAN: the ID to ask from next (absent: from the start). */
  cursor?: string;
  /** The last sync that succeeded. */
  syncedAt?: number;
  /** The last sync tried, successful or not. */
  attemptedAt?: number;
  /** Entries in the kernel after the last successful sync. */
  entries: number;
  /** Entries left out because the allowlist covers them. */
  overridden: number;
  /** The last error, cleared by the next success. */
  error?: string;
  errorAt?: number;
}

/** Event counts of a period, for the dashboard. */
export interface EventStats {
  /** Per bucket (start time, oldest first) and kind. */
  series: { t: number; counts: Partial<Record<EventKind, number>> }[];
  byKind: Partial<Record<EventKind, number>>;
  /** Per sensor (node/source id). */
  bySource: Record<string, number>;
  /** Addresses with the most events, most first. */
  topSources: { ip: string; events: number }[];
  /** Accounts with the most failure events (auth-failure, unknown-account, acl-denied), most first. */
  topAccounts: { account: string; events: number }[];
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

/** What the honeypot did with one request. */
export const HONEYPOT_OUTCOMES = [
  'answered', // OPTIONS: 200 like a PBX
  'challenged', // 401/407 sent: no credentials, or a nonce that is not ours
  'stale', // our nonce, expired: challenged again with stale=true
  'wrong-password', // a bait account with a wrong digest response
  'unknown-account', // credentials for a user that is not a bait account
  'registered', // a bait account registered (200)
  'rejected', // authenticated, then refused: INVITE with the configured status, other methods 403
  'ignored', // CANCEL, BYE and the like: 481
] as const;
export type HoneypotOutcome = (typeof HONEYPOT_OUTCOMES)[number];

/**
 * One request the honeypot recorded. Everything but `at`, `ip`, `port` and `transport` is written by the sender.
 * `password` is the plain text tried, when the honeypot could recover it from the digest response (a bait
 * password, a common one, or what svcrack wrote in its From tag, always checked against the response).
 */
export interface HoneypotHit {
  at: number;
  ip: string;
  port: number;
  transport: Transport;
  method: string;
  userAgent?: string;
  /** The digest user name when credentials came, else the user the request was about (REGISTER To, else From). */
  username?: string;
  password?: string;
  toUser?: string;
  /** What an INVITE dialled, as written (the Request-URI user). */
  destination?: string;
  /** `destination` normalised (no +, 00, 011, 9011, leading zeros), when it looks like a phone number. */
  number?: string;
  outcome: HoneypotOutcome;
  /** TCP, or the request carried a nonce the honeypot had sent to this address and port. */
  verified: boolean;
  /** Scanner or attack tool the request's fingerprint matched (sipvicious, sipcli, ...). */
  tool?: string;
  sensor?: string;
}

export interface StoredHoneypotHit extends HoneypotHit {
  id: number;
}

/** One dialled number for the hotlist; the honeypot counts a call once, not once per challenge round. */
export interface HotlistSighting {
  number: string;
  ip: string;
  at: number;
  verified: boolean;
  /**
   * A call already counted unverified, now answering our challenge: it adds a verified hit (and moves last
   * seen), not a hit.
   */
  retry?: true;
}

/** Requests past the recording caps in one minute, counted instead of stored. `ip` is `*` past the tracked sources. */
export interface HoneypotSuppressed {
  /** Start of the minute, epoch ms. */
  minute: number;
  ip: string;
  count: number;
}

export interface HoneypotRecords {
  hits: readonly HoneypotHit[];
  dialled?: readonly HotlistSighting[];
  suppressed?: readonly HoneypotSuppressed[];
}

/** A number attackers dialled through the honeypot: the numbers toll fraud tests before it pumps. */
export interface HotlistEntry {
  number: string;
  firstSeen: number;
  lastSeen: number;
  hits: number;
  /** Distinct source addresses that dialled it. */
  sources: number;
  /** Hits from a verified source (a challenge round trip or TCP): these cannot be forged by a spoofed packet. */
  verifiedHits: number;
}

export interface HoneypotQuery {
  /** Only hits with `at >= since`. */
  since?: number;
  ip?: string;
  outcome?: HoneypotOutcome;
  /** Newest first (lists) or largest first (tallies), at most this many (default 100). */
  limit?: number;
}

export const HONEYPOT_TALLY_FIELDS = ['userAgent', 'tool', 'username', 'password', 'method', 'outcome', 'destination', 'number', 'transport'] as const;
export type HoneypotTallyField = (typeof HONEYPOT_TALLY_FIELDS)[number];

/** Hits per value of one field; hits without that field are not counted. */
export interface HoneypotTally {
  value: string;
  hits: number;
  sources: number;
  verifiedHits: number;
}

export interface HoneypotSource {
  ip: string;
  hits: number;
  firstSeen: number;
  lastSeen: number;
  /** At least one of its hits was verified. */
  verified: boolean;
  /** Distinct and sorted, at most 10 each. */
  tools: string[];
  userAgents: string[];
  usernames: number;
  registered: boolean;
}

export interface HoneypotAccount {
  username: string;
  attempts: number;
  sources: number;
  /** Distinct passwords recovered, sorted, at most 50. */
  passwords: string[];
  registered: boolean;
}

export interface HoneypotTotals {
  hits: number;
  sources: number;
  verifiedSources: number;
  registrations: number;
  /** Requests counted past the recording caps. */
  suppressed: number;
  firstSeen?: number;
  lastSeen?: number;
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
  /** Several decisions in one transaction (a burst of bans), returned in the order given. */
  addDecisions(decisions: readonly NewDecision[]): Promise<Decision[]>;
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

  /**
   * Honeypot records in one transaction: the hits, the hotlist sightings (each adds a hit to its number and
   * its source to the number's distinct sources) and the suppressed counts (added to any already stored).
   */
  addHoneypotRecords(records: HoneypotRecords): Promise<void>;
  /** Hits newest first. Throws SW_ERR_IP for an `ip` that is not an address. */
  honeypotHits(query: HoneypotQuery): Promise<StoredHoneypotHit[]>;
  /** Hits per value of `field`, most hits first (ties by value). */
  honeypotTally(field: HoneypotTallyField, query: HoneypotQuery): Promise<HoneypotTally[]>;
  /** Per source address, most hits first (ties by address). */
  honeypotSources(query: HoneypotQuery): Promise<HoneypotSource[]>;
  /** Per user name tried, most attempts first (ties by name). */
  honeypotAccounts(query: HoneypotQuery): Promise<HoneypotAccount[]>;
  /** Counts over the hits since `since`, and the suppressed requests of minutes starting at or after it. */
  honeypotTotals(since: number): Promise<HoneypotTotals>;
  /** Hotlisted numbers last seen at or after `since` (all when absent), most hits first; or the one `number`. */
  hotlist(query: { since?: number; number?: string; limit?: number }): Promise<HotlistEntry[]>;

  /**
   * Applies retention; returns how many events were removed. Honeypot hits and suppressed counts follow the
   * same age and count limits; hotlist numbers stay until unseen for a year and more.
   */
  /** Inserts or replaces a fraud incident by its id (the daemon saves it each time it changes). */
  saveIncident(incident: Incident): Promise<void>;
  /** Incidents updated at or after `since`, of one account or all, most recently updated first (default 100). */
  incidents(query: { account?: string; since?: number; limit?: number }): Promise<Incident[]>;

  decision(id: number): Promise<Decision | undefined>;
  /** Decisions matching the filters, newest first (by id). */
  listDecisions(query: DecisionQuery): Promise<Decision[]>;
  /** Decisions made at or after `since`, counted by rule (manual and feed decisions by origin). */
  countDecisions(since: number): Promise<Record<string, number>>;
  /** The audit trail, newest first; `target` exact. */
  auditLog(query: { target?: string; since?: number; limit?: number }): Promise<StoredAuditEntry[]>;
  /** Event counts over [since, until) in buckets of `bucketMs`, and the `top` (default 10) sources and accounts. */
  eventStats(query: { since: number; until: number; bucketMs: number; top?: number }): Promise<EventStats>;

  /** The allowlist entries kept in the store, by address. */
  sharedAllow(): Promise<SharedAllowEntry[]>;
  /** Adds (or replaces the reason of) one entry. */
  addSharedAllow(entry: SharedAllowEntry): Promise<void>;
  /** Removes one entry; false when there was none. */
  removeSharedAllow(cidr: string): Promise<boolean>;

  feedStates(): Promise<FeedState[]>;
  /** Inserts or replaces the state of one feed. */
  saveFeedState(state: FeedState): Promise<void>;

  /** Stores a token by the SHA-256 (hex) of its secret. Names are unique among tokens not revoked. */
  addToken(token: { name: string; role: Role; hash: string; createdAt: number; createdBy: string }): Promise<ApiToken>;
  /** The token with this hash, revoked or not; undefined when there is none. */
  tokenByHash(hash: string): Promise<ApiToken | undefined>;
  tokens(): Promise<ApiToken[]>;
  touchToken(id: number, at: number): Promise<void>;
  /** Revokes a token; undefined when no such id. Revoking twice keeps the first time. */
  revokeToken(id: number, at: number): Promise<ApiToken | undefined>;

  prune(now: number, retention: RetentionPolicy): Promise<number>;
  close(): Promise<void>;

  /**
   * Fleet stores only (PostgreSQL): reports each decision any node adds or revokes as it commits, and a `resync`
   * with every active ban first and after each reconnect, until `signal` aborts. Reports come one at a time.
   */
  watchDecisions?(onChange: (change: DecisionChange) => void | Promise<void>, signal: AbortSignal, onError?: (error: Error) => void): Promise<void>;

  /**
   * Fleet stores only: adds one node's counts for fleet-wide rules (`scope: fleet`, see src/fleet/), then returns
   * the fleet's totals of every (rule, key) in `increments`, for the window given and the one before it. The add
   * commits before the totals are read, so of two nodes flushing at once the later one sees both adds. Throws
   * SW_ERR_STORE when the database cannot be reached.
   */
  addFleetCounts?(node: string, increments: readonly FleetIncrement[]): Promise<FleetTotal[]>;
  /**
   * Fleet stores only: claims the finding of `rule` for `key` in the window starting at `windowStart`; true for
   * exactly one caller in the fleet. Refused too while a claim of the window before stands, since the sliding
   * estimate still carries the events that fired it.
   */
  claimFleetFinding?(claim: { rule: string; key: string; windowStart: number; windowMs: number; node: string; at: number }): Promise<boolean>;
  /** Fleet stores only: removes fleet counters and claims of windows that started before `before`; returns rows removed. */
  pruneFleetCounts?(before: number): Promise<number>;
}

/** One node's counts for one (rule, key) in one fixed window of the rule's length, aligned to the epoch. */
export interface FleetIncrement {
  rule: string;
  key: string;
  windowStart: number;
  windowMs: number;
  /** Events counted (counting rules). */
  count: number;
  /** Of them, events whose evidence is verified. */
  verified: number;
  firstAt: number;
  lastAt: number;
  /** Distinct rules: the values seen (accounts or destinations), with whether any sighting was verified. */
  values?: readonly { value: string; verified: boolean }[];
}

/** The fleet's total for one (rule, key) in one window: every node's increments added up. */
export interface FleetTotal {
  rule: string;
  key: string;
  windowStart: number;
  /**
   * Events, or distinct values for distinct rules. For the window before the one asked, distinct values also seen
   * in the asked window are left out, so the two totals never count one value twice.
   */
  count: number;
  /** Events (distinct values) with verified evidence. */
  verified: number;
  firstAt: number;
}

export type DecisionChange = { type: 'changed'; decision: Decision } | { type: 'resync'; active: Decision[] };
