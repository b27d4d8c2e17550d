import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, describe, it } from 'node:test';
import { createIpsetEnforcer } from '../src/enforcers/ipset/index.js';
import { feedSetName } from '../src/enforcers/ipset/feeds.js';
import { ATTACKER, UdpProbe } from '../src/enforcers/ipset/udp-probe.js';
import { NetnsPool } from '../src/enforcers/iptables/netns-pool.js';
import { createNftablesEnforcer } from '../src/enforcers/nftables/index.js';
import type { Netns } from '../src/enforcers/testing/netns.js';
import type { Enforcer, FeedSets } from '../src/enforcers/types.js';

/**
 * The test: "Feed replacement is atomic: a test probes the kernel set while a 100k-entry feed is swapped,
 * and sees no gap." The attacker namespace sends UDP every 20 ms from ATTACKER[4] (listed in the old list as part
 * of a /24 and in the new one as a /32: the shared entry) and from ATTACKER[6] (only in the new list). Loading
 * 100k entries in chunks takes about a second, so a flush-and-refill would let dozens of IPv4 datagrams through;
 * an atomic swap lets none.
 */
const skip = NetnsPool.skipReason();
const pool = new NetnsPool('sw-fk');
after(() => pool.destroyAll());

const OLD_ONLY = '192.0.2.77';
const SIZE = 100_000;

/** 100k entries: /32s and /24s (and some /16s) from a range per list, so the two lists share nothing else. */
function list(firstOctet: number, extra: string[]): string[] {
  const entries = new Set<string>();
  for (let i = 0; entries.size < SIZE - extra.length; i++) {
    const [b, c, d] = [(i >> 16) & 255, (i >> 8) & 255, i & 255];
    if (i % 10 === 0) entries.add(`${firstOctet + (i % 3)}.${b}.${c}.0/24`);
    else if (i % 997 === 0) entries.add(`${firstOctet + 5}.${c}.0.0/16`);
    else entries.add(`${firstOctet + (i % 3)}.${b}.${c}.${d}`);
  }
  return [...entries, ...extra];
}

interface Backend {
  name: string;
  open(ns: Netns): Enforcer & { feeds: FeedSets };
  /** Whether the kernel holds `address` as a /32 entry of the feed (for the entry only the old list has). */
  holds(ns: Netns, feed: string, address: string): boolean;
  /** Empties the set that holds ATTACKER[4], the way a careless script would. */
  flush(ns: Netns, feed: string): void;
}

/** Runs a probe command in the namespace, quietly: its failure is the answer. */
const succeeds = (ns: Netns, argv: string[]): boolean => {
  try {
    execFileSync(ns.prefix[0] as string, [...ns.prefix.slice(1), ...argv], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
};

/** The live generation's sets of an nftables feed, from its chain's comment (`nft list chains` lists no elements). */
function nftSets(ns: Netns, feed: string): string[] {
  const listing = ns.exec(['nft', 'list', 'chains', 'inet']);
  const match = new RegExp(`chain feed_${feed}_([ab]) \\{\\s+comment "sipwarden feed ([^"]*)"`).exec(listing);
  if (!match) return [];
  return (match[2] as string).split(' ').map((length) => `feed_${feed}_${match[1]}${length.replace('/', '_')}`);
}

const backends: Backend[] = [
  {
    name: 'nftables',
    open: (ns) => createNftablesEnforcer({ runner: ns.runner }) as Enforcer & { feeds: FeedSets },
    holds: (ns, feed, address) => {
      const set = nftSets(ns, feed).find((name) => name.endsWith('4_32'));
      return !!set && succeeds(ns, ['nft', '-c', 'delete', 'element', 'inet', 'sipwarden', set, `{ ${address} }`]);
    },
    flush: (ns, feed) => {
      for (const set of nftSets(ns, feed).filter((name) => name.includes('4_'))) ns.exec(['nft', 'flush', 'set', 'inet', 'sipwarden', set]);
    },
  },
  {
    name: 'ipset',
    open: (ns) => createIpsetEnforcer({ runner: ns.runner }) as Enforcer & { feeds: FeedSets },
    holds: (ns, feed, address) => succeeds(ns, ['ipset', 'test', feedSetName(feed, 4), address]),
    flush: (ns, feed) => void ns.exec(['ipset', 'flush', feedSetName(feed, 4)]),
  },
];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('feed replacement is atomic in the kernel', { skip: skip ?? false }, () => {
  for (const backend of backends) {
    it(`${backend.name}: a 100k-entry feed swapped for another never lets the shared entry through`, async () => {
      const attacker = pool.open();
      const server = pool.open();
      const probe = new UdpProbe(attacker, server);
      probe.start();
      const enforcer = backend.open(server);
      try {
        await probe.waitForBoth();
        await enforcer.init();
        const oldList = list(11, [`${ATTACKER[4].split('.').slice(0, 3).join('.')}.0/24`, OLD_ONLY]);
        const newList = list(41, [ATTACKER[4], ATTACKER[6]]);
        await enforcer.feeds.apply({ feed: 'voipbl', mode: 'replace', entries: oldList });
        assert.equal(enforcer.feeds.size('voipbl'), SIZE);
        const before = await probe.countDuring(300);
        assert.equal(before[4], 0, 'the old list drops the shared address');
        assert.ok(before[6] > 0, 'the new-only address passes before the swap');
        assert.equal(backend.holds(server, 'voipbl', OLD_ONLY), true);

        const start = { ...probe.received };
        const began = Date.now();
        await enforcer.feeds.apply({ feed: 'voipbl', mode: 'replace', entries: newList });
        const took = Date.now() - began;
        await sleep(100); // datagrams sent during the swap and still in flight
        const during = { 4: probe.received[4] - start[4], 6: probe.received[6] - start[6] };
        assert.equal(during[4], 0, `no IPv4 datagram from the shared address got through during the ${took} ms swap`);
        assert.ok(during[6] > 0 || took < 100, `the probe kept sending during the ${took} ms swap (IPv6 got through until the end)`);

        const afterSwap = await probe.countDuring(300);
        assert.deepEqual(afterSwap, { 4: 0, 6: 0 }, 'the shared and the new-only address are dropped once the swap is done');
        assert.equal(backend.holds(server, 'voipbl', OLD_ONLY), false, 'the old-only entry is gone');
        assert.equal(enforcer.feeds.size('voipbl'), SIZE);
        assert.ok((await enforcer.feeds.check()).every((c) => c.ok));

        // The probe can see a gap: emptying the set by hand lets the shared address through at once.
        backend.flush(server, 'voipbl');
        assert.ok((await probe.countDuring(300))[4] > 0, 'a flushed set lets the shared address through');
        assert.equal((await enforcer.feeds.check())[0]?.ok, false, 'and check reports the feed lost');
      } finally {
        probe.stop();
        await enforcer.uninstall();
        await enforcer.close();
      }
    });
  }
});
