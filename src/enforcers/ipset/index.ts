import { systemClock, type Clock } from '../../core/clock.js';
import { normalizeIp, ipFamily } from '../../core/ip.js';
import { swError } from '../../core/errors.js';
import { commandRunner, type CommandRunner } from '../exec.js';
import { batchError, deadlineOf, monotonicNow, parseBanTarget, SerialQueue } from '../ban-table.js';
import { ensureChain, rebuildChain, removeChain, type OwnChain } from '../iptables/chain.js';
import type { BanEntry, BanState, EnforcementChange, Enforcer, VerifyResult } from '../types.js';
import { IpsetFeedSets } from './feeds.js';
import { ipsetRestore, MAX_ELEMENTS, MAX_TIMEOUT_SECONDS, type RestoreLine } from './restore.js';

export interface IpsetEnforcerOptions {
  runner?: CommandRunner;
  /** Names our sets (`<prefix>4`, `<prefix>6`, `<prefix>-allow4`, ...) and, upper-cased, our chain. */
  prefix?: string;
  /** Also jump from FORWARD, for a host that routes traffic to the PBX (a gateway or a container host). */
  forward?: boolean;
  /** Addresses and prefixes our chain lets through before the ban sets. */
  allow?: string[];
  /** Runs feed entry timeouts (default: the system clock). */
  clock?: Clock;
}

/** Bans longer than ipset's timeout limit are re-added this often, long before their clamped timeout runs out. */
const LONG_BAN_REFRESH_MS = 86_400_000;

export function createIpsetEnforcer(options: IpsetEnforcerOptions = {}): Enforcer {
  return new IpsetEnforcer(options);
}

type Family = 4 | 6;
const FAMILIES: readonly Family[] = [4, 6];

/**
 * Bans in one `hash:net` set per family with in-kernel timeouts and packet counters, matched by one chain of ours
 * (`iptables -m set`): O(1) per packet whatever the number of bans, and bans expire even while sipwarden is down.
 *
 * Layout, per family (ip6tables for IPv6):
 *   ipset:    <prefix>4 hash:net family inet timeout 0 counters     (the bans; timeout 0 = permanent)
 *             <prefix>-allow4 hash:net family inet                  (the allowlist)
 *   filter:   -A SIPWARDEN -m set --match-set <prefix>-allow4 src -j RETURN
 *             -A SIPWARDEN -m set --match-set <prefix>4 src -j DROP
 *             -I INPUT 1 -j SIPWARDEN (and FORWARD)
 * The allowlist RETURNs rather than ACCEPTs: it exempts addresses from our bans without overriding the operator's
 * own rules further down INPUT, which is what an accept in our own nftables table means too.
 */
class IpsetEnforcer implements Enforcer {
  readonly name = 'ipset';
  private readonly runner: CommandRunner;
  private readonly banSet: Record<Family, string>;
  private readonly allowSet: Record<Family, string>;
  private readonly chains: OwnChain[];
  private allow: Record<Family, string[]> = { 4: [], 6: [] };
  /** Bans longer than the timeout limit, by target: the monotonic deadline they really end at. */
  private readonly longBans = new Map<string, { family: Family; deadline: number }>();
  private readonly queue = new SerialQueue();
  private refreshTimer: NodeJS.Timeout | undefined;
  readonly feeds: IpsetFeedSets;

  constructor(options: IpsetEnforcerOptions) {
    const prefix = options.prefix ?? 'sipwarden';
    // ipset names stop at 31 characters; `-allow4-next` is the longest suffix we add.
    if (!/^[A-Za-z0-9_]{1,19}$/.test(prefix)) throw swError('SW_ERR_CONFIG', `ipset prefix "${prefix}": use 1-19 letters, digits or _`);
    this.runner = options.runner ?? commandRunner();
    this.banSet = { 4: `${prefix}4`, 6: `${prefix}6` };
    this.allowSet = { 4: `${prefix}-allow4`, 6: `${prefix}-allow6` };
    this.allow = parseAllow(options.allow ?? []);
    const hooks = options.forward ? ['INPUT', 'FORWARD'] : ['INPUT'];
    this.chains = FAMILIES.map((family) => ({
      family,
      name: prefix.toUpperCase(),
      hooks,
      fixedRules: [
        ['-m', 'set', '--match-set', this.allowSet[family], 'src', '-j', 'RETURN'],
        ['-m', 'set', '--match-set', this.banSet[family], 'src', '-j', 'DROP'],
      ],
    }));
    this.feeds = new IpsetFeedSets({ runner: this.runner, chain: prefix.toUpperCase(), clock: options.clock ?? systemClock });
  }

  init(): Promise<void> {
    return this.queue.run(async () => {
      await this.ensureSets();
      for (const chain of this.chains) await this.ensureChain(chain);
    });
  }

  apply(changes: readonly EnforcementChange[], now: number): Promise<void> {
    return this.queue.run(async () => {
      const lines: RestoreLine[] = [];
      const failed: { target: string; reason: string }[] = [];
      for (const change of changes) {
        const parsed = parseBanTarget(change.target);
        if ('reason' in parsed) {
          failed.push({ target: change.target, reason: parsed.reason });
          continue;
        }
        const { canonical: target, cidr } = parsed;
        this.longBans.delete(target);
        const line = change.op === 'ban' ? this.addLine(this.banSet[cidr.family], target, cidr.family, change.expiresAt, now) : undefined;
        lines.push(line ?? { text: `del ${this.banSet[cidr.family]} ${target}`, target });
      }
      failed.push(...(await ipsetRestore(this.runner, lines)).failed);
      this.scheduleRefresh();
      if (failed.length > 0) throw batchError('ipset', failed);
    });
  }

  /**
   * Fills a fresh set per family and swaps it in (`ipset swap` is atomic), so banned sources are never let through
   * while a large restore runs, and the iptables rules keep pointing at the live set.
   */
  reconcile(active: readonly BanEntry[], now: number): Promise<void> {
    return this.queue.run(async () => {
      const lines: Record<Family, RestoreLine[]> = { 4: [], 6: [] };
      const failed: { target: string; reason: string }[] = [];
      this.longBans.clear();
      for (const ban of active) {
        const parsed = parseBanTarget(ban.target);
        if ('reason' in parsed) failed.push({ target: ban.target, reason: parsed.reason });
        else {
          const line = this.addLine(`${this.banSet[parsed.cidr.family]}-next`, parsed.canonical, parsed.cidr.family, ban.expiresAt, now);
          if (line) lines[parsed.cidr.family].push(line);
        }
      }
      for (const family of FAMILIES) failed.push(...(await this.replaceSet(this.banSet[family], family, true, lines[family])).failed);
      this.scheduleRefresh();
      if (failed.length > 0) throw batchError('ipset', failed);
    });
  }

  verify(): Promise<VerifyResult> {
    return this.queue.run(async () => {
      try {
        // `list -t` prints headers only: its cost does not grow with the number of members.
        const { stdout } = await this.runner.run(['ipset', 'list', '-t']);
        const present = new Set([...stdout.matchAll(/^Name: (\S+)$/gm)].map((m) => m[1]));
        const missing = FAMILIES.flatMap((f) => [this.banSet[f], this.allowSet[f]]).filter((name) => !present.has(name));
        if (missing.length > 0) await this.ensureSets();
        const repaired = missing.map((name) => `ipset ${name}`);
        for (const chain of this.chains) repaired.push(...(await this.ensureChain(chain)));
        if (repaired.length === 0) return { ok: true, repaired: false, detail: 'ipset: sets, chain and jumps in place' };
        return { ok: true, repaired: true, detail: `ipset: recreated ${repaired.join(', ')}` };
      } catch (error) {
        return { ok: false, repaired: false, detail: `ipset: cannot repair: ${error instanceof Error ? error.message : String(error)}` };
      }
    });
  }

  /** `ipset test` answers by exit code in O(1); ipset has no way to read one member's timeout or counters without listing the set. */
  async lookup(ip: string): Promise<BanState> {
    const address = normalizeIp(ip);
    const family = address ? ipFamily(address) : 0;
    if (!address || family === 0) throw swError('SW_ERR_ENFORCER', `ipset lookup: "${ip}" is not an address`);
    try {
      await this.runner.run(['ipset', 'test', this.banSet[family], address]);
      return { banned: true };
    } catch (error) {
      if (error instanceof Error && /is NOT in set/.test(error.message)) return { banned: false };
      throw error;
    }
  }

  uninstall(): Promise<void> {
    return this.queue.run(async () => {
      this.longBans.clear();
      this.scheduleRefresh();
      // Rules first: ipset refuses to destroy a set that a rule still references.
      for (const chain of this.chains) await removeChain(this.runner, chain);
      await this.feeds.destroyAll();
      const sets = FAMILIES.flatMap((f) => [this.banSet[f], this.allowSet[f]]);
      await ipsetRestore(this.runner, [...sets, ...sets.map((name) => `${name}-next`)].map((name) => ({ text: `destroy ${name}` })));
    });
  }

  async close(): Promise<void> {
    clearInterval(this.refreshTimer);
    this.refreshTimer = undefined;
  }

  /** A rebuilt chain gets the feeds' rules back after its fixed rules, for the feed sets that still exist. */
  private ensureChain(chain: OwnChain): Promise<string[]> {
    return ensureChain(this.runner, chain, async () => rebuildChain(this.runner, chain, await this.feeds.rules(chain.family)));
  }

  /** Swaps a new allowlist in (`ipset swap` per family: no moment without one). */
  async replaceAllow(entries: readonly string[]): Promise<void> {
    this.allow = parseAllow(entries);
    const failed: { target: string; reason: string }[] = [];
    for (const family of FAMILIES) {
      const lines = this.allow[family].map((target) => ({ text: `add ${this.allowSet[family]}-next ${target}`, target }));
      failed.push(...(await this.replaceSet(this.allowSet[family], family, false, lines)).failed);
    }
    if (failed.length > 0) throw batchError('ipset allowlist', failed);
  }

  /** Creates the ban sets where missing (`-exist` keeps existing ones and their bans) and reloads the allowlist. */
  private async ensureSets(): Promise<void> {
    try {
      await ipsetRestore(this.runner, FAMILIES.map((family) => ({ text: `create ${this.banSet[family]} ${setSpec(family, true)}` })));
    } catch (error) {
      throw swError('SW_ERR_ENFORCER', 'ipset: cannot create the ban sets; if a set of that name exists with other parameters, run uninstall first', error);
    }
    const failed: { target: string; reason: string }[] = [];
    for (const family of FAMILIES) {
      const lines = this.allow[family].map((target) => ({ text: `add ${this.allowSet[family]}-next ${target}`, target }));
      failed.push(...(await this.replaceSet(this.allowSet[family], family, false, lines)).failed);
    }
    if (failed.length > 0) throw batchError('ipset allowlist', failed);
  }

  /** Builds `<name>-next`, swaps it with `<name>` (created if missing) and drops the old content. */
  private replaceSet(name: string, family: Family, timeouts: boolean, lines: RestoreLine[]) {
    const spec = setSpec(family, timeouts);
    return ipsetRestore(this.runner, [
      { text: `destroy ${name}-next` },
      { text: `create ${name}-next ${spec}` },
      ...lines,
      { text: `create ${name} ${spec}` },
      { text: `swap ${name}-next ${name}` },
      { text: `destroy ${name}-next` },
    ]);
  }

  /** The `add` line for a ban, or undefined when it has already run out (timeout 0 would make it permanent). */
  private addLine(set: string, target: string, family: Family, expiresAt: number | null, now: number): RestoreLine | undefined {
    if (expiresAt === null) return { text: `add ${set} ${target} timeout 0`, target };
    const seconds = Math.ceil((expiresAt - now) / 1000);
    if (seconds <= 0) return undefined;
    if (seconds > MAX_TIMEOUT_SECONDS) this.longBans.set(target, { family, deadline: deadlineOf(expiresAt, now) });
    return { text: `add ${set} ${target} timeout ${Math.min(seconds, MAX_TIMEOUT_SECONDS)}`, target };
  }

  private scheduleRefresh(): void {
    if (this.longBans.size === 0) {
      clearInterval(this.refreshTimer);
      this.refreshTimer = undefined;
    } else if (!this.refreshTimer) {
      this.refreshTimer = setInterval(() => void this.queue.run(() => this.refreshLongBans()).catch(() => undefined), LONG_BAN_REFRESH_MS);
      this.refreshTimer.unref();
    }
  }

  /** Re-adds clamped bans with what is left of them; a failure is retried at the next refresh. */
  private async refreshLongBans(): Promise<void> {
    const now = monotonicNow();
    const lines: RestoreLine[] = [];
    for (const [target, ban] of this.longBans) {
      const seconds = Math.ceil((ban.deadline - now) / 1000);
      if (seconds <= MAX_TIMEOUT_SECONDS) this.longBans.delete(target);
      if (seconds > 0) lines.push({ text: `add ${this.banSet[ban.family]} ${target} timeout ${Math.min(seconds, MAX_TIMEOUT_SECONDS)}`, target });
    }
    await ipsetRestore(this.runner, lines);
    this.scheduleRefresh();
  }
}

function setSpec(family: Family, timeouts: boolean): string {
  const base = `hash:net family ${family === 4 ? 'inet' : 'inet6'} maxelem ${MAX_ELEMENTS}`;
  return timeouts ? `${base} timeout 0 counters` : base;
}

function parseAllow(entries: readonly string[]): Record<Family, string[]> {
  const allow: Record<Family, string[]> = { 4: [], 6: [] };
  for (const entry of entries) {
    const parsed = parseBanTarget(entry);
    if ('reason' in parsed) throw swError('SW_ERR_CONFIG', `ipset allow entry "${entry}": ${parsed.reason}`);
    allow[parsed.cidr.family].push(parsed.canonical);
  }
  return allow;
}
