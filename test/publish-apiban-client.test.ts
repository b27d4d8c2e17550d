import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { HOUR, T0, startHarness, type Harness } from '../src/api/harness.test.js';
import { configSchema } from '../src/config/schema.js';
import { createLogger } from '../src/core/logger.js';
import { DryRunFeedSets } from '../src/enforcers/dry-run/feeds.js';
import { ApibanClient, syncApiban } from '../src/feeds/apiban.js';
import { syncFeed } from '../src/feeds/sync.js';
import { sampleDecision } from '../src/store/contract.js';
import type { NewDecision } from '../src/store/types.js';

/** Our APIBAN client against our own publisher, both versions: one sipwarden feeding another. */

const KEY = 'fleet-feed-key-0123456789';
const config = { publish: { keys: [{ key: KEY, evidence: 'any' }] } };

const ban = (over: Partial<NewDecision>): NewDecision => sampleDecision({ at: T0, expiresAt: T0 + HOUR, ...over });

describe('publish: sipwarden\'s APIBAN client syncs from sipwarden\'s publisher', () => {
  let h: Harness;
  const published = new Set<string>();
  before(async () => {
    h = await startHarness({ config });
    for (let i = 0; i < 620; i++) {
      const target = i % 100 === 50 ? `2001:db8:${i}::/64` : `198.18.${i >> 8}.${i & 255}`;
      await h.store.addDecision(ban({ target }));
      published.add(target);
      if (i % 5 === 0) await h.store.addDecision(ban({ target: `198.19.${i >> 8}.${i & 255}`, dryRun: true }));
    }
  });
  after(() => h.close());

  for (const version of [1, 2] as const) {
    it(`v${version}: a full sync from the start, then only what is new from the stored cursor`, async () => {
      const client = new ApibanClient({ version, url: `${h.url}/api`, key: KEY, set: 'sip' }, 5000);
      const full = await syncApiban(client, undefined, { maxPages: 10 });
      assert.equal(full.failure, undefined);
      assert.equal(full.complete, true, 'ended on "no new bans"');
      assert.equal(full.pages, 3);
      assert.equal(full.garbage, 0, 'prefixes are entries too');
      assert.deepEqual(new Set(full.entries), published);
      const fresh = await h.store.addDecision(ban({ target: `203.0.113.${version}` }));
      const next = await syncApiban(client, full.cursor, { maxPages: 10 });
      assert.deepEqual([next.entries, next.cursor, next.complete], [[`203.0.113.${version}`], String(fresh.id), true]);
      const again = await syncApiban(client, next.cursor, { maxPages: 10 });
      assert.deepEqual([again.entries, again.pages, again.complete], [[], 0, true]);
      await h.store.revokeDecision(fresh.id, 'root', 'test cleanup', T0);
    });
  }

  it('a wrong key is "unauthorized" to the client, never a page', async () => {
    const client = new ApibanClient({ version: 2, url: `${h.url}/api`, key: 'not-the-key-0123456789', set: 'sip' }, 5000);
    const sync = await syncApiban(client, undefined, { maxPages: 10 });
    assert.deepEqual([sync.entries, sync.failure], [[], { kind: 'unauthorized' }]);
  });

  it('the feed sync loads every published entry into a feed set with its timeout', async () => {
    const feed = configSchema.parse({
      node: 'consumer', store: { sqlite: ':memory:' }, enforce: { backend: 'dry-run' },
      feeds: [{ id: 'upstream', type: 'apiban', version: 1, url: `${h.url}/api`, key: KEY }],
    }).feeds[0]!;
    const sets = new DryRunFeedSets(h.clock, [], () => {});
    const outcome = await syncFeed(feed, { id: 'upstream', entries: 0, overridden: 0 }, true, {
      sets, allow: { match: () => null }, kernel: (work) => work(), logger: createLogger('silent'), maxPages: 10, requestTimeoutMs: 5000,
    });
    assert.equal(outcome.error, undefined);
    assert.equal(outcome.entries, published.size);
    assert.equal(outcome.more, false);
    assert.equal(sets.drops('198.18.1.7'), 'upstream');
    assert.equal(sets.drops('2001:db8:350::1'), 'upstream', 'a published prefix drops its whole range');
    assert.equal(sets.drops('198.19.0.0'), null, 'a dry-run decision was never published');
  });
});
