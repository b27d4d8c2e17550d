import type { Config } from '../config/schema.js';
import { FAILURE_KINDS, type EventKind, type SecurityEvent } from '../core/event.js';
import { RuleEngine, rulesFromConfig, type Finding } from '../detectors/rules/index.js';
import { AddressList, type ListProblem } from '../policy/address-list.js';
import { KnownGood } from '../policy/known-good.js';
import { Policy } from '../policy/policy.js';
import type { NewDecision } from '../store/types.js';

export interface AnalyzerHooks {
  onListProblem?: (problem: ListProblem) => void;
  onListReload?: (file: string, size: number) => void;
  onBudgetExhausted?: (at: number, used: number) => void;
  /** A new or refreshed (ip, account) success, for the daemon to persist. */
  onLearn?: (ip: string, account: string, at: number) => void;
  /**
   * Counts the fleet-wide rules (`scope: fleet`) across nodes; those rules then leave the local engine. Without
   * it (a replay, one node) they run in the local engine on this node's events alone.
   */
  fleet?: FleetSink;
}

/** Where events for fleet-wide rules go; their findings come back later, through `Analyzer.decide`. */
export interface FleetSink {
  /** Whether rule `name` is counted by the fleet. */
  counts(name: string): boolean;
  /** Takes an event past the known-good filter; must not block. */
  observe(event: SecurityEvent): void;
}

export interface AnalyzerStats {
  events: number;
  /** Per kind; a Map because a keyed store on a plain object is slow in the per-event path. */
  byKind: Map<EventKind, number>;
  findings: Record<string, number>;
  tampered: number;
  knownGoodFailures: number;
}

export interface Outcome {
  decisions: readonly NewDecision[];
  findings: readonly Finding[];
}

const NOTHING: Outcome = Object.freeze({ decisions: [], findings: [] }) as Outcome;
const FAILURES = new Set<EventKind>(FAILURE_KINDS);


/**
 * events -> known-good filter -> rules -> policy, synchronously and in memory. `sipwarden test` runs it over a
 * replay with the events' own time as "now"; the daemon runs it live and persists what it returns.
 *
 * Failures for an (ip, account) pair that authenticated recently go to a shadow engine with the same rules:
 * if they would have banned, the result is a "misconfigured device" report instead. Failures for other
 * accounts from that address still count (enumeration from a customer's NAT is still enumeration).
 */
export class Analyzer {
  readonly engine: RuleEngine;
  readonly policy: Policy;
  readonly knownGood: KnownGood;
  readonly allow: AddressList;
  readonly trunks: AddressList;
  readonly stats: AnalyzerStats = { events: 0, byKind: new Map(), findings: {}, tampered: 0, knownGoodFailures: 0 };
  private readonly shadow: RuleEngine;
  private readonly onLearn: AnalyzerHooks['onLearn'];
  private readonly fleet: FleetSink | undefined;

  constructor(config: Config, hooks: AnalyzerHooks = {}) {
    this.onLearn = hooks.onLearn;
    const fleet = (this.fleet = hooks.fleet);
    const rules = rulesFromConfig(config);
    this.engine = new RuleEngine(fleet ? rules.filter((rule) => !fleet.counts(rule.name)) : rules);
    this.shadow = new RuleEngine(rules.filter((r) => r.key === 'ip' && !r.distinct));
    this.knownGood = new KnownGood(config['known-good'].remember);
    this.allow = new AddressList('allow', config.allow, hooks.onListProblem, hooks.onListReload);
    this.trunks = new AddressList('trunks', config.trunks, hooks.onListProblem, hooks.onListReload);
    this.policy = new Policy({
      allow: this.allow,
      trunks: this.trunks,
      knownGood: this.knownGood,
      escalation: config.escalation,
      budget: config.budget,
      scope: config.scope,
      dryRun: config.enforce.dryRun,
      ...(config.node ? { sensor: config.node } : {}),
      ...(hooks.onBudgetExhausted ? { onBudgetExhausted: hooks.onBudgetExhausted } : {}),
    });
  }

  /** Processes one event. `now` is wall time in the daemon and the event's time in a replay. */
  process(event: SecurityEvent, now: number = event.at): Outcome {
    const stats = this.stats;
    stats.events++;
    stats.byKind.set(event.kind, (stats.byKind.get(event.kind) ?? 0) + 1);
    if (event.kind === 'tampered') {
      stats.tampered++;
      return NOTHING;
    }
    // The honeypot's bait accounts prove nothing about a source: a login there never makes it known-good,
    // and a known-good pair never shields what it does to the bait.
    const bait = event.server === 'honeypot';
    if (!bait && event.kind === 'auth-success' && event.ip && event.account) {
      this.knownGood.remember(event.ip, event.account, event.at);
      this.onLearn?.(event.ip, event.account, event.at);
    }
    if (
      !bait && FAILURES.has(event.kind) && event.ip && event.account !== undefined &&
      this.knownGood.lastSuccess(event.ip, event.account, event.at) !== undefined
    ) {
      stats.knownGoodFailures++;
      const decisions: NewDecision[] = [];
      const findings = this.shadow.observe(event);
      for (const finding of findings) {
        const decision = this.policy.decideKnownGood(finding, now);
        if (decision) decisions.push(decision);
      }
      return { decisions, findings };
    }
    this.fleet?.observe(event);
    const findings = this.engine.observe(event);
    if (findings.length === 0) return NOTHING;
    const decisions: NewDecision[] = [];
    for (const finding of findings) {
      const decision = this.decide(finding, now);
      if (decision) decisions.push(decision);
    }
    return { decisions, findings };
  }

  /** A finding through policy: those of `process`, and those the fleet counters report later. */
  decide(finding: Finding, now: number): NewDecision | null {
    this.stats.findings[finding.rule.name] = (this.stats.findings[finding.rule.name] ?? 0) + 1;
    return this.policy.decide(finding, now);
  }

  /** Periodic housekeeping: idle detector keys, old known-good pairs, escalation history. */
  sweep(now: number): void {
    this.engine.sweep();
    this.shadow.sweep();
    this.knownGood.sweep(now);
    this.policy.sweep(now);
    this.policy.active.expire(now);
  }

  close(): void {
    this.allow.stop();
    this.trunks.stop();
  }
}
