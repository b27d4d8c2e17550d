import type { Alerter } from '../alerts/alerter.js';
import { alertForBan, alertForBudget, alertForEnforcer, alertForFraud, alertForMisconfiguredDevice, alertForSource } from '../alerts/build.js';
import type { HealthReport } from './health.js';
import type { Clock } from '../core/clock.js';
import type { SecurityEvent } from '../core/event.js';
import type { FraudChange } from '../fraud/monitor.js';
import type { Metrics } from '../metrics/index.js';
import type { Decision, FeedState } from '../store/types.js';

type SourceHealth = HealthReport['sources'][number];
type BanLookup = (ip: string) => { knownGood: string[]; trunk?: string };

/**
 * Whether a ban hits a customer: what the policy found about the offending address when it decided (a prefix ban
 * covers more than its network address), and what the lookup knows about an exact target now.
 */
function banContext(decision: Decision, lookup: BanLookup): { knownGood: string[]; trunk?: string } {
  const step = (check: string) => decision.policy.find((p) => p.check === check)?.subjects ?? [];
  const exact = decision.target.includes('/') ? { knownGood: [] } : lookup(decision.target);
  const knownGood = [...new Set([...step('known-good'), ...exact.knownGood])];
  const trunk = step('trunk')[0] ?? exact.trunk;
  return { knownGood, ...(trunk ? { trunk } : {}) };
}

/**
 * What the daemon tells the outside about itself: metrics, alerts and the health report of the API. The daemon
 * calls it at each fact; it decides what is worth a metric, an alert or a health change. Both sinks are
 * optional, so a daemon without `alerts:` (or a test) pays nothing for them.
 */
export class DaemonObserver {
  private readonly sources = new Map<string, SourceHealth>();
  private readonly enforcer: HealthReport['enforcer'];
  private readonly startedAt: number;
  /** Where the feeds stand, when the daemon has any. */
  feedStatus: () => readonly FeedState[] = () => [];

  constructor(
    private readonly options: { node: string; version: string; enforcer: string; clock: Clock; metrics?: Metrics; alerter?: Alerter },
  ) {
    this.startedAt = options.clock.now();
    this.enforcer = { name: options.enforcer, ok: true };
  }

  get metrics(): Metrics | undefined {
    return this.options.metrics;
  }

  sourceStarted(id: string, type: string): void {
    this.sources.set(id, { id, type, state: 'running', restarts: 0 });
  }

  /** A source ended or threw; the supervisor restarts it. The first failure after a good run alerts. */
  sourceFailed(id: string, detail: string): void {
    const source = this.sources.get(id);
    if (!source) return;
    const wasRunning = source.state === 'running';
    source.state = 'restarting';
    source.restarts++;
    source.lastError = detail;
    if (wasRunning) this.options.alerter?.send(alertForSource('source', id, detail, this.options.clock.now()));
  }

  eventsSeen(id: string, events: readonly SecurityEvent[]): void {
    if (events.length === 0) return;
    const source = this.sources.get(id);
    if (source) {
      source.state = 'running';
      source.lastEventAt = this.options.clock.now();
    }
    this.options.metrics?.eventsSeen(id, events);
    let tampered = 0;
    for (const event of events) if (event.kind === 'tampered') tampered++;
    if (tampered > 0) this.options.metrics?.parseError(id, tampered);
  }

  /** Stored decisions: counted, and those that ban a known-good or customer address, or report a misconfigured device, alert. */
  decisionsStored(decisions: readonly Decision[], context: BanLookup): void {
    const { metrics, alerter } = this.options;
    for (const decision of decisions) {
      metrics?.decisionMade(decision);
      if (!alerter || decision.targetType !== 'ip') continue;
      const alert = decision.action === 'ban' ? alertForBan(decision, banContext(decision, context)) : alertForMisconfiguredDevice(decision);
      if (alert) alerter.send(alert);
    }
  }

  feedDown(id: string, error: string): void {
    this.options.alerter?.send(alertForSource('feed', id, error, this.options.clock.now()));
  }

  budgetTripped(at: number, used: number, perMs: number): void {
    this.options.alerter?.send(alertForBudget(at, used, perMs));
  }

  /** The enforcer failed to apply or verify; alerts once per failure spell. */
  enforcerFailed(detail: string): void {
    const now = this.options.clock.now();
    const was = this.enforcer.ok;
    Object.assign(this.enforcer, { ok: false, detail, checkedAt: now });
    if (was) this.options.alerter?.send(alertForEnforcer('failed', detail, now));
  }

  /** A verify passed; `repaired` says it had to restore missing kernel objects first. */
  enforcerChecked(repaired: string | undefined): void {
    const now = this.options.clock.now();
    const wasFailing = !this.enforcer.ok;
    this.enforcer.ok = true;
    this.enforcer.checkedAt = now;
    delete this.enforcer.detail;
    if (repaired !== undefined || wasFailing) this.options.alerter?.send(alertForEnforcer('healed', repaired ?? 'the enforcer works again', now));
  }

  fraudChanges(changes: readonly FraudChange[]): void {
    const alerter = this.options.alerter;
    if (!alerter) return;
    for (const change of changes) {
      const alert = alertForFraud(change);
      if (alert) alerter.send(alert);
    }
  }

  health(activeBans: number): HealthReport {
    this.options.metrics?.setActiveBans(activeBans);
    return {
      node: this.options.node, version: this.options.version, startedAt: this.startedAt, enforcer: { ...this.enforcer },
      sources: [...this.sources.values()].map((s) => ({ ...s })), activeBans,
      feeds: this.feedStatus().map((f) => ({
        id: f.id, ok: f.error === undefined, entries: f.entries, ...(f.syncedAt !== undefined ? { syncedAt: f.syncedAt } : {}),
        ...(f.error !== undefined ? { detail: f.error } : {}),
      })),
    };
  }
}
