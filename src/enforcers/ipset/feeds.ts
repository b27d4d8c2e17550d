import { createHash } from 'node:crypto';
import type { Clock } from '../../core/clock.js';
import type { CommandRunner } from '../exec.js';
import { assertFeedId, CANARY, feedEntriesError, FeedTally, parseFeedEntries } from '../feed-entries.js';
import type { FeedSets, FeedUpdate } from '../types.js';
import { ipsetRestore, MAX_ELEMENTS, MAX_TIMEOUT_SECONDS, type RestoreLine } from './restore.js';

type Family = 4 | 6;
const FAMILIES: readonly Family[] = [4, 6];
const PREFIX = 'sw-f-';

export interface IpsetFeedContext {
  runner: CommandRunner;
  /** Our iptables chain (SIPWARDEN): feed rules follow its allowlist RETURN, so allowed sources never reach them. */
  chain: string;
  clock: Clock;
}

/**
 * Feed sets for the ipset backend: one `hash:net ... timeout 0` set per feed and family (`sw-f-<id>4`), each
 * dropped by a rule appended to our chain after the allowlist and the bans. A replace fills `<set>-next` through
 * `ipset restore` and swaps it in (`ipset swap` exchanges the two in the kernel at once, and the rule follows the
 * name), so the old entries stay until the new ones are all in. Each set holds the canary (feed-entries.ts),
 * tested with `ipset test`, O(1).
 */
export class IpsetFeedSets implements FeedSets {
  private readonly tally: FeedTally;

  constructor(private readonly context: IpsetFeedContext) {
    this.tally = new FeedTally(context.clock);
  }

  async apply(update: FeedUpdate): Promise<void> {
    assertFeedId('ipset', update.feed);
    const { entries, bad } = parseFeedEntries(update.entries);
    const lines: Record<Family, RestoreLine[]> = { 4: [], 6: [] };
    const seconds = update.mode === 'add' ? Math.min(MAX_TIMEOUT_SECONDS, Math.max(1, Math.ceil(update.timeoutMs / 1000))) : 0;
    for (const entry of entries) {
      const set = feedSetName(update.feed, entry.cidr.family);
      lines[entry.cidr.family].push({ text: `add ${update.mode === 'replace' ? `${set}-next` : set} ${entry.key} timeout ${seconds}`, target: entry.key });
    }
    const failed = new Set<string>();
    for (const family of FAMILIES) {
      const set = feedSetName(update.feed, family);
      const canary = `${CANARY[family].address} timeout 0`;
      const spec = setSpec(family);
      const script: RestoreLine[] =
        update.mode === 'replace'
          ? [{ text: `destroy ${set}-next` }, { text: `create ${set}-next ${spec}` }, { text: `add ${set}-next ${canary}` }, ...lines[family], { text: `create ${set} ${spec}` }, { text: `swap ${set}-next ${set}` }, { text: `destroy ${set}-next` }]
          : [{ text: `create ${set} ${spec}` }, { text: `add ${set} ${canary}` }, ...lines[family]];
      for (const failure of (await ipsetRestore(this.context.runner, script)).failed) failed.add(failure.target);
      await this.ensureRule(family, set);
    }
    const loaded = entries.filter((e) => !failed.has(e.key));
    if (update.mode === 'replace') this.tally.replaced(update.feed, loaded);
    else this.tally.added(update.feed, loaded, update.timeoutMs);
    if (bad.length + failed.size > 0) throw feedEntriesError('ipset', update.feed, [...bad, ...failed], update.entries.length);
  }

  async check(): Promise<{ feed: string; ok: boolean; detail: string }[]> {
    const results: { feed: string; ok: boolean; detail: string }[] = [];
    for (const feed of this.tally.names().sort()) {
      const problems: string[] = [];
      for (const family of FAMILIES) {
        const set = feedSetName(feed, family);
        if (!(await this.succeeds(['ipset', 'test', set, CANARY[family].address]))) problems.push(`set ${set} missing or flushed`);
        else if (!(await this.succeeds([binary(family), '-w', '-C', this.context.chain, ...matchRule(set)]))) problems.push(`${binary(family)} rule for ${set} missing`);
      }
      results.push(
        problems.length === 0
          ? { feed, ok: true, detail: `ipset: feed ${feed}: sets hold their canaries, rules in place` }
          : { feed, ok: false, detail: `ipset: feed ${feed}: ${problems.join(', ')}; reload the feed in full` },
      );
    }
    return results;
  }

  size(feed: string): number {
    return this.tally.size(feed);
  }

  async remove(feed: string): Promise<void> {
    assertFeedId('ipset', feed);
    this.tally.forget(feed);
    await this.destroy(FAMILIES.map((family) => [family, feedSetName(feed, family)]));
  }

  /**
   * The rules that drop the feeds whose sets exist, per family, as `iptables-restore` lines: a rebuild of our
   * chain (verify after `iptables -F`) puts them back after the fixed rules.
   */
  async rules(family: Family): Promise<string[]> {
    const present = await this.presentSets();
    return this.tally.names().map((feed) => feedSetName(feed, family)).filter((set) => present.has(set)).map((set) => `-A ${this.context.chain} ${matchRule(set).join(' ')}`);
  }

  /** Destroys every feed set of ours (uninstall, after our chain and its rules are gone). */
  async destroyAll(): Promise<void> {
    this.tally.clear();
    const sets = [...(await this.presentSets())].filter((name) => name.startsWith(PREFIX));
    await ipsetRestore(this.context.runner, sets.map((name) => ({ text: `destroy ${name}` })));
  }

  private async destroy(sets: [Family, string][]): Promise<void> {
    // Rules first: ipset refuses to destroy a set that a rule references.
    for (const [family, set] of sets) {
      while (await this.succeeds([binary(family), '-w', '-D', this.context.chain, ...matchRule(set)]));
    }
    const present = await this.presentSets();
    const names = sets.flatMap(([, set]) => [set, `${set}-next`]).filter((name) => present.has(name));
    await ipsetRestore(this.context.runner, names.map((name) => ({ text: `destroy ${name}` })));
  }

  private async ensureRule(family: Family, set: string): Promise<void> {
    const rule = matchRule(set);
    if (!(await this.succeeds([binary(family), '-w', '-C', this.context.chain, ...rule]))) await this.context.runner.run([binary(family), '-w', '-A', this.context.chain, ...rule]);
  }

  /** `ipset list -t` prints headers only: cheap at any set size. */
  private async presentSets(): Promise<Set<string>> {
    const { stdout } = await this.context.runner.run(['ipset', 'list', '-t']);
    return new Set([...stdout.matchAll(/^Name: (\S+)$/gm)].map((m) => m[1] as string));
  }

  private async succeeds(argv: string[]): Promise<boolean> {
    try {
      await this.context.runner.run(argv);
      return true;
    } catch {
      return false;
    }
  }
}

/**
 * ipset names stop at 31 characters and we add `4-next`: ids longer than 20 characters are named by a hash of
 * the id instead (the id stays in logs and status).
 */
export function feedSetName(feed: string, family: Family): string {
  const id = feed.length <= 20 ? feed : createHash('sha256').update(feed).digest('hex').slice(0, 20);
  return `${PREFIX}${id}${family}`;
}

function setSpec(family: Family): string {
  return `hash:net family ${family === 4 ? 'inet' : 'inet6'} maxelem ${MAX_ELEMENTS} timeout 0`;
}

function matchRule(set: string): string[] {
  return ['-m', 'set', '--match-set', set, 'src', '-j', 'DROP'];
}

function binary(family: Family): string {
  return family === 4 ? 'iptables' : 'ip6tables';
}
