import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { systemClock } from '../src/core/clock.js';
import { createLogger } from '../src/core/logger.js';
import { createNftablesEnforcer } from '../src/enforcers/nftables/index.js';
import { canCreateNetns, createNetns, type Netns } from '../src/enforcers/testing/netns.js';
import type { Enforcer } from '../src/enforcers/types.js';
import { FeedManager } from '../src/feeds/manager.js';
import { ApibanReplayServer } from '../src/feeds/testing/apiban-server.js';
import { AddressList } from '../src/policy/address-list.js';
import { openSqliteStore } from '../src/store/sqlite/index.js';
import { tempDir, waitFor } from './helpers.js';

const KEY = 'nft-feed-key-8c2e41';
const TABLE = 'sipwarden';

/**
 * The feed manager on real nftables in a namespace this test creates: APIBAN and a list land in their sets,
 * and a set flushed behind sipwarden's back (what the APIBAN Go client never notices) is found and refilled.
 */
describe('feeds on nftables', { skip: canCreateNetns() ? false : 'needs root and iproute2 for a network namespace' }, () => {
  let ns: Netns;
  let enforcer: Enforcer;
  let server: ApibanReplayServer;
  const stop = new AbortController();

  /** The names of a feed's sets (nft 1.0.6 lists sets per family, not per table; the namespace has only ours). */
  const setsOf = (feed: string): string[] => (ns.exec(['nft', 'list', 'sets', 'inet']).match(new RegExp(`set feed_${feed}_\\w+`, 'g')) ?? []).map((m) => m.slice(4));
  /** Whether the element is in one of the feed's sets (hash sets per prefix length hold the network address). */
  const holds = (feed: string, element: string): boolean =>
    setsOf(feed).some((set) => {
      try {
        ns.exec(['nft', 'get', 'element', 'inet', TABLE, set, `{ ${element} }`]);
        return true;
      } catch {
        return false;
      }
    });
  const flush = (feed: string): void => {
    for (const set of setsOf(feed)) ns.exec(['nft', 'flush', 'set', 'inet', TABLE, set]);
  };

  before(async () => {
    ns = createNetns('swfeed');
    server = await ApibanReplayServer.start({ key: KEY, entries: ['198.51.100.1', '198.51.100.2', '203.0.113.7'] });
    enforcer = createNftablesEnforcer({ runner: ns.runner, table: TABLE, allow: ['203.0.113.7'] });
    await enforcer.init();
  });
  after(async () => {
    stop.abort();
    await server?.close();
    await enforcer?.close();
    ns?.destroy();
  });

  it('loads APIBAN and a list, leaves the allowlisted address out, and refills flushed sets', async () => {
    const dir = tempDir('sw-feeds-nft-');
    writeFileSync(join(dir, 'list.txt'), '192.0.2.0/24\n2001:db8:7::/48\n');
    const store = openSqliteStore(join(dir, 'sw.db'));
    const manager = new FeedManager({
      feeds: [
        { id: 'apiban', type: 'apiban', key: KEY, version: 2, url: server.url, set: 'sip', interval: 300_000, timeout: 7 * 86_400_000 },
        { id: 'own', type: 'list', path: join(dir, 'list.txt'), interval: 3_600_000 },
      ],
      store, enforcer, allow: new AddressList('allow', ['203.0.113.7']), logger: createLogger('silent'), clock: systemClock, checkIntervalMs: 50,
    });
    await manager.start(stop.signal);
    assert.deepEqual(manager.status().map((s) => [s.id, s.entries, s.overridden, s.error]), [['apiban', 2, 1, undefined], ['own', 2, 0, undefined]]);
    assert.ok(holds('apiban', '198.51.100.2'));
    assert.ok(!holds('apiban', '203.0.113.7'), 'allowlisted: never in the set');
    assert.ok(holds('own', '192.0.2.0'));
    assert.ok((await enforcer.feeds?.check())?.every((c) => c.ok));

    const requests = server.requests.length;
    flush('apiban');
    flush('own');
    assert.ok(!holds('apiban', '198.51.100.2'));
    await waitFor(() => holds('apiban', '198.51.100.2') && holds('own', '192.0.2.0'), 5000, 'the flushed sets to be refilled');
    assert.equal((server.requests[requests]?.body as { id: string }).id, '100', 'APIBAN read from the start again');
    assert.ok((await enforcer.feeds?.check())?.every((c) => c.ok), 'healed sets pass the check');
    await store.close();
  });
});
