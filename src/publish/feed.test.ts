import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { configSchema, type Config, type PublishKeyConfig } from '../config/schema.js';
import { sampleDecision } from '../store/contract.js';
import { openSqliteStore } from '../store/sqlite/index.js';
import type { Decision, NewDecision, Store } from '../store/types.js';
import { PAGE_MAX, PUBLISH_GRACE_MS, PublishedFeed, SCAN_MAX, eligible, formatFeedId, parseFeedId } from './feed.js';

const T0 = 1_700_000_000_000;
const HOUR = 3_600_000;
const KEY = 'k'.repeat(20);

function keyOf(over: Partial<PublishKeyConfig> = {}): PublishKeyConfig {
  return { key: KEY, evidence: 'any', minHits: 1, ...over };
}

function decision(over: Partial<Decision> = {}): Decision {
  return { ...sampleDecision({ at: T0, expiresAt: T0 + HOUR }), id: 1, ...over };
}

describe('publish: which decisions a key may see', () => {
  it('only enforced rule bans of addresses, not revoked, in force or ended less than 7 days ago', () => {
    const key = keyOf();
    assert.equal(eligible(decision(), key, T0), true);
    assert.equal(eligible(decision({ origin: 'manual', rule: undefined, actor: 'root' }), key, T0), false, 'manual bans are an operator\'s judgement');
    assert.equal(eligible(decision({ origin: 'feed' }), key, T0), false, 'feed bans are someone else\'s data');
    assert.equal(eligible(decision({ action: 'report' }), key, T0), false);
    assert.equal(eligible(decision({ targetType: 'account', target: '1001' }), key, T0), false);
    assert.equal(eligible(decision({ dryRun: true }), key, T0), false);
    assert.equal(eligible(decision({ revokedAt: T0, revokedBy: 'root' }), key, T0 + 1), false);
    assert.equal(eligible(decision({ expiresAt: null, durationMs: null }), key, T0 + 365 * 24 * HOUR), true, 'permanent');
    const ended = T0 + HOUR;
    assert.equal(eligible(decision(), key, ended + PUBLISH_GRACE_MS - 1), true, 'ended less than 7 days ago');
    assert.equal(eligible(decision(), key, ended + PUBLISH_GRACE_MS), false, 'ended 7 days ago');
  });

  it('filters by rule, evidence and hit count', () => {
    const verified = keyOf({ evidence: 'verified' });
    assert.equal(eligible(decision({ evidence: 'spoofable' }), verified, T0), false);
    assert.equal(eligible(decision({ evidence: 'verified' }), verified, T0), true);
    const rules = keyOf({ rules: ['honeypot', 'scanner'] });
    assert.equal(eligible(decision({ rule: 'honeypot' }), rules, T0), true);
    assert.equal(eligible(decision({ rule: 'bruteforce' }), rules, T0), false);
    assert.equal(eligible(decision({ rule: undefined }), rules, T0), false);
    const hits = keyOf({ minHits: 5 });
    assert.equal(eligible(decision({ eventCount: 4 }), hits, T0), false);
    assert.equal(eligible(decision({ eventCount: 5 }), hits, T0), true);
  });
});

describe('publish: IDs', () => {
  it('"100", "0" and none start from the beginning; the decision id 100 travels as "0100"', () => {
    for (const start of [undefined, '', '0', '100']) assert.equal(parseFeedId(start), 0);
    assert.equal(parseFeedId('0100'), 100);
    assert.equal(parseFeedId('987654'), 987654);
    for (const bad of ['-1', 'abc', '1e3', '12.5', '9'.repeat(16), 'none']) assert.equal(parseFeedId(bad), null, bad);
    assert.equal(formatFeedId(100), '0100');
    assert.equal(formatFeedId(99), '99');
    assert.equal(parseFeedId(formatFeedId(100)), 100);
  });
});

describe('publish: the feed over a real store', () => {
  let dir: string;
  let store: Store;
  let config: Config;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sw-publish-'));
    store = openSqliteStore(join(dir, 'sw.db'));
    const customers = join(dir, 'customers.txt');
    writeFileSync(customers, '# customers\n198.51.100.77\n');
    config = configSchema.parse({
      node: 'pub', store: { sqlite: join(dir, 'sw.db') }, enforce: { backend: 'dry-run' },
      allow: ['127.0.0.0/8', '10.0.0.0/8', `file:${customers}`], trunks: ['192.0.2.64/29', '2001:db8:5::/48'],
      publish: { keys: [{ key: KEY }] },
    });
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const add = (over: Partial<NewDecision>): Promise<Decision> => store.addDecision(sampleDecision({ at: T0, expiresAt: T0 + HOUR, ...over }));
  const feed = (key = keyOf(), now = T0 + 1): PublishedFeed => new PublishedFeed(store, config, key, now);

  it('never publishes allowlisted (inline or file), trunk or known-good addresses, nor prefixes that hold one', async () => {
    await store.rememberSuccess('203.0.113.50', '1001', T0 - HOUR);
    await store.rememberSuccess('203.0.114.9', '1002', T0 - 40 * 24 * HOUR); // forgotten: known-good remembers 30d
    for (const target of [
      '10.1.2.3', '198.51.100.77', '192.0.2.66', '203.0.113.50', '2001:db8:5:1::9',
      '10.0.0.0/7', // covers the allowlisted 10.0.0.0/8
      '198.51.100.0/24', // holds the customer from the file
      '192.0.2.0/24', // holds the trunk /29
      '203.0.113.0/24', // holds the known-good address
      '203.0.114.9', '203.0.115.0/24', '2001:db8:6::/48',
    ]) await add({ target });
    const entries = await feed().list();
    assert.deepEqual(entries, ['203.0.114.9', '203.0.115.0/24', '2001:db8:6::/48']);
  });

  it('pages 250 distinct entries at a time, oldest first, ID = the last decision the page used', async () => {
    const made: Decision[] = [];
    for (let i = 0; i < 600; i++) {
      made.push(await add({ target: `198.18.${i >> 8}.${i & 255}` }));
      if (i === 10) await add({ target: '198.18.0.5' }); // a repeat ban of an address already on this page
    }
    const first = await feed().page(0);
    assert.equal(first.addresses.length, PAGE_MAX);
    assert.equal(new Set(first.addresses).size, PAGE_MAX);
    assert.equal(first.addresses[0], '198.18.0.0');
    assert.equal(first.next, made[249]!.id);
    const second = await feed().page(first.next!);
    assert.equal(second.addresses[0], '198.18.0.250');
    const third = await feed().page(second.next!);
    assert.equal(third.addresses.length, 100);
    assert.equal(third.next, made.at(-1)!.id);
    assert.deepEqual(await feed().page(third.next!), { addresses: [] }, 'no new bans');
  });

  it('an empty answer moves on only when the scan budget cut it short, so a long quiet run cannot stall a client', async () => {
    const manual = Array.from({ length: SCAN_MAX + 5 }, () => sampleDecision({ origin: 'manual', rule: undefined, actor: 'root', at: T0, expiresAt: T0 + HOUR }));
    for (const d of manual) await store.addDecision(d);
    const quiet = await feed().page(0);
    assert.deepEqual(quiet.addresses, []);
    assert.equal(quiet.next, SCAN_MAX, 'budget spent: ID moves past what was examined');
    assert.deepEqual(await feed().page(quiet.next!), { addresses: [] }, 'the rest is unpublished up to the end: no new bans');
    const late = await add({ target: '198.18.9.9' });
    assert.deepEqual(await feed().page(quiet.next!), { addresses: ['198.18.9.9'], next: late.id });
  });

  it('check finds the newest published ban covering an address, prefixes included, and skips what is not published', async () => {
    const prefix = await add({ target: '198.19.0.0/24' });
    assert.equal((await feed().check('198.19.0.77'))?.id, prefix.id);
    const exact = await add({ target: '198.19.0.77' });
    assert.equal((await feed().check('198.19.0.77'))?.id, exact.id);
    await store.revokeDecision(exact.id, 'root', 'test', T0 + 1);
    assert.equal((await feed().check('198.19.0.77'))?.id, prefix.id, 'the revoked ban is gone, the prefix still covers it');
    await add({ target: '198.19.1.1', dryRun: true });
    await add({ target: '198.19.1.2', origin: 'manual', rule: undefined, actor: 'root' });
    await add({ target: '192.0.2.65' });
    for (const ip of ['198.19.1.1', '198.19.1.2', '192.0.2.65', '198.19.2.1']) assert.equal(await feed().check(ip), undefined, ip);
  });
});
