import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isSipwardenError } from '../core/errors.js';
import type { NewDecision, Store } from './types.js';
import type { SecurityEvent } from '../core/event.js';

/** The console part of the Store contract (decision lists, audit log, stats, tokens); contract.ts runs it. */

const T0 = 1_700_000_000_000;
const HOUR = 3_600_000;

const event = (over: Partial<SecurityEvent>): SecurityEvent => ({ at: T0, kind: 'auth-failure', ip: '203.0.113.9', server: 'asterisk', evidence: 'spoofable', raw: 'l', ...over });

export function consoleContract(store: () => Store, decision: (over: Partial<NewDecision>) => NewDecision): void {
  describe('decision list', () => {
    it('filters by activity, prefix, rule, origin and time, newest first, and pages by id', async () => {
      const a = await store().addDecision(decision({ target: '203.0.113.9', rule: 'bruteforce', at: T0 }));
      const b = await store().addDecision(decision({ target: '198.51.100.0/24', rule: 'scanner', at: T0 + 1 }));
      const c = await store().addDecision(decision({ target: '203.0.113.10', origin: 'manual', rule: undefined, actor: 'x', at: T0 + 2, expiresAt: null, durationMs: null }));
      const d = await store().addDecision(decision({ target: '203.0.113.11', action: 'report', at: T0 + 3 }));
      await store().revokeDecision(a.id, 'op', 'customer', T0 + 10);
      const ids = async (q: Parameters<Store['listDecisions']>[0]) => (await store().listDecisions(q)).map((x) => x.id);
      assert.deepEqual(await ids({}), [d.id, c.id, b.id, a.id]);
      assert.deepEqual(await ids({ active: true, now: T0 + 20 }), [c.id, b.id]);
      assert.deepEqual(await ids({ active: false, now: T0 + 20 }), [d.id, a.id]);
      // The expiry counts: an hour later only the permanent manual ban is in force.
      assert.deepEqual(await ids({ active: true, now: T0 + 2 * HOUR }), [c.id]);
      assert.deepEqual(await ids({ target: '203.0.113.0/24' }), [d.id, c.id, a.id]);
      assert.deepEqual(await ids({ target: '198.51.100.7' }), [b.id], 'a prefix ban covers the address');
      assert.deepEqual(await ids({ rule: 'scanner' }), [b.id]);
      assert.deepEqual(await ids({ origin: 'manual' }), [c.id]);
      assert.deepEqual(await ids({ action: 'report' }), [d.id]);
      assert.deepEqual(await ids({ since: T0 + 1, until: T0 + 3 }), [c.id, b.id]);
      assert.deepEqual(await ids({ beforeId: c.id, limit: 1 }), [b.id]);
      assert.equal((await store().decision(b.id))?.target, '198.51.100.0/24');
      assert.equal(await store().decision(9999), undefined);
      assert.deepEqual(await store().countDecisions(T0 + 1), { scanner: 1, manual: 1, bruteforce: 1 });
    });
  });

  describe('audit log', () => {
    it('lists the trail newest first with ids, by target and since', async () => {
      await store().audit({ at: T0, actor: 'a', action: 'ban', target: '203.0.113.9', reason: 'r1' });
      await store().audit({ at: T0 + 5, actor: 'b', action: 'unban', target: '203.0.113.9', reason: 'r2', detail: 'decision 1' });
      await store().audit({ at: T0 + 9, actor: 'c', action: 'token-create', target: 'token:x', reason: 'r3' });
      const all = await store().auditLog({});
      assert.deepEqual(all.map((e) => e.actor), ['c', 'b', 'a']);
      assert.ok(all.every((e) => e.id > 0));
      assert.deepEqual((await store().auditLog({ target: '203.0.113.9', since: T0 + 1 })).map((e) => e.reason), ['r2']);
      assert.equal((await store().auditLog({ limit: 1 })).length, 1);
    });
  });

  describe('event stats', () => {
    it('counts per bucket and kind, per source, and the top sources and targeted accounts', async () => {
      await store().appendEvents([
        event({ at: T0 + 1, account: '100', sensor: 'pbx1/ast' }),
        event({ at: T0 + 2, account: '100', sensor: 'pbx1/ast' }),
        event({ at: T0 + HOUR + 1, kind: 'unknown-account', account: '200', ip: '198.51.100.1', sensor: 'pbx1/hep' }),
        event({ at: T0 + HOUR + 2, kind: 'auth-success', account: '300', ip: '192.0.2.1', sensor: 'pbx1/ast' }),
        event({ at: T0 + 5 * HOUR, kind: 'scanner' }),
      ]);
      const stats = await store().eventStats({ since: T0, until: T0 + 2 * HOUR, bucketMs: HOUR });
      // Buckets are aligned to multiples of bucketMs, so two hours from an unaligned start span three.
      assert.deepEqual(stats.series.map((b) => b.counts), [{ 'auth-failure': 2 }, { 'unknown-account': 1, 'auth-success': 1 }, {}]);
      assert.equal(stats.series[0]!.t, T0 - (T0 % HOUR));
      assert.deepEqual(stats.byKind, { 'auth-failure': 2, 'unknown-account': 1, 'auth-success': 1 });
      assert.deepEqual(stats.bySource, { 'pbx1/ast': 3, 'pbx1/hep': 1 });
      assert.deepEqual(stats.topSources, [{ ip: '203.0.113.9', events: 2 }, { ip: '198.51.100.1', events: 1 }], 'a successful login is not an attack');
      assert.deepEqual(stats.topAccounts, [{ account: '100', events: 2 }, { account: '200', events: 1 }]);
    });
  });

  describe('feed state', () => {
    it('saves and replaces the state of each feed, listed by id', async () => {
      await store().saveFeedState({ id: 'voipbl', entries: 10, overridden: 1, syncedAt: T0, attemptedAt: T0 });
      await store().saveFeedState({ id: 'apiban', cursor: '1700000001', entries: 250, overridden: 0, error: 'HTTP 429', errorAt: T0 + 5, syncedAt: T0 });
      await store().saveFeedState({ id: 'voipbl', entries: 12, overridden: 2, syncedAt: T0 + 9, attemptedAt: T0 + 9 });
      assert.deepEqual(await store().feedStates(), [
        { id: 'apiban', cursor: '1700000001', entries: 250, overridden: 0, error: 'HTTP 429', errorAt: T0 + 5, syncedAt: T0 },
        { id: 'voipbl', entries: 12, overridden: 2, syncedAt: T0 + 9, attemptedAt: T0 + 9 },
      ]);
    });
  });

  describe('shared allowlist', () => {
    it('adds, replaces the reason of, lists by address and removes entries', async () => {
      await store().addSharedAllow({ cidr: '198.51.100.0/24', reason: 'customer A', actor: 'token:noc', at: T0 });
      await store().addSharedAllow({ cidr: '192.0.2.7', reason: 'trunk', actor: 'root@pbx1', at: T0 + 1 });
      await store().addSharedAllow({ cidr: '198.51.100.0/24', reason: 'customer A, SBC', actor: 'token:noc', at: T0 + 2 });
      assert.deepEqual(await store().sharedAllow(), [
        { cidr: '192.0.2.7', reason: 'trunk', actor: 'root@pbx1', at: T0 + 1 },
        { cidr: '198.51.100.0/24', reason: 'customer A, SBC', actor: 'token:noc', at: T0 + 2 },
      ]);
      assert.equal(await store().removeSharedAllow('192.0.2.7'), true);
      assert.equal(await store().removeSharedAllow('192.0.2.7'), false);
      assert.deepEqual((await store().sharedAllow()).map((e) => e.cidr), ['198.51.100.0/24']);
    });
  });

  describe('API tokens', () => {
    it('stores by hash, finds by hash, touches, lists and revokes once; live names are unique', async () => {
      const t = await store().addToken({ name: 'alice', role: 'operator', hash: 'a'.repeat(64), createdAt: T0, createdBy: 'root@pbx1' });
      assert.deepEqual(t, { id: t.id, name: 'alice', role: 'operator', createdAt: T0, createdBy: 'root@pbx1' });
      assert.deepEqual(await store().tokenByHash('a'.repeat(64)), t);
      assert.equal(await store().tokenByHash('b'.repeat(64)), undefined);
      await assert.rejects(
        store().addToken({ name: 'alice', role: 'viewer', hash: 'c'.repeat(64), createdAt: T0, createdBy: 'x' }),
        (e: unknown) => isSipwardenError(e) && /alice/.test(e.message),
      );
      await store().touchToken(t.id, T0 + 5);
      assert.equal((await store().tokenByHash('a'.repeat(64)))?.lastUsedAt, T0 + 5);
      assert.equal((await store().revokeToken(t.id, T0 + 7))?.revokedAt, T0 + 7);
      assert.equal((await store().revokeToken(t.id, T0 + 9))?.revokedAt, T0 + 7, 'the first revocation stays');
      assert.equal(await store().revokeToken(999, T0), undefined);
      // Revoked, the name is free again.
      await store().addToken({ name: 'alice', role: 'viewer', hash: 'd'.repeat(64), createdAt: T0, createdBy: 'x' });
      assert.deepEqual((await store().tokens()).map((x) => [x.name, x.role, x.revokedAt !== undefined]), [['alice', 'operator', true], ['alice', 'viewer', false]]);
    });
  });
}
