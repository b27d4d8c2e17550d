import type { Clock } from '../../core/clock.js';
import { swError } from '../../core/errors.js';
import { maskIp, type Family } from '../../core/ip.js';
import type { CommandRunner } from '../exec.js';
import { assertFeedId, canaryFor, feedEntriesError, FeedTally, parseFeedEntries, type FeedEntry } from '../feed-entries.js';
import type { FeedSets, FeedUpdate } from '../types.js';
import { banOps, runGroups, type Group } from './batch.js';
import { FEEDS_CHAIN } from './layout.js';
import { parseChains, type ListedChain } from './parse.js';

export interface NftFeedContext {
  runner: CommandRunner;
  table: string;
  chunkSize: number;
  /** Runs element timeouts and `size`. */
  clock: Clock;
  /** Whether re-adding an element replaces its timeout (probed by the enforcer's init). */
  updatesTimeouts(): boolean;
}

type Generation = 'a' | 'b';
/** One set per address family and prefix length: `4/24`. */
type Length = `${Family}/${number}`;

/** A feed's chain as `nft list chains` shows it: the generation in its name, its sets in its comment. */
interface FeedChain {
  feed: string;
  generation: Generation;
  name: string;
  lengths: Length[];
}

const MARK = 'sipwarden feed';
const CHAIN_NAME = /^feed_(.+)_([ab])$/;
const FULL: readonly Length[] = ['4/32', '6/128'];
const lengthOf = (entry: FeedEntry): Length => `${entry.cidr.family}/${entry.cidr.prefix}`;
const splitLength = (length: Length) => length.split('/').map(Number) as [Family, number];

/**
 * Feed sets in sipwarden's table. Each feed has a chain `feed_<id>_<a|b>` that the `feeds` chain jumps to (after
 * the allowlist and the bans), holding one drop rule per hash set `feed_<id>_<a|b><family>_<prefix length>`
 * (`ip saddr & 255.255.255.0 @feed_voipbl_a4_24 drop`). Hash sets, not interval sets: nft 1.0.6 downloads every
 * interval set of every table before any `add element`, so one 100k-entry interval set made each ban take
 * 0.6 s instead of 4 ms. Hashing per prefix length is what ipset's hash:net does; a packet costs one lookup per
 * length in use.
 *
 * A replace fills the other generation's sets in chunks, then swaps in one small transaction (the feed's chain
 * is replaced and the jump points to it), then the old sets go. Each set holds a canary (feed-entries.ts):
 * `check` tests for it with a check-mode `delete element`, which the kernel answers without listing the set.
 */
export class NftFeedSets implements FeedSets {
  private readonly tally: FeedTally;

  constructor(private readonly context: NftFeedContext) {
    this.tally = new FeedTally(context.clock);
  }

  async apply(update: FeedUpdate): Promise<void> {
    assertFeedId('nftables', update.feed);
    const { entries, bad } = parseFeedEntries(update.entries);
    const chains = await this.liveChains();
    const live = chains.get(update.feed);
    let failed: Set<string>;
    if (update.mode === 'replace') {
      const generation: Generation = live?.generation === 'a' ? 'b' : 'a';
      const lengths = union(FULL, entries.map(lengthOf));
      await this.prepare(update.feed, generation, lengths, await this.allChains());
      failed = await this.fill(entries.map((e) => ({ target: e.key, ops: [{ phase: 0, verb: 'add', set: setName(update.feed, generation, lengthOf(e)), element: e.cidr.network }] })));
      await this.point({ feed: update.feed, generation, name: chainName(update.feed, generation), lengths }, chains, live);
      this.tally.replaced(update.feed, entries.filter((e) => !failed.has(e.key)));
    } else {
      const generation = live?.generation ?? 'a';
      const lengths = union(live?.lengths ?? FULL, entries.map(lengthOf));
      if (!live || lengths.length > live.lengths.length) {
        const t = `inet ${this.context.table}`;
        await this.nft(['-f', '-'], lengths.map((l) => `${this.declare(update.feed, generation, l)}add element ${t} ${setName(update.feed, generation, l)} { ${canaryFor(...splitLength(l))} }\n`).join(''));
        await this.point({ feed: update.feed, generation, name: chainName(update.feed, generation), lengths }, chains, live, false);
      }
      const now = this.context.clock.now();
      const expiresAt = now + update.timeoutMs;
      failed = await this.fill(entries.map((e) => ({ target: e.key, ops: banOps(setName(update.feed, generation, lengthOf(e)), e.cidr.network, expiresAt, now, this.context.updatesTimeouts()) })));
      this.tally.added(update.feed, entries.filter((e) => !failed.has(e.key)), update.timeoutMs);
    }
    if (bad.length + failed.size > 0) throw feedEntriesError('nftables', update.feed, [...bad, ...failed], update.entries.length);
  }

  async check(): Promise<{ feed: string; ok: boolean; detail: string }[]> {
    const chains = await this.liveChains();
    const feeds = [...new Set([...this.tally.names(), ...chains.keys()])].sort();
    const results: { feed: string; ok: boolean; detail: string }[] = [];
    for (const feed of feeds) {
      const chain = chains.get(feed);
      if (!chain) {
        results.push({ feed, ok: false, detail: `nftables: feed ${feed}: chain and sets missing; reload the feed in full` });
        continue;
      }
      // Fails unless every set still holds its canary, the chain its rules, and `feeds` its jumps; lists nothing.
      const t = `inet ${this.context.table}`;
      const probe = [
        ...chain.lengths.map((length) => `delete element ${t} ${setName(feed, chain.generation, length)} { ${canaryFor(...splitLength(length))} }`),
        `add rule ${t} ${chain.name} index ${chain.lengths.length - 1} counter`,
        `add rule ${t} ${FEEDS_CHAIN} index ${chains.size - 1} counter`,
      ];
      try {
        await this.context.runner.run(['nft', '-c', '-f', '-'], `${probe.join('\n')}\n`);
        results.push({ feed, ok: true, detail: `nftables: feed ${feed}: ${chain.lengths.length} sets with their canaries, chain ${chain.name} jumped to` });
      } catch (error) {
        const why = String((error as Error)?.message).split('\n').find((line) => /^(add|delete) /.test(line.trim())) ?? 'probe failed';
        results.push({ feed, ok: false, detail: `nftables: feed ${feed}: a set was flushed or an object removed (${why.trim()}); reload the feed in full` });
      }
    }
    return results;
  }

  size(feed: string): number {
    return this.tally.size(feed);
  }

  async remove(feed: string): Promise<void> {
    assertFeedId('nftables', feed);
    const all = await this.allChains();
    const chains = await this.liveChains(all);
    const gone = all.filter((c) => c.feed === feed);
    this.tally.forget(feed);
    if (gone.length === 0) return;
    const t = `inet ${this.context.table}`;
    const lines = [`flush chain ${t} ${FEEDS_CHAIN}`];
    for (const chain of chains.values()) if (chain.feed !== feed) lines.push(`add rule ${t} ${FEEDS_CHAIN} jump ${chain.name}`);
    lines.push(...gone.flatMap((c) => this.drop(c)));
    await this.nft(['-f', '-'], `${lines.join('\n')}\n`);
  }

  /** After the table was deleted (uninstall): nothing is loaded any more. */
  forgetAll(): void {
    this.tally.clear();
  }

  /** Creates a generation's sets empty, with their canaries; a leftover of a crashed replace goes first. */
  private async prepare(feed: string, generation: Generation, lengths: readonly Length[], all: readonly FeedChain[]): Promise<void> {
    const leftover = all.find((c) => c.feed === feed && c.generation === generation);
    const t = `inet ${this.context.table}`;
    const lines = leftover ? [`flush chain ${t} ${FEEDS_CHAIN}`, ...this.drop(leftover)] : [];
    if (leftover) for (const chain of (await this.liveChains(all)).values()) if (chain !== leftover) lines.push(`add rule ${t} ${FEEDS_CHAIN} jump ${chain.name}`);
    for (const length of lengths) lines.push(this.declare(feed, generation, length).trimEnd(), `flush set ${t} ${setName(feed, generation, length)}`, `add element ${t} ${setName(feed, generation, length)} { ${canaryFor(...splitLength(length))} }`);
    await this.nft(['-f', '-'], `${lines.join('\n')}\n`);
  }

  /**
   * One transaction: the feed's chain is rebuilt for `next` and every feed is jumped to again; with `dropOld`,
   * the chain and sets of the other generation go too. The kernel commits it at once, so a packet meets either
   * the old sets or the new ones, never neither.
   */
  private async point(next: FeedChain, chains: Map<string, FeedChain>, live: FeedChain | undefined, dropOld = true): Promise<void> {
    const t = `inet ${this.context.table}`;
    const lines = [`flush chain ${t} ${FEEDS_CHAIN}`];
    if (live) lines.push(`flush chain ${t} ${live.name}`, `delete chain ${t} ${live.name}`);
    lines.push(`add chain ${t} ${next.name} { comment "${MARK} ${next.lengths.join(' ')}"; }`);
    for (const length of next.lengths) lines.push(`add rule ${t} ${next.name} ${dropRule(setName(next.feed, next.generation, length), length)}`);
    for (const chain of chains.values()) if (chain.feed !== next.feed) lines.push(`add rule ${t} ${FEEDS_CHAIN} jump ${chain.name}`);
    lines.push(`add rule ${t} ${FEEDS_CHAIN} jump ${next.name}`);
    if (live && dropOld && live.generation !== next.generation) lines.push(...live.lengths.map((length) => `delete set ${t} ${setName(live.feed, live.generation, length)}`));
    await this.nft(['-f', '-'], `${lines.join('\n')}\n`);
  }

  private declare(feed: string, generation: Generation, length: Length): string {
    const type = length.startsWith('4/') ? 'ipv4_addr' : 'ipv6_addr';
    return `add set inet ${this.context.table} ${setName(feed, generation, length)} { type ${type}; flags timeout; }\n`;
  }

  /** Deletes a chain that no rule jumps to any more, and its sets. */
  private drop(chain: FeedChain): string[] {
    const t = `inet ${this.context.table}`;
    return [`flush chain ${t} ${chain.name}`, `delete chain ${t} ${chain.name}`, ...chain.lengths.map((length) => `delete set ${t} ${setName(chain.feed, chain.generation, length)}`)];
  }

  private async fill(groups: Group[]): Promise<Set<string>> {
    const failures = await runGroups(this.context.runner, this.context.table, groups, this.context.chunkSize);
    return new Set(failures.map((f) => f.target));
  }

  /** Feed chains from `nft list chains` (no rules, no elements: cheap at any feed size). */
  private async allChains(): Promise<FeedChain[]> {
    const listed = parseChains((await this.nft(['list', 'chains', 'inet'])).stdout, this.context.table) ?? [];
    return listed.flatMap((chain) => toFeedChain(chain) ?? []);
  }

  /**
   * The chain `feeds` jumps to, per feed. Two generations side by side mean a replace was cut short; the one
   * still jumped to is the one a check-mode delete refuses (EBUSY), without listing any rule.
   */
  private async liveChains(all?: readonly FeedChain[]): Promise<Map<string, FeedChain>> {
    const live = new Map<string, FeedChain>();
    for (const chain of all ?? (await this.allChains())) {
      const other = live.get(chain.feed);
      if (!other) live.set(chain.feed, chain);
      else if (!(await this.jumpedTo(other))) live.set(chain.feed, chain);
    }
    return live;
  }

  private async jumpedTo(chain: FeedChain): Promise<boolean> {
    const t = `inet ${this.context.table}`;
    try {
      await this.context.runner.run(['nft', '-c', '-f', '-'], `flush chain ${t} ${chain.name}\ndelete chain ${t} ${chain.name}\n`);
      return false;
    } catch {
      return true;
    }
  }

  private async nft(args: string[], input?: string) {
    try {
      return await this.context.runner.run(['nft', ...args], input);
    } catch (error) {
      const missing = /No such file or directory/.test(String((error as Error)?.message));
      const hint = missing ? `table inet ${this.context.table} or its feeds chain is missing (was the ruleset flushed?); verify() recreates it, then reload the feeds` : 'feed update failed';
      throw swError('SW_ERR_ENFORCER', `nftables: ${hint}: ${String((error as Error)?.message).slice(0, 300)}`, error);
    }
  }
}

function chainName(feed: string, generation: Generation): string {
  return `feed_${feed}_${generation}`;
}

function setName(feed: string, generation: Generation, length: Length): string {
  return `feed_${feed}_${generation}${length.replace('/', '_')}`;
}

function dropRule(set: string, length: Length): string {
  const [family, prefix] = splitLength(length);
  const saddr = family === 4 ? 'ip saddr' : 'ip6 saddr';
  if (prefix === (family === 4 ? 32 : 128)) return `${saddr} @${set} drop`;
  return `${saddr} & ${maskIp(family === 4 ? '255.255.255.255' : 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', prefix)} @${set} drop`;
}

function toFeedChain(chain: ListedChain): FeedChain | null {
  const name = CHAIN_NAME.exec(chain.name);
  if (!name || !chain.comment?.startsWith(`${MARK} `)) return null;
  const lengths = chain.comment.slice(MARK.length + 1).split(' ').filter((l) => /^(4|6)\/\d{1,3}$/.test(l)) as Length[];
  return { feed: name[1] as string, generation: name[2] as Generation, name: chain.name, lengths };
}

/** Lengths of both, in a fixed order (the chain's rules and comment follow it). */
function union(a: readonly Length[], b: readonly Length[]): Length[] {
  return [...new Set([...a, ...b])].sort((x, y) => {
    const [fx, px] = splitLength(x);
    const [fy, py] = splitLength(y);
    return fx - fy || py - px;
  });
}
