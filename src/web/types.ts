/**
 * The response shapes of docs/api.md, as the console reads them. Every string in here may be attacker text
 * (user names, User-Agents, dialled numbers, reasons quoting a log line): render it only as a text node.
 */

export type Role = 'viewer' | 'operator' | 'admin';

export interface Session {
  name: string;
  role: Role;
  csrf: string;
  expiresAt: number;
}

export interface PolicyStep {
  check: string;
  result: 'pass' | 'block' | 'info';
  detail: string;
}

export interface Decision {
  id: number;
  at: number;
  target: string;
  targetType: 'ip' | 'account';
  action: 'ban' | 'report';
  origin: 'rule' | 'manual' | 'feed';
  rule?: string;
  reason: string;
  actor?: string;
  durationMs?: number | null;
  expiresAt?: number | null;
  level: number;
  evidence: 'verified' | 'spoofable';
  eventCount: number;
  policy: PolicyStep[];
  dryRun: boolean;
  sensor?: string;
  revokedAt?: number;
  revokedBy?: string;
  revokeReason?: string;
}

export interface StoredEvent {
  id: number;
  at: number;
  kind: string;
  ip?: string;
  port?: number;
  transport?: string;
  account?: string;
  domain?: string;
  destination?: string;
  userAgent?: string;
  server: string;
  sensor?: string;
  evidence: 'verified' | 'spoofable';
  reason?: string;
}

export interface AuditEntry {
  at: number;
  actor: string;
  action: string;
  target: string;
  reason: string;
  detail?: string;
}

export interface Incident {
  id: string;
  account: string;
  openedAt: number;
  updatedAt: number;
  severity: string;
  sources: string[];
  calls: number;
  answered: number;
  minutes: number;
  estimatedCost?: number;
  currency?: string;
}

export interface KnownGoodPair {
  ip: string;
  account: string;
  firstSeen: number;
  lastSeen: number;
  count: number;
}

export interface Progress {
  rule: string;
  count: number;
  threshold: number;
  window: string | number;
  ban: string | number | null;
}

export interface TimelineEntry {
  at: number;
  type: 'event' | 'decision' | 'revoke' | 'audit' | 'incident';
  title: string;
  detail?: string;
  id?: number | string;
}

export interface Explain {
  target: string;
  kind: 'ip' | 'cidr' | 'account';
  banned: boolean;
  active: Decision[];
  decisions: Decision[];
  allowlisted: string | null;
  trunk: string | null;
  knownGood: KnownGoodPair[];
  country?: string;
  asn?: number;
  organisation?: string;
  counts: Record<string, number>;
  events: StoredEvent[];
  incidents?: Incident[];
  audit: AuditEntry[];
  progress?: Progress[];
  timeline: TimelineEntry[];
  undo?: string;
}

export interface Stats {
  since: number;
  until: number;
  bucketMs: number;
  series: { t: number; counts: Record<string, number> }[];
  byKind: Record<string, number>;
  bySource: Record<string, number>;
  byRule: Record<string, number>;
  byCountry: Record<string, number>;
  topSources: { ip: string; events: number; country?: string; banned: boolean }[];
  topAccounts: { account: string; events: number }[];
  activeBans: number;
  knownGoodBans: Decision[];
}

export interface SourceHealth {
  id: string;
  type: string;
  state: 'running' | 'restarting';
  restarts: number;
  lastError?: string;
  lastEventAt?: number;
}

export interface FeedHealth {
  id: string;
  ok: boolean;
  entries?: number;
  syncedAt?: number;
  detail?: string;
}

export interface Health {
  node: string;
  version: string;
  startedAt: number;
  enforcer: { name: string; ok: boolean; detail?: string; checkedAt?: number };
  sources: SourceHealth[];
  feeds: FeedHealth[];
  activeBans: number;
}

export interface DecisionPage {
  decisions: Decision[];
  next?: number | null;
}
