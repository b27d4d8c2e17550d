/**
 * (address, account) pairs that authenticated successfully. A failure for such a pair is a device with an
 * old password or one phone among many behind a NAT, not an attack, so it must not ban the address.
 * Memory is bounded by the pairs seen inside `rememberMs`; `sweep` drops the rest.
 */
export class KnownGood {
  private readonly pairs = new Map<string, number>();
  private readonly accountsByIp = new Map<string, Set<string>>();

  constructor(readonly rememberMs: number) {}

  remember(ip: string, account: string, at: number): void {
    const key = `${ip}\u0000${account}`;
    const previous = this.pairs.get(key);
    if (previous !== undefined && previous >= at) return;
    this.pairs.set(key, at);
    let accounts = this.accountsByIp.get(ip);
    if (!accounts) {
      accounts = new Set();
      this.accountsByIp.set(ip, accounts);
    }
    accounts.add(account);
  }

  /** When the pair last authenticated, if inside the remembered period before `at`. */
  lastSuccess(ip: string, account: string, at: number): number | undefined {
    const seen = this.pairs.get(`${ip}\u0000${account}`);
    return seen !== undefined && seen >= at - this.rememberMs ? seen : undefined;
  }

  /** Accounts that authenticated from this address inside the remembered period. */
  accountsFor(ip: string, at: number): string[] {
    const accounts = this.accountsByIp.get(ip);
    if (!accounts) return [];
    return [...accounts].filter((account) => this.lastSuccess(ip, account, at) !== undefined);
  }

  get size(): number {
    return this.pairs.size;
  }

  sweep(now: number): void {
    for (const [key, seen] of this.pairs) {
      if (seen >= now - this.rememberMs) continue;
      this.pairs.delete(key);
      const [ip, account] = key.split('\u0000') as [string, string];
      const accounts = this.accountsByIp.get(ip);
      accounts?.delete(account);
      if (accounts?.size === 0) this.accountsByIp.delete(ip);
    }
  }
}
