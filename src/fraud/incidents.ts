import type { SecurityEvent } from '../core/event.js';
import type { Destination, FraudFinding, Severity } from './engine.js';

/**
 * Incidents, not alert storms: the findings about one account while an attack goes on share one incident with a
 * stable id. It opens at the first finding, takes every later one (raising its severity, never lowering it), and
 * counts the account's calls and minutes while it is open. It closes after `quietMs` without a finding; the next
 * finding then opens a new incident.
 */

export interface IncidentRule {
  rule: string;
  severity: Severity;
  metric: string;
  value: number;
  threshold: number;
  windowMs: number;
  at: number;
  detail: string;
}

export interface IncidentAction {
  at: number;
  /** `ban`, `hangup`, `deny`, `notify`... */
  action: string;
  target: string;
  /** Monitor-only: what would have been done. */
  dryRun: boolean;
  /** How long it lasts, when it lasts (a ban, a deny window). */
  ttlMs?: number;
  /** The command that undoes it, for the operator. */
  undo?: string;
  detail?: string;
}

export interface Incident {
  /** Stable while the attack goes on: `fraud-<account>-<opened, base 36>`. */
  id: string;
  account: string;
  openedAt: number;
  updatedAt: number;
  severity: Severity;
  /** Each rule that fired, with its highest level and the latest value (every exceeded metric, not only the first). */
  rules: IncidentRule[];
  /** Source addresses named by findings (registrations, calls). */
  sources: string[];
  destinations: Destination[];
  callIds: string[];
  /** Calls the account placed and billable minutes, counted from the incident's opening. */
  calls: number;
  answered: number;
  minutes: number;
  /** Billable minutes priced with the rate table (fraud.rates), from the incident's opening. */
  estimatedCost?: number;
  currency?: string;
  actions: IncidentAction[];
}

const LIMIT = 50;

export interface IncidentChange {
  incident: Incident;
  opened: boolean;
  /** The severity rose to critical with this finding. */
  escalated: boolean;
}

export class IncidentBook {
  private readonly open = new Map<string, Incident>();

  constructor(private readonly quietMs = 2 * 3_600_000) {}

  /** Files a finding under the account's open incident, or opens one. */
  add(finding: FraudFinding): IncidentChange {
    let incident = this.current(finding.account, finding.at);
    const opened = incident === undefined;
    if (incident === undefined) {
      incident = {
        id: `fraud-${finding.account.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 40)}-${finding.at.toString(36)}`,
        account: finding.account, openedAt: finding.at, updatedAt: finding.at, severity: finding.severity,
        rules: [], sources: [], destinations: [], callIds: [], calls: 0, answered: 0, minutes: 0, actions: [],
      };
      this.open.set(finding.account, incident);
    }
    const before = incident.severity;
    if (finding.severity === 'critical') incident.severity = 'critical';
    incident.updatedAt = Math.max(incident.updatedAt, finding.at);
    const rule = incident.rules.find((r) => r.rule === finding.rule);
    const entry: IncidentRule = {
      rule: finding.rule, severity: finding.severity, metric: finding.metric, value: finding.value, threshold: finding.threshold,
      windowMs: finding.windowMs, at: finding.at, detail: finding.detail,
    };
    if (rule === undefined) incident.rules.push(entry);
    else if (rule.severity === 'warning' || finding.severity === 'critical') Object.assign(rule, entry);
    if (finding.ip !== undefined && !incident.sources.includes(finding.ip) && incident.sources.length < LIMIT) incident.sources.push(finding.ip);
    const destination = finding.destination;
    if (destination !== undefined && incident.destinations.length < LIMIT &&
      !incident.destinations.some((d) => (d.e164 ?? d.raw) === (destination.e164 ?? destination.raw))) incident.destinations.push(destination);
    for (const callId of finding.callIds) if (!incident.callIds.includes(callId) && incident.callIds.length < LIMIT) incident.callIds.push(callId);
    return { incident, opened, escalated: before !== 'critical' && incident.severity === 'critical' };
  }

  /** Counts a call event of an account with an open incident; the changed incident, if any. */
  observeCall(event: SecurityEvent): Incident | undefined {
    if (event.account === undefined) return undefined;
    const incident = this.current(event.account, event.at);
    if (incident === undefined) return undefined;
    const key = event.call?.uniqueId ?? event.callId;
    if (event.kind === 'call-start') {
      incident.calls++;
      if (key !== undefined) this.remember(key);
    } else if (event.kind === 'call-answer') {
      // Counted when answered: a call cut short by a ban never sends its end.
      incident.answered++;
      if (key !== undefined) this.remember(`answered:${key}`);
    } else if (event.kind === 'call-end') {
      // A call seen only at its end (a CDR) is a call too; one seen at its start was counted then.
      if (key === undefined || !this.started.has(key)) incident.calls++;
      const billSec = event.call?.billSec ?? 0;
      if (billSec > 0) {
        if (key === undefined || !this.started.has(`answered:${key}`)) incident.answered++;
        incident.minutes = Math.round((incident.minutes + billSec / 60) * 10) / 10;
      }
    } else return undefined;
    incident.updatedAt = Math.max(incident.updatedAt, event.at);
    return incident;
  }

  /** Keys of calls counted at their start (bounded: cleared when full). */
  private readonly started = new Set<string>();
  private remember(key: string): void {
    if (this.started.size >= 10_000) this.started.clear();
    this.started.add(key);
  }

  recordAction(incident: Incident, action: IncidentAction): void {
    if (incident.actions.length < LIMIT) incident.actions.push(action);
  }

  /** The account's incident still open at `at`, if any. */
  current(account: string, at: number): Incident | undefined {
    const incident = this.open.get(account);
    if (incident === undefined) return undefined;
    if (at - incident.updatedAt > this.quietMs) {
      this.open.delete(account);
      return undefined;
    }
    return incident;
  }

  /** Closes incidents quiet since `now - quietMs`; returns how many are still open. */
  sweep(now: number): number {
    for (const [account, incident] of this.open) if (now - incident.updatedAt > this.quietMs) this.open.delete(account);
    return this.open.size;
  }
}
