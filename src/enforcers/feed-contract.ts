import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Enforcer, FeedSets } from './types.js';

/** What the suite needs from a backend's test harness. */
export interface FeedHarness {
  enforcer: Enforcer;
  /** Whether packets from the probe sources (`FeedContractOptions.source`) reach the server now, per family. */
  reaches(): Promise<{ 4: boolean; 6: boolean }>;
  /** Empties one of the feed's sets behind the enforcer's back (`nft flush set`, `ipset flush`). */
  flush(feed: string): Promise<void>;
  /** Names of the backend's kernel objects (sets, chains, rules) that mention `text`; [] when none are left. */
  objects(text: string): Promise<string[]>;
  /** Lets `ms` pass for element timeouts: a manual clock moves, a kernel waits. */
  elapse(ms: number): Promise<void>;
  close(): Promise<void>;
}

export interface FeedContractOptions {
  /** The addresses the harness sends from, one per family. */
  source: { 4: string; 6: string };
  skip?: string;
}

/**
 * The behaviour of every `FeedSets` backend (enforcers/types.ts). Kernel backends run it in network namespaces
 * with real packets from `source`; `open(allow)` builds a harness whose enforcer has `allow` as its allowlist
 * and has been initialised.
 */
export function feedContract(name: string, open: (allow: string[]) => Promise<FeedHarness>, options: FeedContractOptions): void {
  const { source } = options;
  const net4 = `${source[4].split('.').slice(0, 3).join('.')}.0/24`;
  const DAY = 86_400_000;
  const withHarness = (allow: string[], fn: (h: FeedHarness, feeds: FeedSets) => Promise<void>) => async () => {
    const harness = await open(allow);
    try {
      const feeds = harness.enforcer.feeds;
      assert.ok(feeds, `${name} has feed sets`);
      await fn(harness, feeds);
    } finally {
      await harness.close();
    }
  };
  const checkOf = async (feeds: FeedSets, feed: string) => (await feeds.check()).find((c) => c.feed === feed);

  describe(`feed sets contract: ${name}`, { skip: options.skip ?? false }, () => {
    it('replace swaps one list for another; size is what was loaded', withHarness([], async (h, feeds) => {
      assert.deepEqual(await h.reaches(), { 4: true, 6: true }, 'before any feed');
      await feeds.apply({ feed: 'voipbl', mode: 'replace', entries: [net4, '203.0.113.5', '2001:db8:99::/48'] });
      assert.equal(feeds.size('voipbl'), 3);
      assert.deepEqual(await h.reaches(), { 4: false, 6: true }, 'the IPv4 prefix drops the source');
      await feeds.apply({ feed: 'voipbl', mode: 'replace', entries: [source[6], '203.0.113.5', '203.0.113.5'] });
      assert.equal(feeds.size('voipbl'), 2, 'duplicates count once');
      assert.deepEqual(await h.reaches(), { 4: true, 6: false }, 'old entries are gone, new ones in');
      assert.deepEqual(await checkOf(feeds, 'voipbl').then((c) => c?.ok), true);
      await feeds.apply({ feed: 'voipbl', mode: 'replace', entries: [] });
      assert.equal(feeds.size('voipbl'), 0);
      assert.deepEqual(await h.reaches(), { 4: true, 6: true }, 'an empty list drops nothing');
    }));

    it('add merges entries with timeouts; adding again extends them; they expire by themselves', withHarness([], async (h, feeds) => {
      await feeds.apply({ feed: 'apiban', mode: 'add', entries: [source[4]], timeoutMs: 2000 });
      await feeds.apply({ feed: 'apiban', mode: 'add', entries: [source[6], '198.51.100.7'], timeoutMs: 2000 });
      assert.equal(feeds.size('apiban'), 3, 'adds merge');
      assert.deepEqual(await h.reaches(), { 4: false, 6: false });
      await feeds.apply({ feed: 'apiban', mode: 'add', entries: [source[4]], timeoutMs: 7 * DAY });
      await h.elapse(3000);
      assert.deepEqual(await h.reaches(), { 4: false, 6: true }, 'the re-added entry was extended, the other expired');
      assert.equal(feeds.size('apiban'), 1);
      assert.equal((await checkOf(feeds, 'apiban'))?.ok, true, 'expired entries do not make a set look flushed');
    }));

    it('allowlisted sources pass whatever a feed lists', withHarness([source[4], `${source[6]}/64`], async (h, feeds) => {
      await feeds.apply({ feed: 'voipbl', mode: 'replace', entries: [net4, source[6]] });
      await feeds.apply({ feed: 'apiban', mode: 'add', entries: [source[4], source[6]], timeoutMs: DAY });
      assert.deepEqual(await h.reaches(), { 4: true, 6: true });
    }));

    it('a flushed set is reported lost, other feeds stay ok, and a replace heals it', withHarness([], async (h, feeds) => {
      await feeds.apply({ feed: 'voipbl', mode: 'replace', entries: [net4, '203.0.113.0/24', '2001:db8:5::1'] });
      await feeds.apply({ feed: 'apiban', mode: 'add', entries: ['198.51.100.9'], timeoutMs: DAY });
      assert.deepEqual((await feeds.check()).map((c) => [c.feed, c.ok]).sort(), [['apiban', true], ['voipbl', true]]);
      await h.flush('voipbl');
      const lost = await checkOf(feeds, 'voipbl');
      assert.equal(lost?.ok, false, lost?.detail);
      assert.equal((await checkOf(feeds, 'apiban'))?.ok, true);
      await feeds.apply({ feed: 'voipbl', mode: 'replace', entries: [net4, '203.0.113.0/24', '2001:db8:5::1'] });
      assert.equal((await checkOf(feeds, 'voipbl'))?.ok, true);
      assert.deepEqual(await h.reaches(), { 4: false, 6: true });
    }));

    it('refuses bad entries, loads the rest', withHarness([], async (h, feeds) => {
      await assert.rejects(feeds.apply({ feed: 'voipbl', mode: 'replace', entries: ['not-an-ip', '0.0.0.0/0', source[4]] }), { code: 'SW_ERR_ENFORCER', message: /2 of 3 entries refused/ });
      assert.equal(feeds.size('voipbl'), 1);
      assert.deepEqual(await h.reaches(), { 4: false, 6: true });
    }));

    it('remove deletes one feed and leaves the others', withHarness([], async (h, feeds) => {
      await feeds.apply({ feed: 'voipbl', mode: 'replace', entries: [source[4]] });
      await feeds.apply({ feed: 'other-list', mode: 'replace', entries: [source[6]] });
      await feeds.remove('voipbl');
      assert.deepEqual(await h.objects('voipbl'), []);
      assert.equal(feeds.size('voipbl'), 0);
      assert.deepEqual((await feeds.check()).map((c) => c.feed), ['other-list']);
      assert.deepEqual(await h.reaches(), { 4: true, 6: false });
      await feeds.remove('never-loaded');
    }));

    it('init, verify and reconcile leave feed sets working; uninstall removes them', withHarness([], async (h, feeds) => {
      const e = h.enforcer;
      await feeds.apply({ feed: 'voipbl', mode: 'replace', entries: [source[4]] });
      await feeds.apply({ feed: 'apiban', mode: 'add', entries: [source[6]], timeoutMs: DAY });
      await e.init();
      const verified = await e.verify();
      assert.deepEqual([verified.ok, verified.repaired], [true, false], verified.detail);
      await e.reconcile([{ target: '198.51.100.1', expiresAt: null }], Date.now());
      assert.deepEqual(await h.reaches(), { 4: false, 6: false });
      assert.ok((await feeds.check()).every((c) => c.ok));
      await e.uninstall();
      assert.deepEqual(await h.objects('voipbl'), []);
      assert.deepEqual(await h.objects('apiban'), []);
      await e.init();
      assert.deepEqual(await h.reaches(), { 4: true, 6: true });
    }));
  });
}
