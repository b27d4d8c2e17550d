import type { Clock } from '../core/clock.js';
import type { EventKind, SecurityEvent } from '../core/event.js';
import { formatDuration } from '../core/duration.js';
import { describeError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { Finding, RuleSpec } from '../detectors/rules/index.js';
import type { FleetTotal, NewDecision, Store } from '../store/types.js';
import { FleetBatch, type Touched } from './batch.js';
import { slidingEstimate, windowStartOf } from './windows.js';

/** The part of a fleet store the counters use (PostgresStore has it). */
export type FleetStore = Required<Pick<Store, 'addFleetCounts' | 'claimFleetFinding' | 'pruneFleetCounts'>>;

export interface FleetRulesOptions {
  /** The `scope: fleet` rules, in the engine's terms. */
  rules: readonly RuleSpec[];
  store: FleetStore;
  /** This node's name: its row in the counters and its name on the claims. */
  node: string;
  logger: Logger;
  clock: Clock;
  /** The policy path of every finding (allowlist, known-good, budget, escalation); null: nothing to record. */
  decide(finding: Finding, now: number): NewDecision | null;
  /** Enforces and stores what this node decided for the fleet. */
  commit(decisions: readonly NewDecision[]): Promise<void>;
  /** How often a node sends its counts (default 500 ms): the delay a fleet-wide finding adds. */
  flushMs?: number;
  /** A batch this large is sent at once, not at the next tick (default 5000 rows). */
  flushAt?: number;
  /** Past this many rows in one batch, events of new keys are dropped until the next flush (default 50,000). */
  maxBatch?: number;
  /** How often old windows are removed (default 10 min). */
  pruneMs?: number;
}

export interface FleetRulesStats {
  flushes: number;
  /** Events not counted: the store was down, or the batch was full. */
  skipped: number;
  findings: number;
}

/**
 * Fleet-wide rules (`scope: fleet`): each node files the matching events under fixed windows of the rule's
 * length, in memory, and adds them to the fleet's counters in the store every `flushMs`. The answer holds the
 * fleet's totals of the keys it sent; a key whose sliding estimate (see windows.ts) reaches the threshold is
 * claimed, and only the node whose claim wins decides. The others enforce that ban through the decision watch.
 *
 * `observe` never waits on the database: a flush runs in the background, one at a time. When the store is
 * down the counts of that batch are skipped (logged once per outage) and local rules are not affected. Not safe
 * for concurrent use; one per daemon.
 */
export class FleetRules {
  readonly stats: FleetRulesStats = { flushes: 0, skipped: 0, findings: 0 };
  private readonly byKind = new Map<EventKind, RuleSpec[]>();
  private readonly names: ReadonlySet<string>;
  private readonly longestMs: number;
  private batch: FleetBatch;
  /** (rule, key) -> the newest window claimed or lost: no more claims there, nor counts that cannot matter. */
  private readonly settled = new Map<string, number>();
  private flushing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private prunedAt = -Infinity;
  private down = false;

  constructor(private readonly options: FleetRulesOptions) {
    for (const rule of options.rules) {
      for (const kind of rule.on) this.byKind.set(kind, [...(this.byKind.get(kind) ?? []), rule]);
    }
    this.names = new Set(options.rules.map((r) => r.name));
    this.longestMs = Math.max(0, ...options.rules.map((r) => r.windowMs));
    this.batch = new FleetBatch(options.maxBatch ?? 50_000);
  }

  /** Whether rule `name` is counted here rather than in the node's own engine. */
  counts(name: string): boolean {
    return this.names.has(name);
  }

  /** Files one event under the fleet rules it matches (same matching as the local engine). */
  observe(event: SecurityEvent): void {
    const rules = this.byKind.get(event.kind);
    if (!rules) return;
    for (const rule of rules) {
      if (rule.servers === undefined ? event.server === 'honeypot' : !rule.servers.includes(event.server)) continue;
      const key = rule.key === 'ip' ? event.ip : event.account;
      if (!key) continue;
      const value = rule.distinct === undefined ? undefined : rule.distinct === 'account' ? event.account : event.destination;
      if (rule.distinct !== undefined && value === undefined) continue;
      const settled = this.settled.get(`${rule.name}\u0000${key}`);
      if (settled !== undefined && windowStartOf(event.at, rule.windowMs) <= settled) continue;
      this.batch.add(rule, key, event, value);
    }
    if (this.batch.size >= (this.options.flushAt ?? 5000)) void this.flush();
  }

  /** Starts the periodic flush. */
  start(): void {
    this.timer ??= setInterval(() => void this.flush(), this.options.flushMs ?? 500);
    this.timer.unref();
  }

  /** Stops the timer and sends what is still in memory. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.flushing;
    await this.flush();
  }

  /** Sends the batch collected so far; resolves when it (and any flush under way) is done. Never throws. */
  flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    if (this.batch.size === 0 && this.batch.dropped === 0) return Promise.resolve();
    const batch = this.batch;
    this.batch = new FleetBatch(this.options.maxBatch ?? 50_000);
    this.flushing = this.send(batch)
      .catch((error: unknown) => this.options.logger.error({ err: describeError(error) }, 'fleet: a flush failed'))
      .finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  private async send(batch: FleetBatch): Promise<void> {
    const { store, node, logger } = this.options;
    this.stats.flushes++;
    this.stats.skipped += batch.dropped;
    if (batch.dropped > 0) logger.warn({ dropped: batch.dropped }, 'fleet: too many keys in one flush; events of new keys were not counted');
    const increments = batch.increments();
    let totals: FleetTotal[];
    try {
      totals = await store.addFleetCounts(node, increments);
    } catch (error) {
      this.stats.skipped += increments.reduce((n, i) => n + i.count, 0);
      if (!this.down) logger.warn({ err: describeError(error) }, 'fleet: counters unavailable; fleet-wide rules skip events until the store answers, local rules go on');
      this.down = true;
      return;
    }
    if (this.down) logger.info('fleet: counters available again; fleet-wide rules count again');
    this.down = false;
    await this.prune().catch((error: unknown) => logger.warn({ err: describeError(error) }, 'fleet: could not remove old counter windows'));
    const byWindow = new Map(totals.map((t) => [`${t.rule}\u0000${t.key}\u0000${t.windowStart}`, t]));
    const decisions: NewDecision[] = [];
    for (const touched of batch.keys()) {
      const decision = await this.judge(touched, byWindow);
      if (decision) decisions.push(decision);
    }
    if (decisions.length > 0) await this.options.commit(decisions);
  }

  /** Claims and decides a key whose fleet estimate reached the threshold; null otherwise or when another node won. */
  private async judge({ rule, key, trigger, values }: Touched, totals: Map<string, FleetTotal>): Promise<NewDecision | null> {
    const { store, node, clock, logger } = this.options;
    const windowStart = windowStartOf(trigger.at, rule.windowMs);
    const id = `${rule.name}\u0000${key}`;
    if ((this.settled.get(id) ?? -Infinity) >= windowStart) return null;
    const current = totals.get(`${id}\u0000${windowStart}`);
    const previous = totals.get(`${id}\u0000${windowStart - rule.windowMs}`);
    const estimate = slidingEstimate(current?.count ?? 0, previous?.count ?? 0, trigger.at, rule.windowMs);
    if (estimate < rule.threshold) return null;
    this.settled.set(id, windowStart);
    const now = clock.now();
    let won: boolean;
    try {
      won = await store.claimFleetFinding({ rule: rule.name, key, windowStart, windowMs: rule.windowMs, node, at: now });
    } catch (error) {
      // Unclaimed, so another node can still decide; this one tries again with the key's next events.
      this.settled.delete(id);
      logger.warn({ err: describeError(error), rule: rule.name }, 'fleet: could not claim a fleet-wide finding');
      return null;
    }
    if (!won) return null;
    this.stats.findings++;
    const count = Math.floor(estimate);
    const verified = (current?.verified ?? 0) + (previous?.verified ?? 0) > 0;
    const firstAt = Math.min(trigger.at, current?.firstAt ?? Infinity, previous?.firstAt ?? Infinity);
    const finding: Finding = {
      rule, key, at: trigger.at, firstAt, count, evidence: verified ? 'verified' : 'spoofable', trigger, ...(values ? { values } : {}),
    };
    const what = rule.distinct ? `distinct ${rule.distinct}s` : 'events';
    const window = formatDuration(rule.windowMs);
    const detail = `counted across the fleet: ${current?.count ?? 0} ${what} in this ${window} window and ${previous?.count ?? 0} in the one before, ` +
      `${count} in the last ${window} by the sliding estimate; ${node} claimed the decision`;
    logger.info({ rule: rule.name, key, estimate: count, threshold: rule.threshold }, `fleet: ${rule.name} reached for ${key}; ${detail}`);
    const decision = this.options.decide(finding, now);
    return decision && { ...decision, policy: [{ check: 'fleet', result: 'info', detail }, ...decision.policy] };
  }

  /** Old windows go now and then: older than twice the longest fleet window, nothing reads them. */
  private async prune(): Promise<void> {
    const now = this.options.clock.now();
    if (now - this.prunedAt < (this.options.pruneMs ?? 600_000)) return;
    this.prunedAt = now;
    const before = now - 2 * this.longestMs;
    await this.options.store.pruneFleetCounts(before);
    for (const [id, windowStart] of this.settled) if (windowStart < before) this.settled.delete(id);
  }
}
