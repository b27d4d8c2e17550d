/**
 * (address, account) pairs that authenticated successfully. A failure for such a pair is a device with an
 * old password or one phone among many behind a NAT, not an attack, so it must not ban the address.
 * Memory is bounded by the pairs seen inside `rememberMs`; `sweep` drops the rest.
 */
export class KnownGood {
  /** address -> account -> last success. Nested maps, so the hot path builds no key strings. */
  private readonly byIp = new Map<string, Map<string, number>>();
  private pairs = 0;

  constructor(readonly rememberMs: number) {}

  remember(ip: string, account: string, at: number): void {
    let accounts = this.byIp.get(ip);
    if (!accounts) {
      accounts = new Map();
      this.byIp.set(ip, accounts);
    }
    const previous = accounts.get(account);
    if (previous === undefined) this.pairs++;
    else if (previous >= at) return;
    accounts.set(account, at);
  }

  /** When the pair last authenticated, if inside the remembered period before `at`. */
  lastSuccess(ip: string, account: string, at: number): number | undefined {
    const seen = this.byIp.get(ip)?.get(account);
    return seen !== undefined && seen >= at - this.rememberMs ? seen : undefined;
  }

  /** Accounts that authenticated from this address inside the remembered period. */
  accountsFor(ip: string, at: number): string[] {
    const accounts = this.byIp.get(ip);
    if (!accounts) return [];
    const out: string[] = [];
    for (const [account, seen] of accounts) if (seen >= at - this.rememberMs) out.push(account);
    return out;
  }

  get size(): number {
    return this.pairs;
  }

  sweep(now: number): void {
    for (const [ip, accounts] of this.byIp) {
      for (const [account, seen] of accounts) {
        if (seen >= now - this.rememberMs) continue;
        accounts.delete(account);
        this.pairs--;
      }
      if (accounts.size === 0) this.byIp.delete(ip);
    }
  }
}
