import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, describe, it } from 'node:test';
import type { ApibanFeedConfig, ListFeedConfig } from '../config/schema.js';
import { ManualClock } from '../core/clock.js';
import { createLogger } from '../core/logger.js';
import { DryRunEnforcer } from '../enforcers/dry-run/index.js';
import { AddressList } from '../policy/address-list.js';
import { openSqliteStore } from '../store/sqlite/index.js';
import type { Store } from '../store/types.js';
import { FeedManager, retryDelay, type FeedManagerOptions } from './manager.js';
import { ApibanReplayServer } from './testing/apiban-server.js';

const KEY = 'manager-key-7f3a9c';
const DAY = 86_400_000;
const dir = mkdtempSync(join(tmpdir(), 'sw-feed-manager-'));
const addresses = (n: number, base = 0): string[] => Array.from({ length: n }, (_, i) => `198.51.${(base + i) >> 8}.${(base + i) & 255}`);

const logLines: string[] = [];
const logger = createLogger('debug', undefined, new Writable({ write: (chunk: Buffer, _enc, done) => (logLines.push(chunk.toString()), done()) }));

const servers: ApibanReplayServer[] = [];
const stops: AbortController[] = [];
after(async () => {
  for (const stop of stops) stop.abort();
  for (const server of servers) await server.close();
  assert.ok(logLines.length > 10, 'the manager logged');
  assert.ok(!logLines.some((line) => line.includes(KEY)), 'the APIBAN key appears in no log line');
});

async function replay(entries: string[]): Promise<ApibanReplayServer> {
  const server = await ApibanReplayServer.start({ key: KEY, entries });
  servers.push(server);
  return server;
}

const apiban = (server: ApibanReplayServer, version: 1 | 2 = 2): ApibanFeedConfig => ({ id: 'apiban', type: 'apiban', key: KEY, version, url: server.url, set: 'sip', interval: 300_000, timeout: 7 * DAY });
const listFeed = (path: string): ListFeedConfig => ({ id: 'own', type: 'list', path, interval: 4 * 3_600_000 });

let stores = 0;
/** A manager on a fresh SQLite store (or `store`) whose enforcer is the dry-run one: its feed sets run on `clock`. */
function manager(options: Partial<FeedManagerOptions> & Pick<FeedManagerOptions, 'feeds'>, store?: Store): { feeds: FeedManager; store: Store; enforcer: DryRunEnforcer; clock: ManualClock } {
  const db = store ?? openSqliteStore(join(dir, `store-${++stores}.db`));
  const clock = new ManualClock(1_000_000);
  const enforcer = new DryRunEnforcer(undefined, 10_000, { clock });
  const feeds = new FeedManager({ store: db, enforcer, allow: new AddressList('allow', ['198.51.0.7', '192.0.2.0/24', '10.0.0.0/8']), logger, clock, ...options });
  return { feeds, store: db, enforcer, clock };
}
const feedOps = (enforcer: DryRunEnforcer) => enforcer.journal.filter((j) => j.op === 'feed').map((j) => `${j.mode} ${j.feed} ${j.count}`);

async function until(probe: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let waited = 0; !(await probe()); waited += 10) {
    if (waited > 5000) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('FeedManager', () => {
  it('a list feed: allowlisted entries are overridden and counted, the rest replaced atomically, state saved', async () => {
    const path = join(dir, 'own.txt');
    writeFileSync(path, '# ours\n203.0.113.1\n198.51.0.7\n192.0.2.128/25\n10.0.0.0/8\n192.0.0.0/16 # contains an allowed /24: kept\nnot-an-ip\n');
    const { feeds, store, enforcer } = manager({ feeds: [listFeed(path)] });
    const [state] = await feeds.syncNow();
    assert.deepEqual(feedOps(enforcer), ['replace own 2']);
    assert.deepEqual(['203.0.113.1', '198.51.0.7', '192.0.2.130', '10.1.2.3', '192.0.77.1'].map((ip) => enforcer.feeds.drops(ip)), ['own', null, 'own', null, 'own']);
    assert.deepEqual(state, { id: 'own', entries: 2, overridden: 3, attemptedAt: 1_000_000, syncedAt: 1_000_000 });
    assert.deepEqual(await store.feedStates(), [state]);
    assert.deepEqual(feeds.status(), [state]);
    assert.ok(logLines.some((line) => line.includes('"bad":1') && line.includes('not-an-ip')), 'bad lines are logged with their text');
  });

  it('APIBAN: adds with the feed timeout, keeps the cursor in the store, and resumes from it after a restart', async () => {
    const server = await replay(addresses(300));
    const first = manager({ feeds: [apiban(server)] });
    const [state] = await first.feeds.syncNow();
    assert.equal(state?.cursor, '1700000299');
    assert.equal(state?.entries, 299, 'the allowlisted 198.51.0.7 is left out');
    assert.equal(state?.overridden, 1);
    assert.deepEqual(feedOps(first.enforcer), ['add apiban 299']);
    first.clock.advance(7 * DAY - 1);
    assert.equal(first.enforcer.feeds.drops('198.51.0.8'), 'apiban', 'still dropped just before 7 days');
    first.clock.advance(1);
    assert.equal(first.enforcer.feeds.drops('198.51.0.8'), null, 'the in-kernel timeout is the feed timeout');
    server.add(...addresses(3, 300));
    const before = server.requests.length;
    // A restart: a new manager on the same store, its kernel set still in place.
    const again = manager({ feeds: [apiban(server)] }, first.store);
    await again.enforcer.feeds.apply({ feed: 'apiban', mode: 'add', entries: addresses(299, 1).filter((ip) => ip !== '198.51.0.7'), timeoutMs: DAY });
    const stop = new AbortController();
    stops.push(stop);
    await again.feeds.start(stop.signal);
    assert.deepEqual(server.requests.slice(before).map((r) => (r.body as { id: string }).id), ['1700000299', '1700000302']);
    // 299 from before the restart (this enforcer did not load them, the store knows) and 3 new.
    assert.deepEqual(again.feeds.status()[0], { id: 'apiban', cursor: '1700000302', entries: 302, overridden: 1, attemptedAt: 1_000_000, syncedAt: 1_000_000 });
    stop.abort();
  });

  it('on start, a missing set is read from the start whatever cursor the store has, and an unconfigured feed is removed', async () => {
    const server = await replay(addresses(10));
    const { feeds, store, enforcer } = manager({ feeds: [apiban(server, 1)] });
    await store.saveFeedState({ id: 'apiban', cursor: '1700000009', entries: 9, overridden: 1, syncedAt: 1 });
    await enforcer.feeds.apply({ feed: 'dropped-list', mode: 'replace', entries: ['203.0.113.0/24'] });
    const stop = new AbortController();
    stops.push(stop);
    await feeds.start(stop.signal);
    assert.equal(server.requests[0]?.path, '/api/{key}/banned');
    assert.equal(enforcer.feeds.size('apiban'), 9);
    assert.deepEqual((await enforcer.feeds.check()).map((c) => c.feed), ['apiban']);
    assert.equal(enforcer.feeds.drops('203.0.113.1'), null);
    stop.abort();
  });

  it('a flushed feed set is noticed by the check and reloaded in full (APIBAN from the start, a list re-read)', async () => {
    const server = await replay(addresses(20, 100));
    const path = join(dir, 'flush.txt');
    writeFileSync(path, '203.0.113.0/24\n');
    const { feeds, enforcer } = manager({ feeds: [apiban(server), listFeed(path)], checkIntervalMs: 20 });
    const stop = new AbortController();
    stops.push(stop);
    await feeds.start(stop.signal);
    const requests = server.requests.length;
    enforcer.feeds.lose('apiban');
    enforcer.feeds.lose('own');
    assert.equal(enforcer.feeds.drops('198.51.0.110'), null, 'the lost set drops nothing');
    await until(() => enforcer.feeds.drops('198.51.0.110') === 'apiban' && enforcer.feeds.drops('203.0.113.9') === 'own', 'both sets reloaded');
    assert.equal((server.requests[requests]?.body as { id: string }).id, '100', 'APIBAN read again from the start');
    await until(async () => (await enforcer.feeds.check()).every((c) => c.ok), 'the check to pass again');
    const reloads = server.requests.length;
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(server.requests.length, reloads, 'a healed set is not reloaded again');
    stop.abort();
  });

  it('failures are stored and retried with backoff; one down alert per outage, one up alert on recovery', async () => {
    const server = await replay(addresses(5));
    server.fail(503, 'down', 2);
    server.fail(429, JSON.stringify({ ipaddress: 'rate limit exceeded', ID: 'unauthorized' }));
    const alerts: string[] = [];
    const { feeds, store } = manager({
      feeds: [apiban(server)],
      retryBaseMs: 20,
      onFeedDown: (id, error) => alerts.push(`down ${id}: ${error}`),
      onFeedUp: (id) => alerts.push(`up ${id}`),
    });
    const stop = new AbortController();
    stops.push(stop);
    await feeds.start(stop.signal);
    assert.deepEqual(await store.feedStates(), [{ id: 'apiban', entries: 0, overridden: 0, attemptedAt: 1_000_000, error: 'HTTP 503 from the server', errorAt: 1_000_000 }]);
    await until(() => feeds.status()[0]?.syncedAt !== undefined, 'the retries to succeed');
    assert.deepEqual(server.requests.map((r) => r.status), [503, 503, 429, 200, 400]);
    assert.deepEqual(alerts, ['down apiban: HTTP 503 from the server', 'up apiban']);
    const [state] = await store.feedStates();
    assert.equal(state?.error, undefined);
    assert.equal(state?.entries, 5);
    stop.abort();
  });

  it('without feed sets in the enforcer it warns once and still records each feed', async () => {
    const path = join(dir, 'nosets.txt');
    writeFileSync(path, '203.0.113.1\n203.0.113.2\n');
    const db = openSqliteStore(join(dir, 'nosets.db'));
    const feeds = new FeedManager({ feeds: [listFeed(path)], store: db, enforcer: {}, allow: new AddressList('allow', []), logger, clock: new ManualClock(5) });
    const warnings = logLines.length;
    const stop = new AbortController();
    await feeds.start(stop.signal);
    stop.abort();
    assert.equal(logLines.slice(warnings).filter((l) => l.includes('no feed sets')).length, 1);
    assert.deepEqual(await db.feedStates(), [{ id: 'own', entries: 2, overridden: 0, attemptedAt: 5, syncedAt: 5 }]);
  });

  it('syncNow names an unknown feed', async () => {
    const { feeds } = manager({ feeds: [] });
    await assert.rejects(feeds.syncNow('nope'), /no feed "nope" in the config/);
  });
});

describe('retryDelay', () => {
  it('doubles from the base, caps at the interval, and never retries before Retry-After', () => {
    assert.deepEqual([1, 2, 3, 4, 10].map((n) => retryDelay(n, 300_000, 30_000)), [30_000, 60_000, 120_000, 240_000, 300_000]);
    assert.equal(retryDelay(1, 300_000, 30_000, 90_000), 90_000);
    assert.equal(retryDelay(100, 300_000, 30_000), 300_000);
  });
});
