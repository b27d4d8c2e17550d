import { readFileSync } from 'node:fs';
import type { Config } from '../config/schema.js';
import type { SecurityEvent } from '../core/event.js';
import type { Geo } from '../geo/index.js';
import { FraudEngine, type FraudFinding, type LiveCall } from './engine.js';
import { IncidentBook, type Incident } from './incidents.js';
import { createNumberPlan } from './numbers.js';
import { hotlistKey } from './tiers.js';

/**
 * The toll-fraud detector as the daemon runs it: the engine's findings filed into incidents. Monitor-only for
 * now: it reports (logs and stores incidents) and takes no action. Built from the `fraud:` config block.
 */
export interface FraudChange {
  incident: Incident;
  finding: FraudFinding;
  opened: boolean;
  escalated: boolean;
}

/** The answer of the call-authorisation endpoint. */
export interface AuthorizeDecision {
  allow: boolean;
  /** Monitor-only mode: the answer is allow, and this says it would have been deny. */
  wouldDeny?: boolean;
  reason: string;
  tier?: string;
  e164?: string;
  incident?: string;
}

export interface AuthorizeQuery {
  account: string;
  destination: string;
  ip?: string;
}

export class FraudMonitor {
  readonly engine: FraudEngine;
  readonly incidents = new IncidentBook();
  /** Hotlisted numbers as the honeypot stores them (`hotlistKey`), refreshed from the store by the daemon. */
  private hotlist = new Set<string>();
  private readonly dirty = new Set<Incident>();

  /** account -> end of its deny window (after a critical incident). */
  private readonly denied = new Map<string, { until: number; incident: string }>();
  private readonly mode: 'monitor' | 'enforce';
  private readonly hotlistEntries: readonly string[];
  private readonly ignored: ReadonlySet<string>;
  private readonly rates: NonNullable<Config['fraud']>['rates'];
  private readonly prefixRates: { prefix: string; perMinute: number }[];
  private readonly denyMs: number;
  private readonly banMs: number;
  private readonly hangupEnabled: boolean;

  constructor(fraud: NonNullable<Config['fraud']>, timezone: string, geo?: Geo) {
    this.hotlistEntries = fraud.hotlist;
    this.ignored = new Set(fraud.ignoreAccounts);
    this.rates = fraud.rates;
    this.prefixRates = [...fraud.rates.prefixes].sort((x, y) => y.prefix.length - x.prefix.length);
    this.mode = fraud.actions.mode;
    this.denyMs = fraud.actions.deny;
    this.banMs = fraud.actions.ban;
    this.hangupEnabled = fraud.actions.hangup;
    const plan = createNumberPlan({
      homeCountry: fraud.homeCountry, outsideLine: fraud.outsideLine, extensionDigits: fraud.extensionDigits,
      ...(fraud.internationalPrefixes ? { internationalPrefixes: fraud.internationalPrefixes } : {}),
    });
    const zone = timezone === 'local' ? Intl.DateTimeFormat().resolvedOptions().timeZone : timezone;
    this.engine = new FraudEngine({
      plan,
      policy: {
        homeCountry: fraud.homeCountry, allowedCountries: fraud.allowedCountries, highRiskCountries: fraud.highRiskCountries,
        domesticPremium: fraud.domesticPremium,
        hotlist: (e164) => {
          const key = hotlistKey(e164);
          return key !== undefined && this.hotlist.has(key);
        },
      },
      businessHours: { days: [1, 2, 3, 4, 5], start: 9 * 60, end: 17 * 60, timezone: zone },
      ...(geo ? { geo } : {}),
    });
  }

  /** Price per minute of a dialled string: the longest matching E.164 prefix of the rate table, else its tier's. */
  pricePerMinute(raw: string): number {
    const destination = this.engine.describe(raw);
    const e164 = destination.e164;
    if (e164 !== undefined) {
      for (const { prefix, perMinute } of this.prefixRates) if (e164.startsWith(prefix)) return perMinute;
    }
    return this.rates.tiers[destination.tier];
  }

  setHotlist(numbers: Iterable<string>): void {
    this.hotlist = new Set(numbers);
  }

  /**
   * The operator's hotlist (`fraud.hotlist`): numbers, and `file:` lists read again on each call, as hotlist keys.
   * A file that cannot be read is reported in `problems` and costs only its own numbers.
   */
  configuredHotlist(): { keys: string[]; problems: string[] } {
    const keys: string[] = [];
    const problems: string[] = [];
    const add = (entry: string): void => {
      const text = entry.trim();
      if (text === '' || text.startsWith('#')) return;
      const e164 = this.engine.describe(text).e164 ?? (/^\+?\d{7,15}$/.test(text) ? `+${text.replace(/^\+/, '')}` : undefined);
      const key = e164 === undefined ? undefined : hotlistKey(e164);
      if (key !== undefined) keys.push(key);
    };
    for (const entry of this.hotlistEntries) {
      if (!entry.startsWith('file:')) {
        add(entry);
        continue;
      }
      try {
        for (const line of readFileSync(entry.slice(5), 'utf8').split('\n')) add(line);
      } catch (error) {
        problems.push(`fraud.hotlist ${entry}: ${(error as Error).message}`);
      }
    }
    return { keys, problems };
  }

  /** The findings an event caused, filed into incidents. Honeypot traffic is bait, not an account's calls. */
  observe(event: SecurityEvent): FraudChange[] {
    if (event.server === 'honeypot') return [];
    if (event.account !== undefined && this.ignored.has(event.account)) return [];
    const changes = this.file(this.engine.observe(event));
    // A call of an account under an open incident changes its counts (calls, minutes) without a new finding.
    const counted = this.incidents.observeCall(event);
    if (counted !== undefined) {
      this.dirty.add(counted);
      const billSec = event.kind === 'call-end' ? (event.call?.billSec ?? 0) : 0;
      if (billSec > 0) {
        const cost = (billSec / 60) * this.pricePerMinute(event.destination ?? '');
        counted.estimatedCost = Math.round(((counted.estimatedCost ?? 0) + cost) * 100) / 100;
        counted.currency = this.rates.currency;
      }
    }
    return changes;
  }

  /** Incidents changed since the last call, for the daemon to save. */
  takeChanged(): Incident[] {
    const changed = [...this.dirty];
    this.dirty.clear();
    return changed;
  }

  /** Live-call checks (every 30 s) and closing quiet incidents. */
  tick(now: number): FraudChange[] {
    const changes = this.file(this.engine.tick(now));
    this.incidents.sweep(now);
    return changes;
  }

  /**
   * Allow or deny a call about to be placed, from the same rules and state. T1 and T2 destinations are always
   * allowed. A T3/T4 call is denied while the account is under a critical incident's deny window, or when it
   * would itself be critical (a high-risk destination, over the per-minute or concurrent limits, right after a
   * registration from a new source). In monitor mode the answer is allow, with what it would have been.
   */
  authorize(query: AuthorizeQuery, now: number): AuthorizeDecision {
    const { destination, critical, notes } = this.engine.assess(query.account, query.destination, query.ip, now);
    const base: AuthorizeDecision = { allow: true, reason: 'ok', tier: destination.tier };
    if (destination.e164 !== undefined) base.e164 = destination.e164;
    if (destination.tier === 'T1' || destination.tier === 'T2') return { ...base, reason: destination.tier === 'T1' ? 'domestic' : 'allowed country' };
    const window = this.denied.get(query.account);
    const reasons = [...critical];
    if (window !== undefined && window.until > now) {
      reasons.unshift(`account under toll-fraud incident ${window.incident}`);
      base.incident = window.incident;
    } else {
      const open = this.incidents.current(query.account, now);
      if (open?.severity === 'critical') base.incident = open.id;
    }
    if (reasons.length === 0) return { ...base, reason: notes.length > 0 ? `${destination.tier}; ${notes.join('; ')}` : destination.tier };
    const reason = reasons.join('; ');
    return this.mode === 'enforce' ? { ...base, allow: false, reason } : { ...base, wouldDeny: true, reason: `monitor-only, would deny: ${reason}` };
  }

  private file(findings: readonly FraudFinding[]): FraudChange[] {
    return findings.map((finding) => {
      const change = { finding, ...this.incidents.add(finding) };
      this.dirty.add(change.incident);
      if (change.escalated || (change.opened && change.incident.severity === 'critical')) this.denyWindow(change.incident, finding.at);
      return change;
    });
  }

  /**
   * Sources to ban for the changes of a batch: only an address that registered the account anew (rules D and E
   * name it) and only once its incident is critical; never an address the account has long used (a customer's
   * office), which no D or E finding names. Each is recorded on its incident with the command that undoes it.
   */
  bansFor(changes: readonly FraudChange[]): { ip: string; incident: Incident; finding: FraudFinding; durationMs: number; dryRun: boolean }[] {
    if (this.banMs <= 0) return [];
    const out: { ip: string; incident: Incident; finding: FraudFinding; durationMs: number; dryRun: boolean }[] = [];
    for (const { incident, finding } of changes) {
      const ip = finding.ip;
      if (ip === undefined || incident.severity !== 'critical' || (finding.rule !== 'D' && finding.rule !== 'E')) continue;
      if (incident.actions.some((a) => a.action === 'ban' && a.target === ip)) continue;
      const dryRun = this.mode === 'monitor';
      this.incidents.recordAction(incident, {
        at: finding.at, action: 'ban', target: ip, dryRun, ttlMs: this.banMs,
        undo: dryRun ? 'nothing to undo (monitor-only)' : `sipwarden unban ${ip} --reason "toll-fraud ban lifted"`,
        detail: `the address that registered ${incident.account} anew`,
      });
      this.dirty.add(incident);
      out.push({ ip, incident, finding, durationMs: this.banMs, dryRun });
    }
    return out;
  }

  /**
   * Live T3/T4 calls to hang up for the changes of a batch: those of an account whose incident just turned (or
   * opened) critical. Each is recorded on the incident; in monitor mode as what would have been done.
   */
  hangupsFor(changes: readonly FraudChange[]): { incident: Incident; call: LiveCall; dryRun: boolean }[] {
    const out: { incident: Incident; call: LiveCall; dryRun: boolean }[] = [];
    if (!this.hangupEnabled) return out;
    for (const { incident, finding, opened, escalated } of changes) {
      if (!(escalated || (opened && incident.severity === 'critical'))) continue;
      for (const call of this.engine.liveRiskyCalls(finding.account)) {
        const target = call.channel ?? call.uniqueId ?? call.callId;
        if (incident.actions.some((a) => a.action === 'hangup' && a.target === target)) continue;
        const dryRun = this.mode === 'monitor';
        this.incidents.recordAction(incident, {
          at: finding.at, action: 'hangup', target, dryRun,
          undo: dryRun ? 'nothing to undo (monitor-only)' : 'cannot be undone: the call is gone (the account may call again)',
          detail: `live ${call.destination.tier} call to ${call.destination.e164 ?? call.destination.raw}${call.sensor ? ` seen by ${call.sensor}` : ''}`,
        });
        this.dirty.add(incident);
        out.push({ incident, call, dryRun });
      }
    }
    return out;
  }

  /** A critical incident denies the account's risky calls for a while (the first action of fraud-rules.md). */
  private denyWindow(incident: Incident, at: number): void {
    if (this.denyMs <= 0) return;
    this.denied.set(incident.account, { until: at + this.denyMs, incident: incident.id });
    this.incidents.recordAction(incident, {
      at, action: 'deny', target: `${incident.account}: T3/T4 calls`, dryRun: this.mode === 'monitor', ttlMs: this.denyMs,
      undo: this.mode === 'monitor' ? 'nothing to undo (monitor-only)' : `ends by itself at ${new Date(at + this.denyMs).toISOString()}`,
      detail: 'call authorisation answers deny for the account\'s risky calls',
    });
  }
}
