/**
 * The response shapes of docs/api.md, as the console reads them: the server's own types where they exist (type
 * imports only; nothing of the server is bundled). Every string in here may be attacker text (user names,
 * User-Agents, dialled numbers, reasons quoting a log line): render it only as a text node.
 */

import type { HealthReport } from '../daemon/health.js';
import type { Story } from '../explain/story.js';
import type { Decision, Role } from '../store/types.js';

export type { ApiToken, AuditEntry, Decision, KnownGoodPair, PolicyStep, Role, StoredEvent } from '../store/types.js';
export type { Incident } from '../fraud/incidents.js';
export type { TimelineEntry } from '../explain/story.js';
export type Explain = Story;
export type Progress = Story['progress'][number];

export interface Session {
  name: string;
  role: Role;
  csrf: string;
  expiresAt: number;
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

export type Health = HealthReport;
export type SourceHealth = HealthReport['sources'][number];
export type FeedHealth = HealthReport['feeds'][number];

export interface DecisionPage {
  decisions: Decision[];
  next?: number | null;
}
