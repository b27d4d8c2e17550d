import type { SecurityEvent } from '../core/event.js';
import type { RuleSpec } from '../detectors/rules/index.js';
import type { FleetIncrement } from '../store/types.js';
import { windowStartOf } from './windows.js';

/** One (rule, key, window) of a batch: what this node adds to the fleet's counters at the next flush. */
interface Pending {
  rule: RuleSpec;
  key: string;
  windowStart: number;
  count: number;
  verified: number;
  firstAt: number;
  lastAt: number;
  /** Distinct rules: value -> seen with verified evidence; at most `threshold` values. */
  values?: Map<string, boolean>;
}

/** The newest event of a (rule, key) in a batch: the trigger of a finding, and the time the estimate is made at. */
export interface Touched {
  rule: RuleSpec;
  key: string;
  trigger: SecurityEvent;
  /** Distinct rules: the values this node saw, for the finding (bounded by the threshold). */
  values?: string[];
}

/**
 * The increments a node collects between two flushes, added up in memory so a flush sends one row per
 * (rule, key, window) whatever the event rate. Bounded: past `maxEntries` rows, events of new keys are
 * dropped (and counted) until the next flush; a distinct row keeps at most `threshold` values, because more
 * from one node cannot change the decision.
 */
export class FleetBatch {
  private readonly pending = new Map<string, Pending>();
  private readonly touched = new Map<string, Touched>();
  /** Events not counted because the batch was full. */
  dropped = 0;

  constructor(private readonly maxEntries: number) {}

  get size(): number {
    return this.pending.size;
  }

  add(rule: RuleSpec, key: string, event: SecurityEvent, value: string | undefined): void {
    const windowStart = windowStartOf(event.at, rule.windowMs);
    const id = `${rule.name}\u0000${key}\u0000${windowStart}`;
    let row = this.pending.get(id);
    if (row === undefined) {
      if (this.pending.size >= this.maxEntries) {
        this.dropped++;
        return;
      }
      row = { rule, key, windowStart, count: 0, verified: 0, firstAt: event.at, lastAt: event.at, ...(rule.distinct ? { values: new Map() } : {}) };
      this.pending.set(id, row);
    }
    const verified = event.evidence === 'verified';
    row.count++;
    if (verified) row.verified++;
    if (event.at < row.firstAt) row.firstAt = event.at;
    if (event.at > row.lastAt) row.lastAt = event.at;
    if (row.values !== undefined && value !== undefined && (row.values.has(value) || row.values.size < rule.threshold)) {
      row.values.set(value, verified || row.values.get(value) === true);
    }
    const touchedId = `${rule.name}\u0000${key}`;
    const last = this.touched.get(touchedId);
    if (last === undefined || event.at >= last.trigger.at) this.touched.set(touchedId, { rule, key, trigger: event });
  }

  increments(): FleetIncrement[] {
    return [...this.pending.values()].map((row) => ({
      rule: row.rule.name, key: row.key, windowStart: row.windowStart, windowMs: row.rule.windowMs,
      count: row.count, verified: row.verified, firstAt: row.firstAt, lastAt: row.lastAt,
      ...(row.values ? { values: [...row.values].map(([v, verified]) => ({ value: v, verified })) } : {}),
    }));
  }

  /** Each (rule, key) of the batch with its newest event, and for distinct rules the values of its newest window. */
  keys(): Touched[] {
    return [...this.touched.values()].map((t) => {
      if (!t.rule.distinct) return t;
      const row = this.pending.get(`${t.rule.name}\u0000${t.key}\u0000${windowStartOf(t.trigger.at, t.rule.windowMs)}`);
      return { ...t, values: [...(row?.values?.keys() ?? [])] };
    });
  }
}
