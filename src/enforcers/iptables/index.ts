import { normalizeIp } from '../../core/ip.js';
import { swError } from '../../core/errors.js';
import { commandRunner, type CommandRunner } from '../exec.js';
import type { BanEntry, BanState, EnforcementChange, Enforcer, VerifyResult } from '../types.js';
import { BanTable, batchError, deadlineOf, ExpiryTimer, monotonicNow, parseBanTarget, SerialQueue } from '../ban-table.js';
import { ensureChain, rebuildChain, removeChain, restoreRules, type OwnChain } from './chain.js';

export interface IptablesEnforcerOptions {
  runner?: CommandRunner;
  /** Our chain in the filter table; default SIPWARDEN. */
  chain?: string;
  /** Also jump from FORWARD, for a host that routes traffic to the PBX. */
  forward?: boolean;
  /** Addresses and prefixes that RETURN from our chain before any ban rule. */
  allow?: string[];
  /** Told once, at the first init, that this backend does not scale; default process.emitWarning. */
  onWarning?: (message: string) => void;
}

export const LINEAR_RULES_WARNING =
  'iptables backend: one rule per ban, and every packet is checked against every rule in turn, so each ban slows ' +
  'all traffic (10k bans cut throughput 8-45x). Use the ipset or nftables backend beyond a few hundred bans.';

/** Marks our chain: `-C` on it tells, without listing the ban rules, that the chain exists and was not flushed. */
const SENTINEL = ['-m', 'comment', '--comment', 'sipwarden: allow and ban rules follow'];

export function createIptablesEnforcer(options: IptablesEnforcerOptions = {}): Enforcer {
  return new IptablesEnforcer(options);
}

type Family = 4 | 6;
const FAMILIES: readonly Family[] = [4, 6];

/**
 * The last resort for hosts without nftables or ipset: one `-s ADDR -j DROP` rule per ban in a chain of ours
 * (iptables for IPv4, ip6tables for IPv6), jumped to from the top of INPUT (and FORWARD).
 *
 *   -A SIPWARDEN -m comment --comment "sipwarden: ..."    (sentinel, matches nothing)
 *   -A SIPWARDEN -s <allowed> -j RETURN                   (one per allowlist entry)
 *   -A SIPWARDEN -s <banned> -j DROP                      (one per ban)
 *
 * Batches go through `iptables-restore --noflush`, one process per family and batch, atomic. iptables has no
 * timeouts, so expiry lives in an in-memory table: an unref'd timer removes rules when they run out, and every
 * apply sweeps too. A ban therefore outlives a stopped daemon until the next start-up reconcile.
 */
class IptablesEnforcer implements Enforcer {
  readonly name = 'iptables';
  private readonly runner: CommandRunner;
  private readonly chains: Record<Family, OwnChain>;
  private readonly allowRules: Record<Family, string[]> = { 4: [], 6: [] };
  private readonly table = new BanTable();
  private readonly queue = new SerialQueue();
  private readonly timer = new ExpiryTimer(() => this.queue.run(() => this.sweep()));
  private readonly onWarning: (message: string) => void;
  private warned = false;

  constructor(options: IptablesEnforcerOptions) {
    const name = options.chain ?? 'SIPWARDEN';
    if (!/^[A-Za-z0-9_-]{1,28}$/.test(name)) throw swError('SW_ERR_CONFIG', `iptables chain "${name}": use 1-28 letters, digits, _ or -`);
    this.runner = options.runner ?? commandRunner();
    this.onWarning = options.onWarning ?? ((message) => process.emitWarning(message));
    for (const entry of options.allow ?? []) {
      const parsed = parseBanTarget(entry);
      if ('reason' in parsed) throw swError('SW_ERR_CONFIG', `iptables allow entry "${entry}": ${parsed.reason}`);
      this.allowRules[parsed.cidr.family].push(`-A ${name} -s ${parsed.canonical} -j RETURN`);
    }
    const hooks = options.forward ? ['INPUT', 'FORWARD'] : ['INPUT'];
    this.chains = { 4: { family: 4, name, hooks, fixedRules: [SENTINEL] }, 6: { family: 6, name, hooks, fixedRules: [SENTINEL] } };
  }

  init(): Promise<void> {
    if (!this.warned) {
      this.warned = true;
      this.onWarning(LINEAR_RULES_WARNING);
    }
    return this.queue.run(async () => {
      for (const family of FAMILIES) await ensureChain(this.runner, this.chains[family], () => this.rebuild(family));
    });
  }

  apply(changes: readonly EnforcementChange[], now: number): Promise<void> {
    return this.queue.run(async () => {
      const failed: { target: string; reason: string }[] = [];
      const rules = this.expiredRules();
      for (const change of changes) {
        const parsed = parseBanTarget(change.target);
        if ('reason' in parsed) {
          failed.push({ target: change.target, reason: parsed.reason });
          continue;
        }
        const { canonical: target, cidr } = parsed;
        const known = this.table.has(target);
        if (change.op === 'ban' && (change.expiresAt === null || change.expiresAt > now)) {
          // A re-ban only moves the expiry: the rule is already there.
          this.table.set({ target, cidr, expiresAt: change.expiresAt, deadline: deadlineOf(change.expiresAt, now) });
          if (!known) rules[cidr.family].push(this.rule('-A', target));
        } else if (known) {
          this.table.delete(target);
          rules[cidr.family].push(this.rule('-D', target));
        }
      }
      failed.push(...(await this.commit(rules)));
      this.timer.schedule(this.table.nextDeadline());
      if (failed.length > 0) throw batchError('iptables', failed);
    });
  }

  reconcile(active: readonly BanEntry[], now: number): Promise<void> {
    return this.queue.run(async () => {
      const failed: { target: string; reason: string }[] = [];
      this.table.clear();
      for (const ban of active) {
        const parsed = parseBanTarget(ban.target);
        if ('reason' in parsed) failed.push({ target: ban.target, reason: parsed.reason });
        else if (ban.expiresAt === null || ban.expiresAt > now) {
          this.table.set({ target: parsed.canonical, cidr: parsed.cidr, expiresAt: ban.expiresAt, deadline: deadlineOf(ban.expiresAt, now) });
        }
      }
      for (const family of FAMILIES) await this.rebuild(family);
      this.timer.schedule(this.table.nextDeadline());
      if (failed.length > 0) throw batchError('iptables', failed);
    });
  }

  /** Checks the sentinel and the jumps with `-C` (never lists the ban rules); rebuilds the chain from the table. */
  verify(): Promise<VerifyResult> {
    return this.queue.run(async () => {
      try {
        const repaired: string[] = [];
        for (const family of FAMILIES) repaired.push(...(await ensureChain(this.runner, this.chains[family], () => this.rebuild(family))));
        if (repaired.length === 0) return { ok: true, repaired: false, detail: 'iptables: chain and jumps in place' };
        return { ok: true, repaired: true, detail: `iptables: recreated ${repaired.join(', ')}` };
      } catch (error) {
        return { ok: false, repaired: false, detail: `iptables: cannot repair: ${error instanceof Error ? error.message : String(error)}` };
      }
    });
  }

  /**
   * The table finds the covering ban in O(prefix lengths); `iptables -C` confirms the rule is really in the kernel.
   * Packet counts would need `iptables -L -v`, which lists every rule, so they are not reported.
   */
  async lookup(ip: string): Promise<BanState> {
    const address = normalizeIp(ip);
    if (!address) throw swError('SW_ERR_ENFORCER', `iptables lookup: "${ip}" is not an address`);
    const entry = this.table.match(address);
    if (!entry || entry.deadline <= monotonicNow()) return { banned: false };
    const bin = entry.cidr.family === 4 ? 'iptables' : 'ip6tables';
    try {
      await this.runner.run([bin, '-w', '-C', this.chains[4].name, '-s', entry.target, '-j', 'DROP']);
    } catch {
      return { banned: false };
    }
    return { banned: true, expiresAt: entry.expiresAt };
  }

  uninstall(): Promise<void> {
    return this.queue.run(async () => {
      this.timer.cancel();
      this.table.clear();
      for (const family of FAMILIES) await removeChain(this.runner, this.chains[family]);
    });
  }

  async close(): Promise<void> {
    this.timer.cancel();
  }

  private rule(op: '-A' | '-D', target: string): string {
    return `${op} ${this.chains[4].name} -s ${target} -j DROP`;
  }

  /** Takes expired bans out of the table and returns the `-D` rules that remove them from the kernel. */
  private expiredRules(): Record<Family, string[]> {
    const rules: Record<Family, string[]> = { 4: [], 6: [] };
    for (const entry of this.table.expired()) {
      this.table.delete(entry.target);
      rules[entry.cidr.family].push(this.rule('-D', entry.target));
    }
    return rules;
  }

  private async sweep(): Promise<void> {
    const failed = await this.commit(this.expiredRules());
    this.timer.schedule(this.table.nextDeadline());
    if (failed.length > 0) throw batchError('iptables expiry', failed);
  }

  /**
   * One atomic restore per family. If it fails (a rule we delete was already removed by hand, say), the table is
   * the truth: the chain is rebuilt from it in one more restore.
   */
  private async commit(rules: Record<Family, string[]>): Promise<{ target: string; reason: string }[]> {
    const failed: { target: string; reason: string }[] = [];
    for (const family of FAMILIES) {
      try {
        await restoreRules(this.runner, family, rules[family]);
      } catch {
        try {
          await this.rebuild(family);
        } catch (error) {
          const reason = error instanceof Error ? error.message : String(error);
          for (const rule of rules[family]) failed.push({ target: rule.split(' ')[3] ?? rule, reason });
        }
      }
    }
    return failed;
  }

  private rebuild(family: Family): Promise<void> {
    const bans = [...this.table.values()].filter((entry) => entry.cidr.family === family).map((entry) => this.rule('-A', entry.target));
    return rebuildChain(this.runner, this.chains[family], [...this.allowRules[family], ...bans]);
  }
}
