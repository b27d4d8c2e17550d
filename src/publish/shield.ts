import type { Config } from '../config/schema.js';
import { maskIp, parseCidr, type Cidr } from '../core/ip.js';
import { AddressList } from '../policy/address-list.js';
import type { Store } from '../store/types.js';

/**
 * The addresses a published feed must never name: the allowlist, the trunk/customer list, and addresses that
 * authenticated recently (known-good). A consumer of our feed drops what we list without asking, so listing a
 * customer would cut them off everywhere our feed is used, with no `why` to explain it there.
 *
 * Built per request: the lists' `file:` entries are read fresh, and nothing outlives the request.
 */
export class Shield {
  private readonly lists: AddressList[];
  /** Per family and prefix length: protected entries at least that long, masked to it (for prefix bans). */
  private readonly inside = new Map<number, Set<string>>();
  private protectedEntries: Cidr[] | undefined;

  constructor(
    config: Config,
    private readonly store: Store,
    /** Known-good pairs last seen at or after this count. */
    private readonly knownGoodSince: number,
  ) {
    this.lists = [new AddressList('allow', config.allow), new AddressList('trunks', config.trunks)];
  }

  /** Why `target` (an address or prefix, canonical) must not be published, or null when it may be. */
  async protects(target: string): Promise<string | null> {
    const cidr = parseCidr(target);
    // An entry containing the network address either covers the whole prefix or lies inside it: both overlap.
    for (const list of this.lists) {
      const entry = list.match(cidr.network);
      if (entry) return `${list.name} ${entry}`;
    }
    const single = cidr.prefix === (cidr.family === 4 ? 32 : 128);
    if (single) {
      const pairs = await this.store.knownGood({ ip: cidr.network, since: this.knownGoodSince });
      return pairs.length > 0 ? `known-good ${cidr.network}` : null;
    }
    return (await this.within(cidr)) ? `a protected address inside ${target}` : null;
  }

  /** True when an allowlisted, trunk or known-good entry lies inside the prefix (without covering its first address). */
  private async within(cidr: Cidr): Promise<boolean> {
    const key = cidr.family * 1000 + cidr.prefix;
    let masked = this.inside.get(key);
    if (!masked) {
      masked = new Set();
      for (const entry of await this.entries()) {
        if (entry.family === cidr.family && entry.prefix >= cidr.prefix) masked.add(maskIp(entry.network, cidr.prefix));
      }
      this.inside.set(key, masked);
    }
    return masked.has(cidr.network);
  }

  private async entries(): Promise<Cidr[]> {
    if (!this.protectedEntries) {
      const texts = this.lists.flatMap((list) => list.entries());
      for (const pair of await this.store.knownGood({ since: this.knownGoodSince })) texts.push(pair.ip);
      this.protectedEntries = texts.map((text) => parseCidr(text));
    }
    return this.protectedEntries;
  }
}
