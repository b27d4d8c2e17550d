import type { EventKind, Evidence, SecurityEvent, Server } from '../../core/event.js';

/** One rule as the engine runs it; durations in ms. */
export interface RuleSpec {
  name: string;
  on: readonly EventKind[];
  key: 'ip' | 'account';
  distinct?: 'account' | 'destination';
  /** Only events from these servers; absent: every server but the honeypot (only rules naming it judge bait traffic). */
  servers?: readonly Server[];
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
  /** Event times as stamps (see RuleEngine.stampOf), so one array holds time and evidence. */
  times: number[];
  next: number;
  filled: number;
  lastAt: number;
}

/** Per-key state of a distinct rule: value -> last time seen, pruned to the window. */
interface DistinctState {
  seen: Map<string, { at: number; verified: boolean }>;
  lastAt: number;
}

/** A distinct-rule key that has seen one value so far (most keys: a one-shot scanner): no map yet. */
class OneValue {
  constructor(
    readonly value: string,
    /** As in CountState.times. */
    public stamp: number,
  ) {}
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
  private readonly counts = new Map<RuleSpec, Map<string, CountState | number>>();
  private readonly distincts = new Map<RuleSpec, Map<string, DistinctState | OneValue>>();
  private observed = 0;
  private latest = 0;
  /**
   * Times in the state are kept relative to this (a day before the first event), so for twelve days they are
   * small integers that V8 stores inline instead of as boxed doubles: a third less memory per tracked key.
   */
  private epoch: number | undefined;

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
      if (rule.servers === undefined ? event.server === 'honeypot' : !rule.servers.includes(event.server)) continue;
      const key = rule.key === 'ip' ? event.ip : event.account;
      if (!key) continue;
      const finding = rule.distinct ? this.observeDistinct(rule, key, event) : this.observeCount(rule, key, event);
      if (finding) (findings ??= []).push(finding);
    }
    return findings ?? NONE;
  }

  private observeCount(rule: RuleSpec, key: string, event: SecurityEvent): Finding | null {
    const states = this.counts.get(rule) as Map<string, CountState | number>;
    const stamp = this.stampOf(event.at, event.evidence === 'verified');
    let state = states.get(key);
    if (state === undefined && rule.threshold > 1) {
      // A key with one event holds just its stamp (a number, not an object): a million one-shot scanners are cheap.
      states.set(key, stamp);
      return null;
    }
    let times: number[];
    if (state === undefined) {
      times = [stamp];
    } else if (typeof state === 'number') {
      times = new Array<number>(rule.threshold).fill(0);
      times[0] = state;
      times[1] = stamp;
      state = { times, next: 2 % rule.threshold, filled: 2, lastAt: Math.max(this.timeOf(state), event.at) };
      states.set(key, state);
    } else {
      times = state.times;
      times[state.next] = stamp;
      state.next = (state.next + 1) % rule.threshold;
      if (state.filled < rule.threshold) state.filled++;
      if (event.at > state.lastAt) state.lastAt = event.at;
    }
    const filled = state === undefined ? 1 : state.filled;
    if (filled < rule.threshold) return null;
    // The ring is full: its oldest slot is `next`. Fire when all of the last `threshold` events fit the window.
    const oldest = this.timeOf(times[state === undefined ? 0 : state.next] as number);
    if (event.at - oldest > rule.windowMs) return null;
    const verified = times.some((t) => t < 0);
    states.delete(key);
    let firstAt = event.at;
    for (const t of times) firstAt = Math.min(firstAt, this.timeOf(t));
    return {
      rule, key, at: event.at, firstAt, count: rule.threshold,
      evidence: verified ? 'verified' : 'spoofable', trigger: event,
    };
  }

  private observeDistinct(rule: RuleSpec, key: string, event: SecurityEvent): Finding | null {
    const value = rule.distinct === 'account' ? event.account : event.destination;
    if (value === undefined) return null;
    const states = this.distincts.get(rule) as Map<string, DistinctState | OneValue>;
    const verifiedNow = event.evidence === 'verified';
    const stamp = this.stampOf(event.at, verifiedNow);
    let found = states.get(key);
    if (rule.threshold > 1) {
      if (found === undefined) {
        states.set(key, new OneValue(value, stamp));
        return null;
      }
      if (found instanceof OneValue && found.value === value) {
        found.stamp = this.mergeStamp(found.stamp, stamp);
        return null;
      }
    }
    let state: DistinctState;
    if (found === undefined || found instanceof OneValue) {
      state = { seen: new Map(), lastAt: event.at };
      if (found !== undefined) {
        state.seen.set(found.value, { at: this.timeOf(found.stamp), verified: found.stamp < 0 });
        state.lastAt = Math.max(state.lastAt, this.timeOf(found.stamp));
      }
      states.set(key, state);
    } else {
      state = found;
    }
    const previous = state.seen.get(value);
    state.seen.delete(value);
    state.seen.set(value, { at: Math.max(event.at, previous?.at ?? 0), verified: verifiedNow || !!previous?.verified });
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

  /** A time as kept in the state: relative to the epoch, plus one, negated for verified evidence. */
  private stampOf(at: number, verified: boolean): number {
    this.epoch ??= at - 86_400_000;
    const relative = Math.max(0, at - this.epoch) + 1;
    return verified ? -relative : relative;
  }

  private timeOf(stamp: number): number {
    return Math.abs(stamp) - 1 + (this.epoch ?? 0);
  }

  /** Two sightings of one value: the later time, verified if either was. */
  private mergeStamp(a: number, b: number): number {
    const relative = Math.max(Math.abs(a), Math.abs(b));
    return a < 0 || b < 0 ? -relative : relative;
  }

  /** How far each rule is from firing for a key, counting what falls inside each window ending at `now`. */
  progress(key: string, now: number): RuleProgress[] {
    const out: RuleProgress[] = [];
    for (const rule of this.rules) {
      if (rule.distinct) {
        const state = this.distincts.get(rule)?.get(key);
        const all = state === undefined ? [] : state instanceof OneValue ? [{ at: this.timeOf(state.stamp) }] : [...state.seen.values()];
        const inWindow = all.filter((s) => s.at > now - rule.windowMs);
        const times = inWindow.map((s) => s.at);
        out.push({ rule, count: inWindow.length, ...span(times) });
      } else {
        const state = this.counts.get(rule)?.get(key);
        const stamps = state === undefined ? [] : typeof state === 'number' ? [state] : state.times.slice(0, state.filled);
        const times = stamps.map((stamp) => this.timeOf(stamp)).filter((t) => t > now - rule.windowMs);
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
      for (const [key, state] of states) {
        const lastAt = typeof state === 'number' ? this.timeOf(state) : state.lastAt;
        if (this.latest - lastAt > rule.windowMs) states.delete(key);
      }
    }
    for (const [rule, states] of this.distincts) {
      for (const [key, state] of states) {
        const lastAt = state instanceof OneValue ? this.timeOf(state.stamp) : state.lastAt;
        if (this.latest - lastAt > rule.windowMs) states.delete(key);
      }
    }
  }
}

function span(times: number[]): { firstAt?: number; lastAt?: number } {
  if (times.length === 0) return {};
  return { firstAt: Math.min(...times), lastAt: Math.max(...times) };
}
