import type { HoneypotSuppressed } from '../store/types.js';

/**
 * Everything the honeypot keeps per source is bounded, and so is what it writes and sends. A flood, forged
 * sources included, must neither fill the disk nor make the honeypot a reflector.
 */
export interface HoneypotLimits {
  /** Source addresses tracked at once; the oldest tracked is forgotten first. */
  sources: number;
  /** Hits stored per source address per minute; the rest are counted (HoneypotSuppressed). */
  hitsPerSourceMinute: number;
  /** Hits stored per minute over all sources. */
  hitsPerMinute: number;
  /** UDP answers per source: a bucket of `replyBurst` refilled at `repliesPerSecond`. Past it, silence. */
  replyBurst: number;
  repliesPerSecond: number;
  /** UDP answers over all sources, the same way (forged sources each get a bucket of their own). */
  globalReplyBurst: number;
  globalRepliesPerSecond: number;
  /** (minute, source) suppressed counters held until taken; past it, counts go to source `*`. */
  suppressedKeys: number;
}

export const DEFAULT_LIMITS: HoneypotLimits = {
  sources: 16_384,
  hitsPerSourceMinute: 120,
  hitsPerMinute: 6000,
  replyBurst: 60,
  repliesPerSecond: 20,
  globalReplyBurst: 2000,
  globalRepliesPerSecond: 1000,
  suppressedKeys: 4096,
};

const MINUTE = 60_000;
/** Recent transactions and calls remembered per source (retransmissions, challenge retries of one call). */
const RECENT = 16;

export class TokenBucket {
  private tokens: number;
  private at = Number.NEGATIVE_INFINITY;

  constructor(private readonly burst: number, private readonly perSecond: number) {
    this.tokens = burst;
  }

  take(now: number): boolean {
    if (this.at !== Number.NEGATIVE_INFINITY) this.tokens = Math.min(this.burst, this.tokens + (Math.max(0, now - this.at) * this.perSecond) / 1000);
    this.at = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/** What the honeypot remembers about one source address. */
export class SourceState {
  minute = 0;
  recorded = 0;
  scannerAt = Number.NEGATIVE_INFINITY;
  readonly replies: TokenBucket;
  private readonly transactions: string[] = [];
  /** Recent Call-IDs that dialled, and whether one of their INVITEs was verified. */
  private readonly calls = new Map<string, boolean>();

  constructor(limits: HoneypotLimits) {
    this.replies = new TokenBucket(limits.replyBurst, limits.repliesPerSecond);
  }

  /** True the first time a transaction key is seen; false for a retransmission of it. */
  firstTransaction(key: string): boolean {
    return remember(this.transactions, key);
  }

  /**
   * How an INVITE of `callId` counts in the hotlist: `new` the first time; `verified` when an earlier one was
   * not and this one is (the retry that answered our challenge); `seen` otherwise. One call counts once.
   */
  dialled(callId: string, verified: boolean): 'new' | 'verified' | 'seen' {
    const before = this.calls.get(callId);
    if (before === undefined) {
      this.calls.set(callId, verified);
      if (this.calls.size > RECENT) this.calls.delete(this.calls.keys().next().value as string);
      return 'new';
    }
    if (before || !verified) return 'seen';
    this.calls.set(callId, true);
    return 'verified';
  }
}

function remember(recent: string[], key: string): boolean {
  if (recent.includes(key)) return false;
  recent.push(key);
  if (recent.length > RECENT) recent.shift();
  return true;
}

/** Per-source states, the recording caps and the suppressed counts. */
export class SourceTable {
  private readonly states = new Map<string, SourceState>();
  private readonly suppressed = new Map<string, HoneypotSuppressed>();
  private minute = 0;
  private recorded = 0;
  readonly replies: TokenBucket;

  constructor(private readonly limits: HoneypotLimits) {
    this.replies = new TokenBucket(limits.globalReplyBurst, limits.globalRepliesPerSecond);
  }

  get size(): number {
    return this.states.size;
  }

  state(ip: string): SourceState {
    let state = this.states.get(ip);
    if (state === undefined) {
      if (this.states.size >= this.limits.sources) {
        const oldest = this.states.keys().next().value;
        if (oldest !== undefined) this.states.delete(oldest);
      }
      state = new SourceState(this.limits);
      this.states.set(ip, state);
    }
    return state;
  }

  /** Whether a hit from `state` at `now` may be stored; if not it is counted as suppressed. */
  admit(ip: string, state: SourceState, now: number): boolean {
    const minute = now - (now % MINUTE);
    if (state.minute !== minute) {
      state.minute = minute;
      state.recorded = 0;
    }
    if (this.minute !== minute) {
      this.minute = minute;
      this.recorded = 0;
    }
    if (state.recorded < this.limits.hitsPerSourceMinute && this.recorded < this.limits.hitsPerMinute) {
      state.recorded++;
      this.recorded++;
      return true;
    }
    let key = `${minute}|${ip}`;
    let counter = this.suppressed.get(key);
    if (counter === undefined && this.suppressed.size >= this.limits.suppressedKeys) {
      key = `${minute}|*`;
      counter = this.suppressed.get(key);
    }
    if (counter === undefined) {
      counter = { minute, ip: key.endsWith('|*') ? '*' : ip, count: 0 };
      this.suppressed.set(key, counter);
    }
    counter.count++;
    return false;
  }

  /** Suppressed counts of minutes that ended before `now` (all of them when `now` is omitted), then forgotten. */
  takeSuppressed(now?: number): HoneypotSuppressed[] {
    const taken: HoneypotSuppressed[] = [];
    for (const [key, counter] of this.suppressed) {
      if (now !== undefined && counter.minute + MINUTE > now) continue;
      taken.push(counter);
      this.suppressed.delete(key);
    }
    return taken;
  }
}
