import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { T0, startHarness, type Harness } from '../harness.test.js';

/** Token management by an admin: create (shown once), list, revoke; each audited. */

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(() => h.close());

const admin = () => ({ token: h.tokens.admin.secret });

describe('tokens', () => {
  it('creates a token shown once, lists it without its secret, revokes it; both audited with the admin as actor', async () => {
    const made = await h.call('POST', '/api/v1/tokens', { ...admin(), body: { name: 'noc-alice', role: 'operator' } });
    assert.equal(made.status, 201, made.text);
    assert.deepEqual(Object.keys(made.json).sort(), ['id', 'name', 'role', 'token']);
    assert.deepEqual([made.json.name, made.json.role], ['noc-alice', 'operator']);
    assert.match(made.json.token, /^swt_[A-Za-z0-9_-]{43}$/);

    const listed = await h.call('GET', '/api/v1/tokens', admin());
    const alice = listed.json.tokens.find((t: { name: string }) => t.name === 'noc-alice');
    assert.deepEqual(alice, { id: made.json.id, name: 'noc-alice', role: 'operator', createdAt: T0, createdBy: 'token:admin' });
    assert.equal(listed.text.includes(made.json.token), false);

    const ban = await h.call('POST', '/api/v1/decisions', { token: made.json.token, body: { target: '192.0.2.1', reason: 'works' } });
    assert.equal(ban.status, 201, 'the new token has its role at once');

    h.clock.advance(1000);
    const revoked = await h.call('DELETE', `/api/v1/tokens/${made.json.id}`, admin());
    assert.equal(revoked.status, 200, revoked.text);
    assert.equal(revoked.json.token.revokedAt, T0 + 1000);
    const after = await h.call('GET', '/api/v1/tokens', admin());
    assert.equal(after.json.tokens.find((t: { id: number }) => t.id === made.json.id).revokedAt, T0 + 1000);
    h.clock.advance(1000);
    const again = await h.call('DELETE', `/api/v1/tokens/${made.json.id}`, admin());
    assert.equal(again.status, 409, 'a second revoke changes nothing');

    const audit = (await h.store.auditLog({})).filter((a) => a.action.startsWith('token-'));
    assert.deepEqual(audit.map((a) => [a.at, a.actor, a.action, a.target, a.reason, a.detail]), [
      [T0 + 1000, 'token:admin', 'token-revoke', 'token:noc-alice', 'revoked through the API', `token ${made.json.id}`],
      [T0, 'token:admin', 'token-create', 'token:noc-alice', 'role operator', `token ${made.json.id}`],
    ]);
  });

  it('a live name is unique (409); after its revoke the name may be used again', async () => {
    const first = await h.call('POST', '/api/v1/tokens', { ...admin(), body: { name: 'ci', role: 'viewer' } });
    const clash = await h.call('POST', '/api/v1/tokens', { ...admin(), body: { name: 'ci', role: 'admin' } });
    assert.deepEqual([clash.status, clash.json.error, clash.json.path], [409, 'conflict', 'body.name']);
    assert.equal((await h.store.auditLog({})).filter((a) => a.action === 'token-create').length, 1, 'a refused create is not audited');
    await h.call('DELETE', `/api/v1/tokens/${first.json.id}`, admin());
    const again = await h.call('POST', '/api/v1/tokens', { ...admin(), body: { name: 'ci', role: 'admin' } });
    assert.equal(again.status, 201, again.text);
    assert.notEqual(again.json.id, first.json.id);
  });

  it('an admin can revoke its own token, and is then out', async () => {
    const self = await h.call('DELETE', `/api/v1/tokens/${h.tokens.admin.record.id}`, admin());
    assert.equal(self.status, 200);
    assert.equal((await h.call('GET', '/api/v1/tokens', admin())).status, 401);
  });
});
