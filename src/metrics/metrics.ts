import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { ALERT_KINDS, type AlertKind } from '../alerts/types.js';
import type { Clock } from '../core/clock.js';
import { EVENT_KINDS, type EventKind } from '../core/event.js';
import type { DecisionAction, DecisionOrigin } from '../store/types.js';
import { LabelSet } from './labels.js';

/** Enforcer calls take from a fraction of a millisecond (a small nft batch) to seconds (a full reconcile). */
export const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export const ALERT_OUTCOMES = ['sent', 'failed', 'rate-limited', 'digested'] as const;
export type AlertOutcome = (typeof ALERT_OUTCOMES)[number];

const DECISION_ACTIONS: readonly DecisionAction[] = ['ban', 'report'];
const DECISION_ORIGINS: readonly DecisionOrigin[] = ['rule', 'manual', 'feed'];
/** The rule label of a decision that no rule made (manual bans, feeds). */
export const NO_RULE = 'none';

export interface MetricsOptions {
  /** Goes into sipwarden_build_info{version}. */
  version: string;
  /** Source ids of the config; events and parse errors of any other source are counted as `other`. */
  sources: readonly string[];
  /** Rule names that may appear on decisions: the config's rules and built-in ones such as `kernel-guard`. */
  rules: readonly string[];
  /** Names of the configured alert channels (`email`, `webhook[0]`, ...); default `email`. */
  alertChannels?: readonly string[];
  /** Wall time for the source lag. */
  clock: Clock;
}


/**
 * The daemon's Prometheus metrics, on a registry of its own: two daemons in one process (tests) must not share
 * series, and a library that registers on prom-client's global registry must not leak into our /metrics.
 * Every label value passes through a fixed set (labels.ts).
 */
export class Metrics {
  readonly registry = new Registry();
  readonly contentType: string = this.registry.contentType;

  private readonly kinds = new LabelSet(EVENT_KINDS);
  private readonly sources: LabelSet;
  private readonly rules: LabelSet;
  private readonly actions = new LabelSet(DECISION_ACTIONS);
  private readonly origins = new LabelSet(DECISION_ORIGINS);
  private readonly alertKinds = new LabelSet(ALERT_KINDS);
  private readonly alertChannels: LabelSet;
  private readonly alertOutcomes = new LabelSet(ALERT_OUTCOMES);
  /** Event time of the newest event per source label, so a late, older event does not make the lag jump. */
  private readonly newestEventAt = new Map<string, number>();
  private readonly clock: Clock;

  private readonly events: Counter<'kind' | 'source'>;
  private readonly decisions: Counter<'action' | 'origin' | 'rule'>;
  private readonly activeBans: Gauge;
  private readonly parseErrors: Counter<'source'>;
  private readonly sourceLag: Gauge<'source'>;
  private readonly enforcerSeconds: Histogram<'op'>;
  private readonly storeSeconds: Histogram<'op'>;
  private readonly alerts: Counter<'kind' | 'channel' | 'outcome'>;

  constructor(options: MetricsOptions) {
    this.clock = options.clock;
    this.sources = new LabelSet(options.sources);
    this.rules = new LabelSet([...options.rules, NO_RULE]);
    this.alertChannels = new LabelSet(options.alertChannels ?? ['email']);
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });

    new Gauge({ name: 'sipwarden_build_info', help: 'Always 1; the version is the label', labelNames: ['version'], registers })
      .set({ version: options.version }, 1);
    this.events = new Counter({
      name: 'sipwarden_events_total', help: 'Security events recognised, by kind and source', labelNames: ['kind', 'source'], registers,
    });
    this.decisions = new Counter({
      name: 'sipwarden_decisions_total', help: 'Decisions made (bans and reports), by action, origin and rule',
      labelNames: ['action', 'origin', 'rule'], registers,
    });
    this.activeBans = new Gauge({ name: 'sipwarden_active_bans', help: 'Bans in force', registers });
    this.parseErrors = new Counter({
      name: 'sipwarden_parse_errors_total', help: 'Records a parser could not use, and lines flagged as tampered, by source',
      labelNames: ['source'], registers,
    });
    this.sourceLag = new Gauge({
      name: 'sipwarden_source_lag_seconds', help: 'Wall time minus event time of the newest event of each source',
      labelNames: ['source'], registers,
    });
    this.enforcerSeconds = new Histogram({
      name: 'sipwarden_enforcer_seconds', help: 'Duration of enforcer calls (apply, verify, reconcile)',
      labelNames: ['op'], buckets: LATENCY_BUCKETS, registers,
    });
    this.storeSeconds = new Histogram({
      name: 'sipwarden_store_seconds', help: 'Duration of store calls, by method', labelNames: ['op'], buckets: LATENCY_BUCKETS, registers,
    });
    this.alerts = new Counter({
      name: 'sipwarden_alerts_total', help: 'Alerts by kind, channel and outcome', labelNames: ['kind', 'channel', 'outcome'], registers,
    });
  }

  /** Counts events of one source and moves its lag to the newest of them. */
  eventsSeen(source: string, events: readonly { kind: EventKind; at: number }[]): void {
    const label = this.sources.bound(source);
    let newest = this.newestEventAt.get(label) ?? -Infinity;
    // Counted per kind first: prom-client's labelled inc costs about half a microsecond, once per kind per batch
    // keeps a flood at a million lines a second.
    const perKind = new Map<EventKind, number>();
    for (const event of events) {
      perKind.set(event.kind, (perKind.get(event.kind) ?? 0) + 1);
      if (event.at > newest) newest = event.at;
    }
    for (const [kind, n] of perKind) this.events.inc({ kind: this.kinds.bound(kind), source: label }, n);
    if (newest === -Infinity || newest === this.newestEventAt.get(label)) return;
    this.newestEventAt.set(label, newest);
    this.sourceLag.set({ source: label }, (this.clock.now() - newest) / 1000);
  }

  /** A record a parser of this source could not use, or a line it flagged as tampered. */
  parseError(source: string, count = 1): void {
    this.parseErrors.inc({ source: this.sources.bound(source) }, count);
  }

  decisionMade(decision: { action: DecisionAction; origin: DecisionOrigin; rule?: string | undefined }): void {
    this.decisions.inc({
      action: this.actions.bound(decision.action),
      origin: this.origins.bound(decision.origin),
      rule: this.rules.bound(decision.rule ?? NO_RULE),
    });
  }

  setActiveBans(count: number): void {
    this.activeBans.set(count);
  }

  /** `channel` is the channel's name (`email`, `webhook[0]`); `rate-limited` counts alerts held for a digest. */
  alert(kind: AlertKind, channel: string, outcome: AlertOutcome): void {
    this.alerts.inc({ kind: this.alertKinds.bound(kind), channel: this.alertChannels.bound(channel), outcome: this.alertOutcomes.bound(outcome) });
  }

  /** `op` is a method name of the Enforcer interface (timed.ts), never data. */
  observeEnforcer(op: string, seconds: number): void {
    this.enforcerSeconds.observe({ op }, seconds);
  }

  /** `op` is a method name of the Store interface (timed.ts), never data. */
  observeStore(op: string, seconds: number): void {
    this.storeSeconds.observe({ op }, seconds);
  }

  /** The Prometheus text exposition of every metric, for GET /metrics with `contentType`. */
  render(): Promise<string> {
    return this.registry.metrics();
  }
}
