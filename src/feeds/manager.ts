import type { FeedConfig } from '../config/schema.js';
import type { Clock } from '../core/clock.js';
import { describeError, swError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { Enforcer } from '../enforcers/types.js';
import type { FeedState, Store } from '../store/types.js';
import type { AllowMatcher } from './allow.js';
import { syncFeed, type SyncContext, type SyncOutcome } from './sync.js';

export interface FeedManagerOptions {
  feeds: readonly FeedConfig[];
  store: Pick<Store, 'feedStates' | 'saveFeedState'>;
  /** Its `feeds` sets take the entries; an enforcer without them leaves the feeds fetched and recorded only. */
  enforcer: Pick<Enforcer, 'feeds'>;
  /** The allowlist (the daemon's `analyzer.allow`): covered entries never reach a feed set. */
  allow: AllowMatcher;
  logger: Logger;
  clock: Clock;
  /** A feed that worked (or had not run) failed; called once per outage, with a message safe to send. */
  onFeedDown?: (id: string, error: string) => void;
  /** A feed that was down synced again. */
  onFeedUp?: (id: string) => void;
  /** How often the feed sets are checked for loss (a flush, a removed table). */
  checkIntervalMs?: number;
  /** The first retry after a failure; each further failure doubles it, up to the feed's interval. */
  retryBaseMs?: number;
  /** APIBAN requests per sync (APIBAN allows 11 per 2 minutes per key). */
  maxPages?: number;
  requestTimeoutMs?: number;
}

/** APIBAN's rate window: a backlog longer than one sync's pages continues after it. */
const CONTINUE_MS = 120_000;

/** When to try again after `failures` failures in a row: exponential, capped at the interval, never before the server's Retry-After. */
export function retryDelay(failures: number, intervalMs: number, baseMs: number, retryAfterMs = 0): number {
  return Math.max(Math.min(baseMs * 2 ** Math.min(failures - 1, 30), intervalMs), retryAfterMs);
}

interface FeedRun {
  config: FeedConfig;
  state: FeedState;
  failures: number;
  down: boolean;
  /** Syncs of one feed run one after another. */
  queue: Promise<unknown>;
  busy: boolean;
  /** The kernel set was lost (or missing at start): syncs read from the start until one reloads it. */
  needsFull: boolean;
  /** A full reload happened in this process: the enforcer's size is the feed's whole count. */
  loadedInFull: boolean;
  timer?: NodeJS.Timeout;
}

/**
 * Keeps the configured feeds in their kernel sets: APIBAN incrementally by cursor (kept in the store, so a
 * restart continues where it stopped), lists replaced whole. It checks the sets every `checkIntervalMs` and
 * reloads a lost one in full, which is what the APIBAN Go client misses when its chain is flushed.
 *
 * Contract: `start` runs until its signal aborts; syncs never throw (failures are stored in the feed's state,
 * logged, and retried with backoff); every call into the enforcer's feed sets is serialised here.
 */
export class FeedManager {
  private readonly runs = new Map<string, FeedRun>();
  private kernelQueue: Promise<unknown> = Promise.resolve();
  private signal: AbortSignal | undefined;
  private loaded = false;

  constructor(private readonly options: FeedManagerOptions) {
    for (const config of options.feeds) {
      this.runs.set(config.id, { config, state: { id: config.id, entries: 0, overridden: 0 }, failures: 0, down: false, queue: Promise.resolve(), busy: false, needsFull: false, loadedInFull: false });
    }
  }

  /**
   * Loads the feeds' states, syncs each once (APIBAN from its stored cursor, or from the start when its set is
   * missing or empty) and schedules the next syncs and checks (timers unref'd). Resolves when the first round
   * is done; the daemon need not wait for it.
   */
  async start(signal: AbortSignal): Promise<void> {
    this.signal = signal;
    await this.load();
    const sets = this.options.enforcer.feeds;
    if (!sets && this.runs.size > 0) this.options.logger.warn({ feeds: [...this.runs.keys()] }, 'the enforcer has no feed sets: feeds are fetched and recorded, not enforced');
    const lost = sets ? await this.startingCheck() : new Set<string>();
    if (signal.aborted) return;
    const check = setInterval(() => void this.check().catch((error: unknown) => this.options.logger.warn({ error: describeError(error) }, 'feed set check failed')), this.options.checkIntervalMs ?? 10_000);
    check.unref();
    signal.addEventListener('abort', () => {
      clearInterval(check);
      for (const run of this.runs.values()) clearTimeout(run.timer);
    }, { once: true });
    for (const id of lost) (this.runs.get(id) as FeedRun).needsFull = true;
    await Promise.all([...this.runs.values()].map((run) => this.enqueue(run, false)));
  }

  /** Syncs one feed, or all, now; `full` reads APIBAN from its start. Resolves with the states afterwards. */
  async syncNow(id?: string, options: { full?: boolean } = {}): Promise<FeedState[]> {
    await this.load();
    const runs = id === undefined ? [...this.runs.values()] : [this.runs.get(id)];
    if (runs.some((run) => run === undefined)) throw swError('SW_ERR_NOT_FOUND', `no feed "${id}" in the config (feeds: ${[...this.runs.keys()].join(', ') || 'none'})`);
    return Promise.all((runs as FeedRun[]).map((run) => this.enqueue(run, options.full ?? false)));
  }

  /** The state of every configured feed, as last saved. */
  status(): FeedState[] {
    return [...this.runs.values()].map((run) => ({ ...run.state }));
  }

  /**
   * Asks the enforcer whether each feed's sets are still there and filled, and reloads a lost one in full.
   * A feed not yet synced, already due for a full reload (a failing one retries with backoff), or loaded empty
   * is left alone.
   */
  async check(): Promise<void> {
    const sets = this.options.enforcer.feeds;
    if (!sets) return;
    const lost = await this.lostFeeds();
    for (const run of this.runs.values()) {
      const id = run.config.id;
      if (!lost.has(id) || run.busy || run.needsFull || run.state.syncedAt === undefined || run.state.entries === 0) continue;
      this.options.logger.warn({ feed: id }, 'feed set lost (flushed or removed): reloading it in full');
      run.needsFull = true;
      void this.enqueue(run, true);
    }
  }

  private async lostFeeds(): Promise<Set<string>> {
    return this.lostIn(await this.checkSets());
  }

  private lostIn(report: readonly { feed: string; ok: boolean }[]): Set<string> {
    const ok = new Set(report.filter((r) => r.ok).map((r) => r.feed));
    return new Set([...this.runs.keys()].filter((id) => !ok.has(id)));
  }

  private async checkSets(): Promise<{ feed: string; ok: boolean; detail: string }[]> {
    const sets = this.options.enforcer.feeds;
    return sets ? this.kernel(() => sets.check()) : [];
  }

  /**
   * At start: the feeds whose sets are missing or flushed (all of them when the check itself fails, which costs
   * one full read), and the sets of feeds taken out of the config are removed.
   */
  private async startingCheck(): Promise<Set<string>> {
    const { logger } = this.options;
    let report: { feed: string; ok: boolean; detail: string }[];
    try {
      report = await this.checkSets();
    } catch (error) {
      logger.warn({ error: describeError(error) }, 'feed sets could not be checked: every feed is read in full');
      return new Set(this.runs.keys());
    }
    const sets = this.options.enforcer.feeds;
    for (const { feed } of report) {
      if (this.runs.has(feed) || !sets) continue;
      logger.info({ feed }, 'feed no longer configured: removing its sets');
      await this.kernel(() => sets.remove(feed)).catch((error: unknown) => logger.warn({ feed, error: describeError(error) }, 'feed sets could not be removed'));
    }
    return this.lostIn(report);
  }

  private async load(): Promise<void> {
    if (this.loaded) return;
    this.loaded = true;
    for (const state of await this.options.store.feedStates()) {
      const run = this.runs.get(state.id);
      if (!run) continue;
      run.state = state;
      run.down = state.error !== undefined;
    }
  }

  private enqueue(run: FeedRun, full: boolean): Promise<FeedState> {
    const next = run.queue.then(() => this.sync(run, full));
    run.queue = next.catch(() => undefined);
    return next;
  }

  private async sync(run: FeedRun, full: boolean): Promise<FeedState> {
    const { clock, logger } = this.options;
    const id = run.config.id;
    run.busy = true;
    let outcome: SyncOutcome;
    try {
      outcome = await syncFeed(run.config, run.state, full || run.needsFull, this.context(run));
    } finally {
      run.busy = false;
    }
    // Stopping aborts requests in flight: that is no outage to record or alert on.
    if (outcome.error !== undefined && this.signal?.aborted) return { ...run.state };
    if (outcome.reloaded) {
      run.needsFull = false;
      run.loadedInFull = true;
    }
    const now = clock.now();
    const state: FeedState = { id, entries: outcome.entries, overridden: outcome.overridden, attemptedAt: now };
    if (outcome.cursor !== undefined) state.cursor = outcome.cursor;
    if (outcome.error === undefined) state.syncedAt = now;
    else {
      if (run.state.syncedAt !== undefined) state.syncedAt = run.state.syncedAt;
      state.error = outcome.error;
      state.errorAt = now;
    }
    run.state = state;
    try {
      await this.options.store.saveFeedState(state);
    } catch (error) {
      logger.error({ feed: id, error: describeError(error) }, 'feed state could not be saved');
    }
    this.report(run, outcome);
    this.schedule(run, outcome);
    return { ...state };
  }

  private report(run: FeedRun, outcome: SyncOutcome): void {
    const { logger } = this.options;
    const id = run.config.id;
    if (outcome.error === undefined) {
      logger.info({ feed: id, entries: outcome.entries, overridden: outcome.overridden, more: outcome.more }, 'feed synced');
      run.failures = 0;
      if (run.down) this.options.onFeedUp?.(id);
      run.down = false;
      return;
    }
    run.failures++;
    logger.warn({ feed: id, error: outcome.error, failures: run.failures }, 'feed sync failed');
    if (!run.down) this.options.onFeedDown?.(id, outcome.error);
    run.down = true;
  }

  private schedule(run: FeedRun, outcome: SyncOutcome): void {
    const signal = this.signal;
    if (!signal || signal.aborted) return;
    const interval = run.config.interval;
    const delay =
      outcome.error !== undefined
        ? retryDelay(run.failures, interval, this.options.retryBaseMs ?? 30_000, outcome.rateLimited?.retryAfterMs)
        : outcome.more
          ? Math.min(interval, CONTINUE_MS)
          : interval;
    clearTimeout(run.timer);
    run.timer = setTimeout(() => void this.enqueue(run, false), delay);
    run.timer.unref();
  }

  private context(run: FeedRun): SyncContext {
    const { enforcer, allow, logger } = this.options;
    return {
      sets: enforcer.feeds,
      allow,
      kernel: (work) => this.kernel(work),
      logger,
      maxPages: this.options.maxPages ?? 10,
      requestTimeoutMs: this.options.requestTimeoutMs ?? 30_000,
      loadedInFull: run.loadedInFull,
      ...(this.signal ? { signal: this.signal } : {}),
    };
  }

  private kernel<T>(work: () => Promise<T>): Promise<T> {
    const next = this.kernelQueue.then(work);
    this.kernelQueue = next.catch(() => undefined);
    return next;
  }
}
