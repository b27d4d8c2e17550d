import type { Clock } from '../../core/clock.js';
import { cidrContains, parseCidr, type Cidr } from '../../core/ip.js';
import { assertFeedId, feedEntriesError, FeedTally, parseFeedEntries } from '../feed-entries.js';
import type { FeedSets, FeedUpdate } from '../types.js';

/**
 * Feed sets in memory: what a kernel backend would hold, with element timeouts on the enforcer's clock. Tests of
 * the feed manager use `lose` to play a flushed set and `drops` to ask what a packet from an address would meet.
 */
export class DryRunFeedSets implements FeedSets {
  private readonly tally: FeedTally;
  private allow: Cidr[];
  private readonly lost = new Set<string>();

  constructor(private readonly clock: Clock, allow: readonly string[], private readonly record: (update: { feed: string; mode: string; count: number }) => void) {
    this.tally = new FeedTally(clock);
    this.allow = allow.map((entry) => parseCidr(entry));
  }

  /** The allowlist changed (the dry-run enforcer's replaceAllow). */
  setAllow(allow: readonly string[]): void {
    this.allow = allow.map((entry) => parseCidr(entry));
  }

  async apply(update: FeedUpdate): Promise<void> {
    assertFeedId('dry-run', update.feed);
    const { entries, bad } = parseFeedEntries(update.entries);
    if (update.mode === 'replace') this.tally.replaced(update.feed, entries);
    else this.tally.added(update.feed, entries, update.timeoutMs);
    if (update.mode === 'replace') this.lost.delete(update.feed);
    this.record({ feed: update.feed, mode: update.mode, count: entries.length });
    if (bad.length > 0) throw feedEntriesError('dry-run', update.feed, bad, update.entries.length);
  }

  async check(): Promise<{ feed: string; ok: boolean; detail: string }[]> {
    return this.tally.names().map((feed) =>
      this.lost.has(feed)
        ? { feed, ok: false, detail: `dry-run: feed ${feed} marked lost; reload it in full` }
        : { feed, ok: true, detail: `dry-run: feed ${feed} holds ${this.tally.size(feed)} entries` },
    );
  }

  size(feed: string): number {
    return this.lost.has(feed) ? 0 : this.tally.size(feed);
  }

  async remove(feed: string): Promise<void> {
    this.tally.forget(feed);
    this.lost.delete(feed);
    this.record({ feed, mode: 'remove', count: 0 });
  }

  /** Plays a set flushed behind sipwarden's back: `check` reports the feed lost until it is replaced. */
  lose(feed: string): void {
    if (this.tally.has(feed)) this.lost.add(feed);
  }

  /** The feed that would drop a packet from `ip` (allowlisted sources pass first), or null. */
  drops(ip: string): string | null {
    if (this.allow.some((cidr) => cidrContains(cidr, ip))) return null;
    const now = this.clock.now();
    for (const feed of this.tally.names()) {
      if (this.lost.has(feed)) continue;
      for (const [key, expiresAt] of this.tally.live(feed)) {
        if (expiresAt > now && cidrContains(parseCidr(key), ip)) return feed;
      }
    }
    return null;
  }

  clear(): void {
    this.tally.clear();
    this.lost.clear();
  }
}
