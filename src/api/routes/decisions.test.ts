import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { Decision, NewDecision } from '../../store/types.js';
import { HOUR, T0, startHarness, type Harness } from '../harness.test.js';

/** Decisions through the API: ban, list with filters and paging, read one with its audit, revoke one, revoke many. */

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(() => h.close());

const op = () => ({ token: h.tokens.operator.secret });
const viewer = () => ({ token: h.tokens.viewer.secret });

async function ban(target: string, duration?: string | null, reason = 'ticket 42'): Promise<Decision> {
  const answer = await h.call('POST', '/api/v1/decisions', { ...op(), body: { target, reason, ...(duration !== undefined ? { duration } : {}) } });
  assert.equal(answer.status, 201, answer.text);
  return answer.json.decision;
}

function ruleBan(target: string, rule: string, over: Partial<NewDecision> = {}): Promise<Decision> {
  return h.store.addDecision({
    at: h.clock.now(), target, targetType: 'ip', action: 'ban', origin: 'rule', rule, reason: `${rule} fired`, durationMs: HOUR,
    expiresAt: h.clock.now() + HOUR, level: 0, evidence: 'verified', eventCount: 5, policy: [], dryRun: false, ...over,
  });
}

const ids = (list: { id: number }[]) => list.map((d) => d.id);

async function list(query: string): Promise<{ decisions: Decision[]; next: number | null }> {
  const answer = await h.call('GET', `/api/v1/decisions${query}`, viewer());
  assert.equal(answer.status, 200, answer.text);
  return answer.json;
}

describe('manual bans', () => {
  it('bans permanently without a duration, for a time with one, in canonical form; audits and tells the daemon', async () => {
    const forever = await ban('203.0.113.7');
    assert.deepEqual(
      [forever.target, forever.origin, forever.action, forever.actor, forever.durationMs, forever.expiresAt, forever.at, forever.reason],
      ['203.0.113.7', 'manual', 'ban', 'token:operator', null, null, T0, 'ticket 42'],
    );
    const nulled = await ban('203.0.113.8', null);
    assert.equal(nulled.expiresAt, null, 'null is permanent too');
    const timed = await ban(' 2001:DB8:0:0::1/64 ', '2h', 'scanning us');
    assert.deepEqual([timed.target, timed.durationMs, timed.expiresAt], ['2001:db8::/64', 2 * HOUR, T0 + 2 * HOUR]);
    assert.equal(h.changes, 3, 'each ban wakes the daemon');
    const audit = await h.store.auditLog({});
    assert.deepEqual(audit.map((a) => [a.actor, a.action, a.target, a.reason, a.detail]), [
      ['token:operator', 'ban', '2001:db8::/64', 'scanning us', `decision ${timed.id} for 2h`],
      ['token:operator', 'ban', '203.0.113.8', 'ticket 42', `decision ${nulled.id} (permanent)`],
      ['token:operator', 'ban', '203.0.113.7', 'ticket 42', `decision ${forever.id} (permanent)`],
    ]);
    const admin = await h.call('POST', '/api/v1/decisions', { token: h.tokens.admin.secret, body: { target: '192.0.2.1', reason: 'x' } });
    assert.equal(admin.json.decision.actor, 'token:admin', 'the actor is whoever called');
  });
});

describe('decision list', () => {
  it('filters by activity, target (inside or covering), rule, origin, action and time', async () => {
    const a = await ruleBan('203.0.113.7', 'bruteforce');
    const b = await ruleBan('198.51.100.0/24', 'scanner');
    const c = await ban('203.0.113.9', '1d');
    const d = await ruleBan('203.0.113.10', 'bruteforce', { action: 'report', durationMs: undefined, expiresAt: undefined });
    h.clock.advance(2 * HOUR); // a and b have expired
    const e = await ban('198.51.100.77', '1h');
    await h.call('POST', `/api/v1/decisions/${c.id}/revoke`, { ...op(), body: { reason: 'customer' } });
    assert.deepEqual(ids((await list('')).decisions), [e.id, d.id, c.id, b.id, a.id]);
    assert.deepEqual(ids((await list('?active=true')).decisions), [e.id]);
    assert.deepEqual(ids((await list('?active=false')).decisions), [d.id, c.id, b.id, a.id]);
    assert.deepEqual(ids((await list('?target=203.0.113.0/24')).decisions), [d.id, c.id, a.id]);
    assert.deepEqual(ids((await list('?target=198.51.100.77')).decisions), [e.id, b.id], 'the /24 covers the address');
    assert.deepEqual(ids((await list('?rule=bruteforce')).decisions), [d.id, a.id]);
    assert.deepEqual(ids((await list('?origin=manual')).decisions), [e.id, c.id]);
    assert.deepEqual(ids((await list('?action=report')).decisions), [d.id]);
    assert.deepEqual(ids((await list(`?since=${T0 + HOUR}`)).decisions), [e.id]);
    assert.deepEqual(ids((await list(`?until=${T0 + HOUR}`)).decisions), [d.id, c.id, b.id, a.id]);
    assert.deepEqual(ids((await list('?since=30m')).decisions), [e.id], 'a duration counts back from now');
  });

  it('pages newest first; next is the before of the next page, null on the last', async () => {
    const made: Decision[] = [];
    for (let i = 1; i <= 5; i++) made.push(await ban(`192.0.2.${i}`, '1h'));
    const first = await list('?limit=2');
    assert.deepEqual(ids(first.decisions), [made[4]!.id, made[3]!.id]);
    assert.equal(first.next, made[3]!.id);
    const second = await list(`?limit=2&before=${first.next}`);
    assert.deepEqual(ids(second.decisions), [made[2]!.id, made[1]!.id]);
    const third = await list(`?limit=2&before=${second.next}`);
    assert.deepEqual(ids(third.decisions), [made[0]!.id]);
    assert.equal(third.next, null);
  });
});

describe('one decision', () => {
  it('comes with its own audit records, not those of other bans of the same address', async () => {
    const bans: Decision[] = [];
    // Ten or more bans of one address: decision 1's records must not pick up decision 10's ("decision 1" is a prefix of it).
    for (let i = 0; i < 11; i++) {
      const d = await ban('203.0.113.7', '1h', `round ${i}`);
      await h.call('POST', `/api/v1/decisions/${d.id}/revoke`, { ...op(), body: { reason: `lift ${i}` } });
      bans.push(d);
    }
    const first = bans[0]!;
    const answer = await h.call('GET', `/api/v1/decisions/${first.id}`, viewer());
    assert.equal(answer.status, 200, answer.text);
    assert.equal(answer.json.decision.revokeReason, 'lift 0');
    assert.deepEqual(answer.json.audit.map((a: { action: string; reason: string }) => [a.action, a.reason]), [['unban', 'lift 0'], ['ban', 'round 0']]);
    const missing = await h.call('GET', '/api/v1/decisions/424242', viewer());
    assert.deepEqual([missing.status, missing.json.error], [404, 'not-found']);
  });
});

describe('revoke', () => {
  it('lifts a ban in force once, audits it; a second revoke is 409, an unknown id 404, an expired ban 409', async () => {
    const d = await ban('203.0.113.7', '1h');
    const changes = h.changes;
    const answer = await h.call('POST', `/api/v1/decisions/${d.id}/revoke`, { ...op(), body: { reason: 'customer called' } });
    assert.equal(answer.status, 200, answer.text);
    assert.deepEqual([answer.json.decision.revokedAt, answer.json.decision.revokedBy, answer.json.decision.revokeReason], [T0, 'token:operator', 'customer called']);
    assert.equal(h.changes, changes + 1);
    const [unban] = await h.store.auditLog({ limit: 1 });
    assert.deepEqual([unban!.actor, unban!.action, unban!.target, unban!.reason, unban!.detail], ['token:operator', 'unban', '203.0.113.7', 'customer called', `decision ${d.id}`]);
    const again = await h.call('POST', `/api/v1/decisions/${d.id}/revoke`, { ...op(), body: { reason: 'twice' } });
    assert.deepEqual([again.status, again.json.error], [409, 'conflict']);
    assert.equal((await h.store.decision(d.id))?.revokeReason, 'customer called', 'the first revoke stays');
    const unknown = await h.call('POST', '/api/v1/decisions/999/revoke', { ...op(), body: { reason: 'x' } });
    assert.deepEqual([unknown.status, unknown.json.error], [404, 'not-found']);
    const old = await ban('203.0.113.8', '1h');
    h.clock.advance(HOUR);
    assert.equal((await h.call('POST', `/api/v1/decisions/${old.id}/revoke`, { ...op(), body: { reason: 'x' } })).status, 409, 'expired');
    assert.equal((await h.store.auditLog({})).filter((a) => a.action === 'unban').length, 1, 'refused revokes are not audited');
  });
});

describe('bulk unban', () => {
  it('by prefix: every active ban inside or covering it, one audit record per ban', async () => {
    const inside = [await ban('198.51.100.1', '1h'), await ban('198.51.100.200', null), await ruleBan('198.51.100.0/28', 'scanner')];
    const covering = await ruleBan('198.51.0.0/16', 'scanner');
    const outside = await ban('192.0.2.1', '1h');
    const lifted = await ban('198.51.100.9', '1h');
    await h.call('POST', `/api/v1/decisions/${lifted.id}/revoke`, { ...op(), body: { reason: 'earlier' } });
    const answer = await h.call('POST', '/api/v1/unban', { ...op(), body: { target: '198.51.100.0/24', reason: 'customer range' } });
    assert.equal(answer.status, 200, answer.text);
    assert.deepEqual(ids(answer.json.revoked).sort((x, y) => x - y), ids([...inside, covering]).sort((x, y) => x - y));
    assert.ok(answer.json.revoked.every((d: Decision) => d.revokedBy === 'token:operator' && d.revokeReason === 'customer range'));
    assert.equal((await h.store.decision(outside.id))?.revokedAt, undefined);
    const records = (await h.store.auditLog({})).filter((a) => a.reason === 'customer range');
    assert.deepEqual(records.map((a) => a.detail).sort(), [...inside, covering].map((d) => `decision ${d.id}`).sort());
    assert.ok(records.every((a) => a.actor === 'token:operator' && a.action === 'unban'));
  });

  it('by rule, and by rule inside a prefix; nothing to lift is an empty list and no wake-up', async () => {
    const s1 = await ruleBan('203.0.113.1', 'scanner');
    const s2 = await ruleBan('192.0.2.5', 'scanner');
    const b1 = await ruleBan('203.0.113.2', 'bruteforce');
    const both = await h.call('POST', '/api/v1/unban', { ...op(), body: { rule: 'scanner', target: '192.0.2.0/24', reason: 'r1' } });
    assert.deepEqual(ids(both.json.revoked), [s2.id]);
    const byRule = await h.call('POST', '/api/v1/unban', { ...op(), body: { rule: 'scanner', reason: 'r2' } });
    assert.deepEqual(ids(byRule.json.revoked), [s1.id]);
    assert.equal((await h.store.decision(b1.id))?.revokedAt, undefined);
    const changes = h.changes;
    const none = await h.call('POST', '/api/v1/unban', { ...op(), body: { rule: 'scanner', reason: 'r3' } });
    assert.deepEqual([none.status, none.json.revoked], [200, []]);
    assert.equal(h.changes, changes);
  });
});
