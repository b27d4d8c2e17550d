import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { Incident } from '../../fraud/incidents.js';
import { MINUTE, T0, incident, startHarness, type Harness } from '../harness.test.js';

/** Explain: the story `why` tells, as JSON, for an address, a prefix and an account. */

let h: Harness;
beforeEach(async () => {
  h = await startHarness({ config: { trunks: ['192.0.2.0/24'] } });
});
afterEach(() => h.close());

interface Entry {
  at: number;
  type: string;
  title: string;
  detail: string;
  id?: number | string;
}

async function explain(target: string): Promise<any> {
  const answer = await h.call('GET', `/api/v1/explain/${encodeURIComponent(target)}`, { token: h.tokens.viewer.secret });
  assert.equal(answer.status, 200, answer.text);
  return answer.json;
}

function assertOldestFirst(timeline: Entry[]): void {
  assert.deepEqual(timeline.map((e) => e.at), timeline.map((e) => e.at).sort((a, b) => a - b), 'the timeline runs oldest first');
}

describe('explain an address', () => {
  it('tells the events, the ban, and after a revoke the revoke and its audit, oldest first; undo while banned', async () => {
    const ids = await h.addEvents([
      { at: T0 - 3 * MINUTE, account: '1001', userAgent: 'friendly-scanner', reason: 'Wrong password' },
      { at: T0 - 2 * MINUTE, account: '1001' },
      { at: T0 - MINUTE, kind: 'unknown-account', account: 'admin' },
      { at: T0 - MINUTE, ip: '203.0.113.8' },
    ]);
    const ban = await h.call('POST', '/api/v1/decisions', { token: h.tokens.operator.secret, body: { target: '203.0.113.7', duration: '1h', reason: 'ticket 7: it\'s them' } });
    const id = ban.json.decision.id;

    const banned = await explain('203.0.113.7');
    assert.deepEqual([banned.target, banned.kind, banned.banned], ['203.0.113.7', 'ip', true]);
    assert.deepEqual(banned.active.map((d: { id: number }) => d.id), [id]);
    assert.deepEqual(banned.counts, { 'auth-failure': 2, 'unknown-account': 1 });
    assert.deepEqual(banned.events.map((e: { id: number }) => e.id), [ids[2], ids[1], ids[0]], 'events newest first, only this address');
    assert.equal(banned.undo, `sipwarden unban 203.0.113.7 --reason 'customer verified'`);
    assert.deepEqual(banned.progress, [], 'no distance to a ban while banned');
    assertOldestFirst(banned.timeline);
    assert.deepEqual(banned.timeline.map((e: Entry) => e.type), ['event', 'event', 'event', 'decision', 'audit']);
    assert.deepEqual(banned.timeline[0], {
      at: T0 - 3 * MINUTE, type: 'event', id: ids[0], title: 'auth-failure from 203.0.113.7 account 1001',
      detail: 'Wrong password · User-Agent friendly-scanner · verified, apitest/ast',
    });
    assert.deepEqual(banned.timeline[3], { at: T0, type: 'decision', id, title: '203.0.113.7 banned for 1h, by token:operator', detail: 'ticket 7: it\'s them' });

    h.clock.advance(MINUTE);
    await h.call('POST', `/api/v1/decisions/${id}/revoke`, { token: h.tokens.operator.secret, body: { reason: 'customer verified' } });
    const lifted = await explain('203.0.113.7');
    assert.equal(lifted.banned, false);
    assert.equal(lifted.undo, undefined);
    assertOldestFirst(lifted.timeline);
    const last = lifted.timeline.slice(-2);
    assert.deepEqual(last.map((e: Entry) => [e.at, e.type]).sort(), [[T0 + MINUTE, 'audit'], [T0 + MINUTE, 'revoke']]);
    assert.ok(last.some((e: Entry) => e.type === 'revoke' && e.title === `ban ${id} lifted by token:operator` && e.detail === 'customer verified'));
    assert.ok(last.some((e: Entry) => e.type === 'audit' && e.title === 'token:operator unban 203.0.113.7'));
    assert.deepEqual(lifted.audit.map((a: { action: string }) => a.action), ['unban', 'ban']);
    // Unbanned again, it shows how far it is from the next ban: the unknown account still counts for enumeration (5m).
    assert.ok(lifted.progress.some((p: { rule: string; count: number }) => p.rule === 'enumeration' && p.count === 1), JSON.stringify(lifted.progress));
  });

  it('names the allow-list and trunk entries and the known-good pairs of an address', async () => {
    assert.equal((await explain('127.0.0.1')).allowlisted, '127.0.0.0/8');
    await h.store.rememberSuccess('192.0.2.10', '1001', T0 - MINUTE);
    const trunk = await explain('192.0.2.10');
    assert.equal(trunk.trunk, '192.0.2.0/24');
    assert.equal(trunk.allowlisted, null);
    assert.deepEqual(trunk.knownGood.map((k: { account: string }) => k.account), ['1001']);
    const nobody = await explain('198.51.100.200');
    assert.deepEqual([nobody.banned, nobody.events, nobody.decisions, nobody.timeline], [false, [], [], []]);
  });

  it('a prefix: events inside it, bans inside it, in the same story (IPv4 and IPv6)', async () => {
    await h.addEvents([{ ip: '203.0.113.7' }, { ip: '203.0.113.200', kind: 'scanner' }, { ip: '198.51.100.1' }, { ip: '2001:db8::5', kind: 'scanner' }]);
    await h.call('POST', '/api/v1/decisions', { token: h.tokens.operator.secret, body: { target: '203.0.113.200', reason: 'scan' } });
    const v4 = await explain('203.0.113.0/24');
    assert.deepEqual([v4.target, v4.kind, v4.banned], ['203.0.113.0/24', 'cidr', true]);
    assert.deepEqual(v4.counts, { 'auth-failure': 1, scanner: 1 });
    assert.ok(v4.undo.startsWith('sipwarden unban 203.0.113.200 '));
    const v6 = await explain('2001:DB8::/32');
    assert.deepEqual([v6.target, v6.kind, v6.counts], ['2001:db8::/32', 'cidr', { scanner: 1 }]);
    assert.equal((await explain('203.0.113.7/32')).kind, 'ip', 'a full-length prefix is an address');
  });

  it('an account: its events, known-good addresses and fraud incidents; attacker text stays data', async () => {
    const hostile = '1001"><script>alert(1)</script>';
    await h.addEvents([{ account: '1001' }, { account: '1001', kind: 'auth-success', ip: '192.0.2.10' }, { account: hostile }]);
    await h.store.rememberSuccess('192.0.2.10', '1001', T0);
    await h.store.saveIncident(incident());
    const story = await explain('1001');
    assert.deepEqual([story.target, story.kind, story.allowlisted, story.trunk], ['1001', 'account', null, null]);
    assert.deepEqual(story.counts, { 'auth-failure': 1, 'auth-success': 1 });
    assert.deepEqual(story.knownGood.map((k: { ip: string }) => k.ip), ['192.0.2.10']);
    assert.deepEqual(story.incidents.map((i: Incident) => i.id), ['fraud-1001-x']);
    assert.ok(story.timeline.some((e: Entry) => e.type === 'incident' && e.title === 'toll-fraud incident fraud-1001-x, critical' && e.detail === '12 premium calls in 10m'));
    assertOldestFirst(story.timeline);
    const odd = await explain(hostile);
    assert.deepEqual([odd.target, odd.kind, odd.events.length], [hostile, 'account', 1]);
  });
});
