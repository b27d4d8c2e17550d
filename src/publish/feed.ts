import type { Config, PublishKeyConfig } from '../config/schema.js';
import type { Decision, Store } from '../store/types.js';
import { Shield } from './shield.js';

/**
 * A published ban stays in the feed while it is in force and for 7 days after it ends: APIBAN lists an attacker
 * for 7 days ("active 7 days"), and its consumers (the Kamailio recipe's htable autoexpire=604800, our own feed
 * sets' 7d timeout) keep an entry that long anyway. A revoked ban leaves the feed at once.
 */
export const PUBLISH_GRACE_MS = 7 * 24 * 60 * 60_000;
/** APIBAN's page size: the OpenSIPS recipe keeps paging while a page is exactly this long. */
export const PAGE_MAX = 250;
/** Decisions one page request may examine, so a long run of unpublished decisions cannot make a request slow. */
export const SCAN_MAX = 10_000;
const SCAN_CHUNK = 1000;

/**
 * Parses the ID a client sends back. Our ID is a decision id: the page holds decisions after it. APIBAN clients
 * start with "100" (some with "0"), so both mean "from the start"; the decision id 100 itself is therefore sent
 * as "0100" (see formatFeedId), which every client keeps as the opaque string it is. Null: not an ID.
 */
export function parseFeedId(text: string | undefined): number | null {
  if (text === undefined || text === '' || text === '0' || text === '100') return 0;
  if (!/^\d{1,15}$/.test(text)) return null;
  return Number(text);
}

export function formatFeedId(id: number): string {
  return id === 100 ? '0100' : String(id);
}

/**
 * Whether a key may see a decision, before the shield: only bans our rules made (detections, the honeypot, the
 * kernel guard; never manual or feed bans, which are someone's judgement or someone else's data), enforced (not
 * dry-run), not revoked, in force or ended less than PUBLISH_GRACE_MS ago, and passing the key's filters.
 */
export function eligible(decision: Decision, key: PublishKeyConfig, now: number): boolean {
  if (decision.action !== 'ban' || decision.origin !== 'rule' || decision.targetType !== 'ip') return false;
  if (decision.dryRun || decision.revokedAt !== undefined) return false;
  if (decision.expiresAt != null && decision.expiresAt <= now - PUBLISH_GRACE_MS) return false;
  if (key.rules && (decision.rule === undefined || !key.rules.includes(decision.rule))) return false;
  if (key.evidence === 'verified' && decision.evidence !== 'verified') return false;
  return decision.eventCount >= key.minHits;
}

export interface FeedPage {
  /** Published addresses and prefixes (CIDR text, e.g. `2001:db8::/64`), each once, oldest decision first. */
  addresses: string[];
  /** The decision id to ask after next; undefined when nothing came after the cursor (APIBAN's "no new bans"). */
  next?: number;
}

/**
 * What one publish key sees at one moment. Prefix bans are published as CIDR strings: APIBAN itself lists only
 * addresses, but ipset, nftables and the Kamailio/OpenSIPS recipes' consumers of a list accept prefixes, and
 * splitting a /24 into 256 entries would hide that it is one decision.
 */
export class PublishedFeed {
  private readonly shield: Shield;

  constructor(
    private readonly store: Store,
    config: Config,
    private readonly key: PublishKeyConfig,
    private readonly now: number,
  ) {
    this.shield = new Shield(config, store, now - config['known-good'].remember);
  }

  /** Up to PAGE_MAX entries after decision `after`, examining at most SCAN_MAX decisions. */
  page(after: number): Promise<FeedPage> {
    return this.scan(after, PAGE_MAX, SCAN_MAX);
  }

  /** Every entry published now (the plain list): the same walk as paging from the start, without page limits. */
  async list(): Promise<string[]> {
    return (await this.scan(0, Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY)).addresses;
  }

  /** The newest published ban covering `ip` (canonical), or undefined. */
  async check(ip: string): Promise<Decision | undefined> {
    const covering = await this.store.listDecisions({ target: ip, action: 'ban', origin: 'rule', limit: 200 });
    for (const decision of covering) {
      if (eligible(decision, this.key, this.now) && (await this.shield.protects(decision.target)) === null) return decision;
    }
    return undefined;
  }

  private async scan(after: number, limit: number, budget: number): Promise<FeedPage> {
    const addresses = new Set<string>();
    let cursor = after;
    let examined = 0;
    let ended = false;
    while (addresses.size < limit && examined < budget) {
      const chunk = await this.store.decisionsAfter(cursor, Math.min(SCAN_CHUNK, budget - examined));
      if (chunk.length === 0) {
        ended = true;
        break;
      }
      for (const decision of chunk) {
        examined++;
        cursor = decision.id;
        if (eligible(decision, this.key, this.now) && (await this.shield.protects(decision.target)) === null) addresses.add(decision.target);
        if (addresses.size >= limit) break;
      }
    }
    // Nothing published up to the end: "no new bans", and the client asks from its old ID again next time. Only a
    // page cut short by the scan budget moves an empty answer's ID on, so the client gets past a long quiet run.
    const moved = addresses.size > 0 || (!ended && cursor > after);
    return { addresses: [...addresses], ...(moved ? { next: cursor } : {}) };
  }
}
