import type { EventKind, Evidence, SecurityEvent } from '../../core/event.js';

/** One rule as the engine runs it; durations in ms. */
export interface RuleSpec {
  name: string;
  on: readonly EventKind[];
  key: 'ip' | 'account';
  distinct?: 'account' | 'destination';
  threshold: number;
  windowMs: number;
  banMs: number;
  evidence: 'any' | 'verified';
  dryRun: boolean;
}

/** A rule's threshold was reached for one key inside its window. */
export interface Finding {
  rule: RuleSpec;
  /** The address (key ip) or account (key account). */
  key: string;
  /** Time of the event that completed the threshold. */
  at: number;
  firstAt: number;
  /** Events (or distinct values) counted inside the window. */
  count: number;
  /** `verified` when at least one counted event proves its source. */
  evidence: Evidence;
  /** The distinct values counted, for distinct rules (bounded by the threshold). */
  values?: string[];
  trigger: SecurityEvent;
}

export interface RuleProgress {
  rule: RuleSpec;
  count: number;
  firstAt?: number;
  lastAt?: number;
}

/**
 * Per-key state of a counting rule: the times of the last `threshold` events in a ring, so memory per key is
 * bounded by the threshold whatever the event rate, and the check is O(1).
 */
interface CountState {
  times: number[];
  verified: boolean[];
  next: number;
  filled: number;
  lastAt: number;
}

/** Per-key state of a distinct rule: value -> last time seen, pruned to the window. */
interface DistinctState {
  seen: Map<string, { at: number; verified: boolean }>;
  lastAt: number;
}

const NONE: readonly Finding[] = Object.freeze([]);

/** Sweep idle keys after this many observed events, so a million one-shot scanners cannot pin memory. */
const SWEEP_EVERY = 65_536;

/**
 * Runs threshold-in-a-sliding-window rules on the events' own time. It never reads the clock, so a replay
 * of a log produces the same findings as live operation. Not safe for concurrent use; one engine per pipeline.
 */
export class RuleEngine {
  private readonly byKind = new Map<EventKind, RuleSpec[]>();
  private readonly counts = new Map<RuleSpec, Map<string, CountState>>();
  private readonly distincts = new Map<RuleSpec, Map<string, DistinctState>>();
  private observed = 0;
  private latest = 0;

  constructor(readonly rules: readonly RuleSpec[]) {
    for (const rule of rules) {
      for (const kind of rule.on) {
        const list = this.byKind.get(kind) ?? [];
        list.push(rule);
        this.byKind.set(kind, list);
      }
      if (rule.distinct) this.distincts.set(rule, new Map());
      else this.counts.set(rule, new Map());
    }
  }

  /** Feeds one event; returns the findings it completes (most events complete none). */
  observe(event: SecurityEvent): readonly Finding[] {
    const rules = this.byKind.get(event.kind);
    if (!rules) return NONE;
    if (event.at > this.latest) this.latest = event.at;
    if (++this.observed % SWEEP_EVERY === 0) this.sweep();
    let findings: Finding[] | undefined;
    for (const rule of rules) {
      const key = rule.key === 'ip' ? event.ip : event.account;
      if (!key) continue;
      const finding = rule.distinct ? this.observeDistinct(rule, key, event) : this.observeCount(rule, key, event);
      if (finding) (findings ??= []).push(finding);
    }
    return findings ?? NONE;
  }

  private observeCount(rule: RuleSpec, key: string, event: SecurityEvent): Finding | null {
    const states = this.counts.get(rule) as Map<string, CountState>;
    let state = states.get(key);
    if (!state) {
      state = { times: new Array<number>(rule.threshold), verified: new Array<boolean>(rule.threshold), next: 0, filled: 0, lastAt: 0 };
      states.set(key, state);
    }
    state.times[state.next] = event.at;
    state.verified[state.next] = event.evidence === 'verified';
    state.next = (state.next + 1) % rule.threshold;
    if (state.filled < rule.threshold) state.filled++;
    if (event.at > state.lastAt) state.lastAt = event.at;
    if (state.filled < rule.threshold) return null;
    // The ring is full: its oldest slot is `next`. Fire when all of the last `threshold` events fit the window.
    const oldest = state.times[state.next] as number;
    if (event.at - oldest > rule.windowMs) return null;
    const verified = state.verified.some(Boolean);
    states.delete(key);
    return {
      rule, key, at: event.at, firstAt: Math.min(...state.times), count: rule.threshold,
      evidence: verified ? 'verified' : 'spoofable', trigger: event,
    };
  }

  private observeDistinct(rule: RuleSpec, key: string, event: SecurityEvent): Finding | null {
    const value = rule.distinct === 'account' ? event.account : event.destination;
    if (value === undefined) return null;
    const states = this.distincts.get(rule) as Map<string, DistinctState>;
    let state = states.get(key);
    if (!state) {
      state = { seen: new Map(), lastAt: 0 };
      states.set(key, state);
    }
    const previous = state.seen.get(value);
    state.seen.delete(value);
    state.seen.set(value, { at: Math.max(event.at, previous?.at ?? 0), verified: event.evidence === 'verified' || !!previous?.verified });
    if (event.at > state.lastAt) state.lastAt = event.at;
    if (state.seen.size < rule.threshold) return null;
    const horizon = event.at - rule.windowMs;
    let verified = false;
    let firstAt = event.at;
    for (const [v, seen] of state.seen) {
      if (seen.at < horizon) state.seen.delete(v);
      else {
        verified ||= seen.verified;
        if (seen.at < firstAt) firstAt = seen.at;
      }
    }
    // Bound the map: keep only the most recent `threshold` values (insertion order is recency order).
    while (state.seen.size > rule.threshold) state.seen.delete(state.seen.keys().next().value as string);
    if (state.seen.size < rule.threshold) return null;
    const values = [...state.seen.keys()];
    states.delete(key);
    return {
      rule, key, at: event.at, firstAt, count: values.length, values,
      evidence: verified ? 'verified' : 'spoofable', trigger: event,
    };
  }

  /** How far each rule is from firing for a key, counting what falls inside each window ending at `now`. */
  progress(key: string, now: number): RuleProgress[] {
    const out: RuleProgress[] = [];
    for (const rule of this.rules) {
      if (rule.distinct) {
        const state = this.distincts.get(rule)?.get(key);
        const inWindow = state ? [...state.seen.values()].filter((s) => s.at > now - rule.windowMs) : [];
        const times = inWindow.map((s) => s.at);
        out.push({ rule, count: inWindow.length, ...span(times) });
      } else {
        const state = this.counts.get(rule)?.get(key);
        const times = state ? state.times.slice(0, state.filled).filter((t) => t > now - rule.windowMs) : [];
        out.push({ rule, count: times.length, ...span(times) });
      }
    }
    return out;
  }

  /** Number of keys with state, across rules; for metrics and memory tests. */
  get trackedKeys(): number {
    let n = 0;
    for (const states of this.counts.values()) n += states.size;
    for (const states of this.distincts.values()) n += states.size;
    return n;
  }

  /** Drops keys whose newest event fell out of the rule's window (judged by the newest event time seen). */
  sweep(): void {
    for (const [rule, states] of this.counts) {
      for (const [key, state] of states) if (this.latest - state.lastAt > rule.windowMs) states.delete(key);
    }
    for (const [rule, states] of this.distincts) {
      for (const [key, state] of states) if (this.latest - state.lastAt > rule.windowMs) states.delete(key);
    }
  }
}

function span(times: number[]): { firstAt?: number; lastAt?: number } {
  if (times.length === 0) return {};
  return { firstAt: Math.min(...times), lastAt: Math.max(...times) };
}
