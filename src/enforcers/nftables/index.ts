import { systemClock, type Clock } from '../../core/clock.js';
import { swError } from '../../core/errors.js';
import { cidrContains, formatCidr, ipFamily, normalizeIp, parseCidr, type Cidr, type Family } from '../../core/ip.js';
import { commandRunner, type CommandRunner } from '../exec.js';
import type { BanEntry, BanState, EnforcementChange, Enforcer, VerifyResult } from '../types.js';
import { banOps, DEFAULT_CHUNK_SIZE, renderTransaction, runGroups, timeoutText, unbanOps, type Failure, type Group } from './batch.js';
import { NftFeedSets } from './feeds.js';
import { NftSession } from './session.js';

/** Batches up to this many targets use the long-lived nft session (one short line); larger ones nft -f. */
const SESSION_MAX_GROUPS = 64;
import { BASE_CHAIN, GUARD_CHAIN, installScript, LAYOUT_MARK, ruleCountProbe, sets, validateLayout, type GuardOptions, type Layout } from './layout.js';
import { parseChains, parseElements, type ListedChain } from './parse.js';
import { coveredByWider, planPrefixes, type PrefixChange } from './prefixes.js';

export { guardRuleset, type GuardOptions } from './layout.js';
export { watchKernelBans } from './watch.js';

export interface NftablesOptions {
  /** Default: `commandRunner()` (no prefix). */
  runner?: CommandRunner;
  /** Default 'sipwarden' (family inet). */
  table?: string;
  /** Default 'all-ports'. */
  scope?: 'all-ports' | 'sip-ports';
  /** Default [5060, 5061]; used by scope sip-ports and the guard. */
  sipPorts?: number[];
  /** Addresses and prefixes that bypass bans and the guard. */
  allow?: string[];
  /** Element operations per nft transaction (default fits a user namespace). */
  chunkSize?: number;
  /** Install the kernel flood guard with the table (default null). */
  guard?: GuardOptions | null;
  /** Trunks and customers: never metered by the guard (it bans on packet rates, which can be forged). */
  guardExempt?: string[];
  /** Runs feed entry timeouts (default: the system clock). */
  clock?: Clock;
}

export function createNftablesEnforcer(options: NftablesOptions = {}): Enforcer {
  return new NftablesEnforcer(options);
}

const BASE_HOOK = 'type filter hook prerouting priority raw; policy accept;';
const isMax = (cidr: Cidr) => cidr.prefix === (cidr.family === 4 ? 32 : 128);
const missingObject = (error: unknown) => /No such file or directory/.test(String((error as Error)?.message));

/**
 * The default backend: sipwarden's own `table inet sipwarden` (see layout.ts for its sets and chains).
 * Every change goes through `nft -f -` in chunked transactions. Objects are checked without listing any
 * ban set, because nft fetches a listed set's elements first and at 1M elements that takes minutes.
 */
function parseAllow(entries: readonly string[]): Cidr[] {
  return entries.map((entry) => {
    try {
      return parseCidr(entry);
    } catch (error) {
      throw swError('SW_ERR_ENFORCER', `nftables: allow entry "${entry}" is not an address or prefix`, error);
    }
  });
}

class NftablesEnforcer implements Enforcer {
  readonly name = 'nftables';
  private readonly runner: CommandRunner;
  private readonly layout: Layout;
  private readonly chunkSize: number;
  private allow: Cidr[];
  private readonly guardExempt: Cidr[];
  /** Whether re-adding an element replaces its timeout; probed by init, false (the safe way) until then. */
  private updatesTimeouts = false;
  /** Small batches (a ban as it happens) go through a long-lived nft; large ones through `nft -f -`. */
  private readonly session: NftSession;
  readonly feeds: NftFeedSets;

  constructor(options: NftablesOptions) {
    this.runner = options.runner ?? commandRunner();
    this.session = new NftSession(this.runner);
    this.layout = { table: options.table ?? 'sipwarden', scope: options.scope ?? 'all-ports', sipPorts: options.sipPorts ?? [5060, 5061], guard: options.guard ?? null };
    validateLayout(this.layout);
    this.chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
    const { runner, layout, chunkSize } = this;
    this.feeds = new NftFeedSets({ runner, table: layout.table, chunkSize, clock: options.clock ?? systemClock, updatesTimeouts: () => this.updatesTimeouts });
    this.allow = parseAllow(options.allow ?? []);
    this.guardExempt = this.layout.guard ? parseAllow(options.guardExempt ?? []) : [];
  }

  async init(): Promise<void> {
    this.assertOurs(await this.listChains());
    await this.install();
    this.updatesTimeouts = await this.probeTimeoutUpdate();
  }

  async apply(changes: readonly EnforcementChange[], now: number): Promise<void> {
    const bad: string[] = [];
    const latest = new Map<string, { change: EnforcementChange; cidr: Cidr }>();
    for (const change of changes) {
      const cidr = this.parseTarget(change.target, bad);
      if (!cidr) continue;
      const key = formatCidr(cidr);
      latest.delete(key); // the last change for a target wins, as if applied one by one
      latest.set(key, { change, cidr });
    }
    const groups: Group[] = [];
    const prefixes: PrefixChange[] = [];
    for (const [key, { change, cidr }] of latest) {
      const expiresAt = change.op === 'ban' ? change.expiresAt : null;
      if (!isMax(cidr)) prefixes.push({ cidr, key, op: change.op, expiresAt });
      else if (change.op === 'ban') groups.push({ target: key, ops: banOps(sets.ban(cidr.family), key, expiresAt, now, this.updatesTimeouts) });
      else groups.push({ target: key, ops: unbanOps(sets.ban(cidr.family), key) });
    }
    const failures: Failure[] = [];
    if (prefixes.length > 0) {
      const plan = planPrefixes(prefixes, await this.enforcedPrefixes(prefixes), (c) => sets.banNet(c.family), now, this.updatesTimeouts);
      failures.push(...(await this.run(plan.first)));
      groups.unshift(...plan.main);
    }
    failures.push(...(await this.run(groups)));
    this.report(bad, failures, changes.length);
  }

  async reconcile(active: readonly BanEntry[], now: number): Promise<void> {
    const bad: string[] = [];
    const wanted = new Map<string, { cidr: Cidr; expiresAt: number | null }>();
    for (const ban of active) {
      if (ban.expiresAt !== null && ban.expiresAt <= now) continue;
      const cidr = this.parseTarget(ban.target, bad);
      if (!cidr) continue;
      const key = formatCidr(cidr);
      const known = wanted.get(key);
      // Two decisions for one target: the longer one holds.
      if (!known || (known.expiresAt !== null && (ban.expiresAt === null || ban.expiresAt > known.expiresAt))) wanted.set(key, { cidr, expiresAt: ban.expiresAt });
    }
    const groups: Group[] = [];
    const prefixKeys = new Set<string>();
    const byWidth = [...wanted].sort(([, a], [, b]) => a.cidr.prefix - b.cidr.prefix);
    for (const [key, { cidr, expiresAt }] of byWidth) {
      const prefix = !isMax(cidr);
      if (prefix && coveredByWider(prefixKeys, cidr)) continue;
      if (prefix) prefixKeys.add(key);
      const set = prefix ? sets.banNet(cidr.family) : sets.ban(cidr.family);
      groups.push({ target: key, ops: [{ phase: 0, verb: 'add', set, element: `${key}${timeoutText(expiresAt, now)}` }] });
    }
    const t = this.layout.table;
    // The flush shares the first transaction with the first chunk: a small restore is atomic.
    const flush = ([4, 6] as const).flatMap((f) => [`flush set inet ${t} ${sets.ban(f)}\n`, `flush set inet ${t} ${sets.banNet(f)}\n`]).join('');
    this.report(bad, await this.run(groups, flush), active.length);
  }

  async verify(): Promise<VerifyResult> {
    const chains = await this.listChains();
    const missing = this.missingObjects(chains);
    if (missing.length === 0) {
      try {
        await this.nft(['-c', '-f', '-'], ruleCountProbe(this.layout));
      } catch (error) {
        if (!missingObject(error)) throw error;
        missing.push(`rules of chain ${BASE_CHAIN}${this.layout.guard ? ` or ${GUARD_CHAIN}` : ''}`);
      }
    }
    const table = `table inet ${this.layout.table}`;
    if (missing.length === 0) return { ok: true, repaired: false, detail: `${table}: chains, rules and sets present` };
    this.assertOurs(chains);
    await this.install();
    return { ok: true, repaired: true, detail: `${table}: ${missing.join(', ')} missing; recreated (bans need a reconcile)` };
  }

  async lookup(ip: string, now: number): Promise<BanState> {
    const address = normalizeIp(ip);
    if (!address) throw swError('SW_ERR_ENFORCER', `nftables: "${ip}" is not an address`);
    const family = ipFamily(address) as Family;
    const state = (packets?: number, expiresIn?: number): BanState => ({ banned: true, expiresAt: expiresIn === undefined ? null : now + expiresIn, packets });
    const exact = await this.getElement(sets.ban(family), address);
    if (exact) return state(exact.packets, exact.expiresIn);
    // nft 1.0.6 `get element` on an interval set loses counters and prefix expiries; prefix sets are small, list it.
    const prefix = (await this.listSet(sets.banNet(family))).find((e) => cidrContains(parseCidr(e.key), address));
    if (prefix) return state(prefix.packets, prefix.expiresIn);
    const kernel = this.layout.guard ? await this.getElement(sets.guard(family), address) : null;
    return kernel ? state(kernel.packets, kernel.expiresIn) : { banned: false };
  }

  async uninstall(): Promise<void> {
    const chains = await this.listChains();
    if (!chains) return;
    this.assertOurs(chains);
    await this.nft(['delete', 'table', 'inet', this.layout.table]);
    this.feeds.forgetAll();
  }

  async close(): Promise<void> {
    this.session.close();
  }

  private parseTarget(target: string, bad: string[]): Cidr | null {
    try {
      return parseCidr(target);
    } catch {
      bad.push(target);
      return null;
    }
  }

  /**
   * Adds a timed element to a scratch set, re-adds it without a timeout, and reads it back: if the timeout is
   * gone, this kernel replaces timeouts on re-add and a ban needs one operation instead of three.
   */
  private async probeTimeoutUpdate(): Promise<boolean> {
    const set = `inet ${this.layout.table} timeoutprobe`;
    await this.nft(['-f', '-'], `add set ${set} { type ipv4_addr; flags timeout; }\nflush set ${set}\nadd element ${set} { 192.0.2.1 timeout 1h }\n`);
    try {
      await this.nft(['-f', '-'], `add element ${set} { 192.0.2.1 }\n`);
      return !(await this.nft(['list', 'set', ...set.split(' ')])).stdout.includes('expires');
    } finally {
      await this.nft(['delete', 'set', ...set.split(' ')]);
    }
  }

  async replaceAllow(entries: readonly string[]): Promise<void> {
    this.allow = parseAllow(entries);
    // install() flushes the allow sets and refills them in the transaction that also re-declares everything.
    await this.install();
  }

  private async install(): Promise<void> {
    const allowKeys = new Set<string>();
    const groups: Group[] = [];
    for (const cidr of [...this.allow].sort((a, b) => a.prefix - b.prefix)) {
      const key = formatCidr(cidr);
      if (allowKeys.has(key) || (!isMax(cidr) && coveredByWider(allowKeys, cidr))) continue;
      allowKeys.add(key);
      const set = isMax(cidr) ? sets.allow(cidr.family) : sets.allowNet(cidr.family);
      groups.push({ target: key, ops: [{ phase: 0, verb: 'add', set, element: key }] });
    }
    // One interval set holds addresses and prefixes alike; it rejects overlaps, so entries inside wider ones go.
    const exemptKeys = new Set<string>();
    for (const cidr of [...this.guardExempt].sort((a, b) => a.prefix - b.prefix)) {
      const key = formatCidr(cidr);
      if (exemptKeys.has(key) || coveredByWider(exemptKeys, cidr)) continue;
      exemptKeys.add(key);
      groups.push({ target: key, ops: [{ phase: 0, verb: 'add', set: sets.guardExempt(cidr.family), element: key }] });
    }
    try {
      const failures = await runGroups(this.runner, this.layout.table, groups, this.chunkSize, installScript(this.layout));
      this.report([], failures, groups.length);
    } catch (error) {
      throw this.explain(error, 'install');
    }
  }

  /** `nft list chains inet` fetches tables and chains only, never set elements: cheap at any number of bans. */
  private async listChains(): Promise<ListedChain[] | null> {
    return parseChains((await this.nft(['list', 'chains', 'inet'])).stdout, this.layout.table);
  }

  private missingObjects(chains: ListedChain[] | null): string[] {
    if (!chains) return [`table inet ${this.layout.table}`];
    const missing: string[] = [];
    const base = chains.find((c) => c.name === BASE_CHAIN);
    if (!base || base.hook !== BASE_HOOK || base.comment !== LAYOUT_MARK) missing.push(`base chain ${BASE_CHAIN}`);
    if (this.layout.guard && !chains.some((c) => c.name === GUARD_CHAIN)) missing.push(`chain ${GUARD_CHAIN}`);
    return missing;
  }

  /** A table of ours carries the marked base chain; an empty table is adopted; anything else is left alone. */
  private assertOurs(chains: ListedChain[] | null): void {
    if (!chains || chains.length === 0 || chains.some((c) => c.name === BASE_CHAIN && c.comment === LAYOUT_MARK)) return;
    const t = this.layout.table;
    throw swError(
      'SW_ERR_ENFORCER',
      `nftables: table inet ${t} exists but was not created by sipwarden (chains: ${chains.map((c) => c.name).join(', ')}); ` +
        `it is left untouched. Remove it yourself (nft delete table inet ${t}) or give sipwarden another table name`,
    );
  }

  private async enforcedPrefixes(changes: readonly PrefixChange[]): Promise<Set<string>> {
    const keys = new Set<string>();
    for (const family of new Set(changes.map((c) => c.cidr.family))) {
      for (const element of await this.listSet(sets.banNet(family))) keys.add(element.key);
    }
    return keys;
  }

  private async listSet(set: string) {
    return parseElements((await this.nft(['list', 'set', 'inet', this.layout.table, set])).stdout);
  }

  private async getElement(set: string, address: string) {
    try {
      return parseElements((await this.nft(['get', 'element', 'inet', this.layout.table, set, `{ ${address} }`])).stdout)[0] ?? null;
    } catch (error) {
      if (missingObject(error)) return null;
      throw error;
    }
  }

  private async run(groups: readonly Group[], prelude = ''): Promise<Failure[]> {
    if (groups.length === 0 && !prelude) return [];
    if (!prelude && groups.length <= SESSION_MAX_GROUPS) {
      try {
        await this.session.run(renderTransaction(this.layout.table, groups));
        return [];
      } catch {
        // Fall through: `nft -f -` retries the batch and isolates the entries that failed, with their errors.
      }
    }
    try {
      return await runGroups(this.runner, this.layout.table, groups, this.chunkSize, prelude);
    } catch (error) {
      throw this.explain(error, 'update');
    }
  }

  private async nft(args: string[], input?: string) {
    try {
      return await this.runner.run(['nft', ...args], input);
    } catch (error) {
      throw this.explain(error, args[0] ?? 'nft');
    }
  }

  /** Turns nft's errors into messages that say what to do. */
  private explain(error: unknown, action: string): Error {
    const text = String((error as Error)?.message ?? error);
    const t = `table inet ${this.layout.table}`;
    const wrap = (message: string) => swError('SW_ERR_ENFORCER', `nftables: ${message}`, error);
    if (/^cannot run \S*nft: .*ENOENT/.test(text)) return wrap('the nft program was not found: install nftables (apt install nftables) or put nft on PATH');
    if (/Operation not permitted|Permission denied/.test(text)) return wrap('permission denied by the kernel: run as root or with CAP_NET_ADMIN');
    if (action === 'install' && /Operation not supported|Protocol not supported/.test(text)) {
      return wrap(`the kernel lacks nf_tables features sipwarden needs (set timeouts, per-element counters, dynamic sets): use Linux ≥ 5.11 (${text.slice(0, 300)})`);
    }
    if (action === 'install' && /File exists|Device or resource busy/.test(text)) {
      return wrap(`${t} exists with a different layout (a set or chain of the same name differs); it is left untouched. Remove it (nft delete table inet ${this.layout.table}) or give sipwarden another table name (${text.slice(0, 300)})`);
    }
    if (action === 'update' && missingObject(error)) return wrap(`${t} or one of its sets is missing (was the ruleset flushed?); verify() recreates it. ${text.slice(0, 300)}`);
    return error instanceof Error ? error : wrap(text);
  }

  private report(bad: readonly string[], failures: readonly Failure[], total: number): void {
    if (bad.length === 0 && failures.length === 0) return;
    const parts: string[] = [];
    if (bad.length > 0) parts.push(`not an address or prefix: ${bad.slice(0, 5).join(', ')}${bad.length > 5 ? ` (+${bad.length - 5})` : ''}`);
    for (const failure of failures.slice(0, 5)) parts.push(`${failure.target}: ${failure.reason.slice(0, 200)}`);
    throw swError('SW_ERR_ENFORCER', `nftables: ${bad.length + failures.length} of ${total} entries failed, the rest applied; ${parts.join('; ')}`);
  }
}
