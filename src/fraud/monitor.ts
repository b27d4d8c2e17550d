import type { Config } from '../config/schema.js';
import type { SecurityEvent } from '../core/event.js';
import type { Geo } from '../geo/index.js';
import { FraudEngine, type FraudFinding } from './engine.js';
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

export class FraudMonitor {
  readonly engine: FraudEngine;
  readonly incidents = new IncidentBook();
  /** Hotlisted numbers as the honeypot stores them (`hotlistKey`), refreshed from the store by the daemon. */
  private hotlist = new Set<string>();
  private readonly dirty = new Set<Incident>();

  constructor(fraud: NonNullable<Config['fraud']>, timezone: string, geo?: Geo) {
    const plan = createNumberPlan({
      homeCountry: fraud.homeCountry, outsideLine: fraud.outsideLine, extensionDigits: fraud.extensionDigits,
      ...(fraud.internationalPrefixes ? { internationalPrefixes: fraud.internationalPrefixes } : {}),
    });
    const zone = timezone === 'local' ? Intl.DateTimeFormat().resolvedOptions().timeZone : timezone;
    this.engine = new FraudEngine({
      plan,
      policy: {
        homeCountry: fraud.homeCountry, allowedCountries: fraud.allowedCountries, highRiskCountries: fraud.highRiskCountries,
        hotlist: (e164) => {
          const key = hotlistKey(e164);
          return key !== undefined && this.hotlist.has(key);
        },
      },
      businessHours: { days: [1, 2, 3, 4, 5], start: 9 * 60, end: 17 * 60, timezone: zone },
      ...(geo ? { geo } : {}),
    });
  }

  setHotlist(numbers: Iterable<string>): void {
    this.hotlist = new Set(numbers);
  }

  /** The findings an event caused, filed into incidents. Honeypot traffic is bait, not an account's calls. */
  observe(event: SecurityEvent): FraudChange[] {
    if (event.server === 'honeypot') return [];
    const changes = this.file(this.engine.observe(event));
    // A call of an account under an open incident changes its counts (calls, minutes) without a new finding.
    const counted = this.incidents.observeCall(event);
    if (counted !== undefined) this.dirty.add(counted);
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

  private file(findings: readonly FraudFinding[]): FraudChange[] {
    return findings.map((finding) => {
      const change = { finding, ...this.incidents.add(finding) };
      this.dirty.add(change.incident);
      return change;
    });
  }
}
