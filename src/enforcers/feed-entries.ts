import type { Clock } from '../core/clock.js';
import { swError } from '../core/errors.js';
import { formatCidr, maskIp, parseCidr, type Cidr, type Family } from '../core/ip.js';

/** One feed entry, canonical (host bits cleared), as every backend loads it. */
export interface FeedEntry {
  key: string;
  cidr: Cidr;
}

/**
 * The canary each feed set holds besides its entries, so that `check` can tell a flushed set from a healthy one
 * with one O(1) element test instead of a listing. It lies in space reserved by the IETF that no Internet source
 * uses and that no feed lists: 240.0.0.0/4 (RFC 1112, "reserved for future use") and f000::/5 (RFC 4291,
 * reserved by the IETF). Not 198.18.0.0/15 or a TEST-NET: sets hold one prefix length each (nftables), so a /16
 * set's canary is the canary address masked to /16, and only a block as large as /4 (/5) keeps that mask inside
 * reserved space for every length the feeds use.
 */
export const CANARY: Record<Family, { address: string; shortestPrefix: number }> = {
  4: { address: '240.0.0.1', shortestPrefix: 4 },
  6: { address: 'f000::1', shortestPrefix: 5 },
};

/** The canary as an element of a set of `prefix`-long entries. */
export function canaryFor(family: Family, prefix: number): string {
  return maskIp(CANARY[family].address, prefix);
}

/** Feed ids become parts of set and chain names (the config allows letters, digits, - and _). */
export function assertFeedId(backend: string, feed: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/.test(feed)) throw swError('SW_ERR_ENFORCER', `${backend}: feed id "${feed}" must be letters, digits, - and _`);
}

/**
 * Canonical, de-duplicated entries and the ones refused: not an address or prefix, or wider than the canary's
 * block (a /3 drops an eighth of the Internet; no real feed lists one).
 */
export function parseFeedEntries(entries: readonly string[]): { entries: FeedEntry[]; bad: string[] } {
  const seen = new Map<string, FeedEntry>();
  const bad: string[] = [];
  for (const text of entries) {
    let cidr: Cidr;
    try {
      cidr = parseCidr(text);
    } catch {
      bad.push(text);
      continue;
    }
    if (cidr.prefix < CANARY[cidr.family].shortestPrefix) {
      bad.push(text);
      continue;
    }
    const key = formatCidr(cidr);
    if (!seen.has(key)) seen.set(key, { key, cidr });
  }
  return { entries: [...seen.values()], bad };
}

/** The error for refused entries, after the rest were loaded. */
export function feedEntriesError(backend: string, feed: string, bad: readonly string[], total: number): Error {
  const shown = bad.slice(0, 5).join(', ');
  return swError(
    'SW_ERR_ENFORCER',
    `${backend}: feed ${feed}: ${bad.length} of ${total} entries refused (not an address or prefix, or wider than /4 (IPv4) or /5 (IPv6)), the rest loaded: ${shown}${bad.length > 5 ? ` (+${bad.length - 5})` : ''}`,
  );
}

/**
 * What each feed holds, as last loaded, kept in memory so that `size` never asks the kernel: a replace resets a
 * feed's entries, an add merges entries with their expiry (the kernel drops them at the same time).
 */
export class FeedTally {
  private readonly feeds = new Map<string, Map<string, number>>();

  constructor(private readonly clock: Clock) {}

  replaced(feed: string, entries: readonly FeedEntry[]): void {
    this.feeds.set(feed, new Map(entries.map((e) => [e.key, Infinity])));
  }

  added(feed: string, entries: readonly FeedEntry[], timeoutMs: number): void {
    let known = this.feeds.get(feed);
    if (!known) this.feeds.set(feed, (known = new Map()));
    const expiresAt = this.clock.now() + timeoutMs;
    for (const entry of entries) known.set(entry.key, expiresAt);
  }

  size(feed: string): number {
    const known = this.feeds.get(feed);
    if (!known) return 0;
    const now = this.clock.now();
    for (const [key, expiresAt] of known) if (expiresAt <= now) known.delete(key);
    return known.size;
  }

  /** Entries not yet expired, with their expiry (Infinity: until the next replace). */
  live(feed: string): ReadonlyMap<string, number> {
    this.size(feed);
    return this.feeds.get(feed) ?? new Map();
  }

  has(feed: string): boolean {
    return this.feeds.has(feed);
  }

  names(): string[] {
    return [...this.feeds.keys()];
  }

  forget(feed: string): void {
    this.feeds.delete(feed);
  }

  clear(): void {
    this.feeds.clear();
  }
}
