import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { manualBan } from '../../policy/manual.js';
import { HOUR, MINUTE, T0, healthReport, incident, startHarness, type Harness } from '../harness.test.js';

/** The read endpoints the dashboard lives on: events, stats, incidents, audit. */

let h: Harness;
beforeEach(async () => {
  h = await startHarness({ config: { trunks: ['192.0.2.0/24'] } });
});
afterEach(() => h.close());

async function get(path: string): Promise<any> {
  const answer = await h.call('GET', path, { token: h.tokens.viewer.secret });
  assert.equal(answer.status, 200, `${path}: ${answer.text}`);
  return answer.json;
}

const ban = (target: string, now = h.clock.now()) => manualBan(h.store, { target, durationMs: HOUR, reason: 'test', actor: 'token:operator', now });

describe('events', () => {
  it('filters by address, prefix, account, kind and time, newest first, with a limit', async () => {
    const [old, a1, a2, scan, other, v6] = await h.addEvents([
      { at: T0 - 3 * HOUR, account: '1001' },
      { at: T0 - 30 * MINUTE, account: '1001' },
      { at: T0 - 20 * MINUTE, account: '1002' },
      { at: T0 - 10 * MINUTE, ip: '203.0.113.99', kind: 'scanner', userAgent: 'sipvicious' },
      { at: T0 - 5 * MINUTE, ip: '198.51.100.5', kind: 'unknown-account', account: '1001' },
      { at: T0 - MINUTE, ip: '2001:db8::7', kind: 'scanner' },
    ]);
    const ids = async (query: string) => (await get(`/api/v1/events${query}`)).events.map((e: { id: number }) => e.id);
    assert.deepEqual(await ids(''), [v6, other, scan, a2, a1, old]);
    assert.deepEqual(await ids('?ip=203.0.113.7'), [a2, a1, old]);
    assert.deepEqual(await ids('?cidr=203.0.113.0/24'), [scan, a2, a1, old]);
    assert.deepEqual(await ids('?ip=203.0.113.0%2F24'), [scan, a2, a1, old], 'a prefix in ip is a prefix');
    assert.deepEqual(await ids('?ip=2001:DB8::7'), [v6], 'the address is read in canonical form');
    assert.deepEqual(await ids('?account=1001'), [other, a1, old]);
    assert.deepEqual(await ids('?kind=scanner'), [v6, scan]);
    assert.deepEqual(await ids('?kind=scanner&kind=unknown-account'), [v6, other, scan]);
    assert.deepEqual(await ids('?since=1h'), [v6, other, scan, a2, a1]);
    assert.deepEqual(await ids(`?since=${T0 - 25 * MINUTE}&until=${T0 - 5 * MINUTE}`), [scan, a2]);
    assert.deepEqual(await ids('?limit=2'), [v6, other]);
    assert.deepEqual(await ids('?account=1001&ip=198.51.100.5'), [other], 'filters combine');
    const [event] = (await get('/api/v1/events?kind=scanner&ip=203.0.113.99')).events;
    assert.deepEqual([event.userAgent, event.evidence, event.sensor], ['sipvicious', 'verified', 'apitest/ast']);
  });
});

describe('stats', () => {
  it('buckets events over the period, counts by kind, source and rule, and ranks sources and accounts', async () => {
    await h.addEvents([
      { at: T0 - 23 * HOUR, account: '1001' },
      { at: T0 - 2 * HOUR, account: '1001' },
      { at: T0 - 2 * HOUR + 1, account: '1002' },
      { at: T0 - MINUTE, ip: '198.51.100.5', kind: 'scanner', sensor: 'apitest/hep' },
      { at: T0, ip: '198.51.100.6', kind: 'auth-success', account: '1003' },
      { at: T0 - 25 * HOUR, ip: '198.51.100.99' },
    ]);
    await ban('203.0.113.7');
    await h.store.addDecision({
      at: T0 - HOUR, target: '198.51.100.5', targetType: 'ip', action: 'ban', origin: 'rule', rule: 'scanner', reason: 'scan', durationMs: HOUR,
      expiresAt: T0, level: 0, evidence: 'verified', eventCount: 1, policy: [], dryRun: false,
    });
    h.health = healthReport({ activeBans: 1 });
    const day = await get('/api/v1/stats');
    assert.deepEqual([day.since, day.until, day.bucketMs], [T0 - 24 * HOUR, T0, 15 * MINUTE], '24h in 96 buckets of 15m');
    assert.ok(day.series.length >= 96 && day.series.length <= 97, `${day.series.length} buckets`);
    const starts = day.series.map((b: { t: number }) => b.t);
    assert.deepEqual(starts, [...starts].sort((a, b) => a - b), 'oldest first');
    const total = day.series.reduce((n: number, b: { counts: Record<string, number> }) => n + Object.values(b.counts).reduce((x, y) => x + y, 0), 0);
    assert.equal(total, 5, 'every event of the period once, none from before it');
    assert.deepEqual(day.byKind, { 'auth-failure': 3, scanner: 1, 'auth-success': 1 });
    assert.deepEqual(day.bySource, { 'apitest/ast': 4, 'apitest/hep': 1 });
    assert.deepEqual(day.byRule, { manual: 1, scanner: 1 });
    assert.deepEqual(day.topSources, [{ ip: '203.0.113.7', events: 3, banned: true }, { ip: '198.51.100.5', events: 1, banned: false }], 'the scanner ban expired at now');
    assert.deepEqual(day.topAccounts, [{ account: '1001', events: 2 }, { account: '1002', events: 1 }], 'failures only');
    assert.equal(day.activeBans, 1, 'from the daemon health');
    assert.deepEqual(day.byCountry, { '??': 4 }, 'no geo configured');

    const hour = await get('/api/v1/stats?since=1h');
    assert.deepEqual([hour.since, hour.bucketMs], [T0 - HOUR, MINUTE]);
    assert.deepEqual(hour.byKind, { scanner: 1, 'auth-success': 1 });
    const week = await get('/api/v1/stats?since=7d&bucket=1d');
    assert.equal(week.bucketMs, 24 * HOUR);
    assert.ok(week.series.length <= 8);
  });

  it('lists active bans of known-good and trunk addresses: the tickets about to arrive', async () => {
    await h.store.rememberSuccess('198.51.100.5', '2000', T0 - HOUR);
    await h.store.rememberSuccess('198.51.100.6', '2001', T0 - 40 * 24 * HOUR); // forgotten: past known-good.remember (30d)
    const knownGood = await ban('198.51.100.5');
    const trunk = await ban('192.0.2.10');
    await ban('203.0.113.99');
    await ban('198.51.100.6');
    const lifted = await ban('192.0.2.11');
    await h.store.revokeDecision(lifted.id, 'token:operator', 'customer', T0);
    const stats = await get('/api/v1/stats');
    assert.deepEqual(stats.knownGoodBans.map((d: { id: number; why: string }) => [d.id, d.why]), [
      [trunk.id, 'on the trunk/customer list (192.0.2.0/24)'],
      [knownGood.id, 'known-good: 2000 authenticated from 198.51.100.5'],
    ]);
  });
});

describe('incidents and audit', () => {
  it('lists incidents most recently updated first, by account, since and limit', async () => {
    await h.store.saveIncident(incident());
    await h.store.saveIncident(incident({ id: 'fraud-2002-y', account: '2002', updatedAt: T0 - MINUTE, severity: 'warning' }));
    await h.store.saveIncident(incident({ id: 'fraud-3003-z', account: '3003', updatedAt: T0 - 2 * HOUR }));
    const ids = async (query: string) => (await get(`/api/v1/incidents${query}`)).incidents.map((i: { id: string }) => i.id);
    assert.deepEqual(await ids(''), ['fraud-2002-y', 'fraud-1001-x', 'fraud-3003-z']);
    assert.deepEqual(await ids('?account=1001'), ['fraud-1001-x']);
    assert.deepEqual(await ids('?since=1h'), ['fraud-2002-y', 'fraud-1001-x']);
    assert.deepEqual(await ids('?limit=1'), ['fraud-2002-y']);
    const [full] = (await get('/api/v1/incidents?account=1001')).incidents;
    assert.deepEqual(full, incident(), 'the whole incident round-trips');
  });

  it('reads the audit trail newest first, by exact target, since and limit', async () => {
    const d = await ban('203.0.113.7', T0 - 10 * MINUTE);
    await h.call('POST', `/api/v1/decisions/${d.id}/revoke`, { token: h.tokens.operator.secret, body: { reason: 'customer' } });
    await h.call('POST', '/api/v1/tokens', { token: h.tokens.admin.secret, body: { name: 'bob', role: 'viewer' } });
    const trail = (await get('/api/v1/audit')).audit;
    assert.deepEqual(trail.map((a: { action: string }) => a.action), ['token-create', 'unban', 'ban']);
    assert.ok(trail.every((a: { id: number }) => a.id > 0));
    assert.deepEqual((await get('/api/v1/audit?target=203.0.113.7')).audit.map((a: { action: string }) => a.action), ['unban', 'ban']);
    assert.deepEqual((await get('/api/v1/audit?target=203.0.113.0%2F24')).audit, [], 'target is exact');
    assert.deepEqual((await get('/api/v1/audit?since=5m')).audit.map((a: { action: string }) => a.action), ['token-create', 'unban']);
    assert.deepEqual((await get('/api/v1/audit?limit=1')).audit.map((a: { target: string }) => a.target), ['token:bob']);
  });
});
