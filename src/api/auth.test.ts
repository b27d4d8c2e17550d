import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { afterEach, describe, it } from 'node:test';
import { newToken, tokenHash } from './auth.js';
import { MINUTE, startHarness, type Harness } from './harness.test.js';

/** Tokens at rest and failed-token lockout. */

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** The database as it lies on disk, write-ahead log included (a fresh write may not be checkpointed yet). */
function dbBytes(path: string): string {
  return ['', '-wal', '-shm'].filter((s) => existsSync(path + s)).map((s) => readFileSync(path + s).toString('latin1')).join('\n');
}

describe('tokens at rest', () => {
  it('stores only the SHA-256 of a token: neither the CLI-style nor the API-created secret is in the database file', async () => {
    h = await startHarness();
    const made = await h.call('POST', '/api/v1/tokens', { token: h.tokens.admin.secret, body: { name: 'alice', role: 'operator' } });
    assert.equal(made.status, 201, made.text);
    const secrets = [h.tokens.viewer.secret, h.tokens.admin.secret, made.json.token as string];
    const bytes = dbBytes(h.dbPath);
    for (const secret of secrets) {
      assert.equal(bytes.includes(secret), false, 'a secret is in the database file');
      assert.equal(bytes.includes(secret.slice(4, 24)), false, 'part of a secret is in the database file');
      // The hash is there: the file read is the one that holds the tokens.
      assert.ok(bytes.includes(tokenHash(secret)), 'the token hash is not in the database file');
    }
    const listed = await h.call('GET', '/api/v1/tokens', { token: h.tokens.admin.secret });
    for (const secret of secrets) {
      assert.equal(listed.text.includes(secret), false);
      assert.equal(listed.text.includes(tokenHash(secret)), false, 'the list does not hand out hashes either');
    }
    assert.deepEqual(Object.keys(listed.json.tokens[0]).sort(), ['createdAt', 'createdBy', 'id', 'name', 'role']);
    const alice = await h.call('GET', '/api/v1/session', { token: made.json.token });
    assert.deepEqual(alice.json, { name: 'alice', role: 'operator', via: 'bearer' }, 'the token shown once works');
  });

  it('records when a token was last used, at most once a minute', async () => {
    h = await startHarness();
    const viewer = h.tokens.viewer;
    const used = async () => (await h!.store.tokens()).find((t) => t.id === viewer.record.id)?.lastUsedAt;
    assert.equal(await used(), undefined);
    await h.call('GET', '/api/v1/health', { token: viewer.secret });
    assert.equal(await used(), h.clock.now());
    const first = h.clock.now();
    h.clock.advance(30_000);
    await h.call('GET', '/api/v1/health', { token: viewer.secret });
    assert.equal(await used(), first, 'not written again within the minute');
    h.clock.advance(30_000);
    await h.call('GET', '/api/v1/health', { token: viewer.secret });
    assert.equal(await used(), h.clock.now());
  });

  it('a token revoked through the API stops working at once', async () => {
    h = await startHarness();
    const bob = await h.addToken('bob', 'operator');
    assert.equal((await h.call('GET', '/api/v1/decisions', { token: bob.secret })).status, 200);
    const revoked = await h.call('DELETE', `/api/v1/tokens/${bob.record.id}`, { token: h.tokens.admin.secret });
    assert.equal(revoked.status, 200, revoked.text);
    const after = await h.call('GET', '/api/v1/decisions', { token: bob.secret });
    assert.equal(after.status, 401);
    assert.equal(after.json.error, 'unauthorized');
    assert.equal((await h.call('DELETE', '/api/v1/tokens/9999', { token: h.tokens.admin.secret })).status, 404);
  });
});

describe('failed-token lockout', () => {
  const bad = () => ({ authorization: `Bearer ${newToken()}` });

  it('locks an address out after max failures in the window, good token or not, and lets it in after the window', async () => {
    h = await startHarness({ failedMax: 10 });
    const good = h.tokens.viewer.secret;
    for (let i = 0; i < 9; i++) assert.equal((await h.call('GET', '/api/v1/decisions', { headers: bad() })).status, 401);
    assert.equal((await h.call('GET', '/api/v1/decisions', { token: good })).status, 200, 'nine failures do not lock');
    h.clock.advance(10_000);
    assert.equal((await h.call('GET', '/api/v1/events', { headers: { authorization: 'Bearer nonsense' } })).status, 401, 'the tenth');
    const locked = await h.call('GET', '/api/v1/decisions', { token: good });
    assert.equal(locked.status, 429, locked.text);
    assert.equal(locked.json.error, 'rate-limited');
    assert.equal(locked.headers.get('retry-after'), '50', 'seconds until the window that began with the first failure ends');
    const login = await h.call('POST', '/api/v1/session', { body: { token: good } });
    assert.equal(login.status, 429, 'the console login is locked too');
    assert.ok(login.headers.get('retry-after'));
    const spoofed = await h.call('GET', '/api/v1/decisions', { token: good, headers: { 'x-forwarded-for': '192.0.2.1' } });
    assert.equal(spoofed.status, 429, 'without trustProxy a forged X-Forwarded-For does not get around the lock');
    assert.equal((await h.call('GET', '/healthz')).status, 200, 'health needs no token and is never locked');
    h.clock.advance(50_000 - 1);
    assert.equal((await h.call('GET', '/api/v1/decisions', { token: good })).status, 429);
    h.clock.advance(1);
    assert.equal((await h.call('GET', '/api/v1/decisions', { token: good })).status, 200, 'the window is over');
  });

  it('counts failures in fixed windows: nine now and nine a minute later do not lock', async () => {
    h = await startHarness({ failedMax: 10 });
    for (let i = 0; i < 9; i++) await h.call('GET', '/api/v1/audit', { headers: bad() });
    h.clock.advance(MINUTE);
    for (let i = 0; i < 9; i++) await h.call('GET', '/api/v1/audit', { headers: bad() });
    assert.equal((await h.call('GET', '/api/v1/audit', { token: h.tokens.viewer.secret })).status, 200);
  });

  it('failed console logins count toward the same limit, and each one is audited', async () => {
    h = await startHarness({ failedMax: 4 });
    for (let i = 0; i < 2; i++) {
      const answer = await h.call('POST', '/api/v1/session', { body: { token: newToken() } });
      assert.equal(answer.status, 401);
      assert.equal(answer.headers.get('set-cookie'), null, 'no cookie for a failed login');
    }
    for (let i = 0; i < 2; i++) await h.call('GET', '/api/v1/health', { headers: bad() });
    assert.equal((await h.call('POST', '/api/v1/session', { body: { token: h.tokens.admin.secret } })).status, 429);
    const audit = await h.store.auditLog({ target: 'console' });
    assert.deepEqual(audit.map((a) => [a.action, a.actor, a.reason]), [
      ['login-failed', 'client:127.0.0.1', 'invalid or revoked token'],
      ['login-failed', 'client:127.0.0.1', 'invalid or revoked token'],
    ]);
  });

  it('behind a trusted proxy, locks the forwarded client address and not the proxy', async () => {
    h = await startHarness({ failedMax: 3, api: { trustProxy: true } });
    const from = (ip: string, token?: string) => ({ headers: { 'x-forwarded-for': ip, ...(token ? { authorization: `Bearer ${token}` } : bad()) } });
    for (let i = 0; i < 3; i++) assert.equal((await h.call('GET', '/api/v1/health', from('198.51.100.9'))).status, 401);
    assert.equal((await h.call('GET', '/api/v1/health', from('198.51.100.9', h.tokens.viewer.secret))).status, 429);
    assert.equal((await h.call('GET', '/api/v1/health', from('198.51.100.10', h.tokens.viewer.secret))).status, 200, 'another client behind the proxy');
  });

  it('a body too large for a login is refused with 413 JSON before any token work', async () => {
    h = await startHarness({ failedMax: 1 });
    const answer = await h.call('POST', '/api/v1/session', { body: { token: 'x'.repeat(70 * 1024) } });
    assert.equal(answer.status, 413);
    assert.equal(answer.json.error, 'too-large');
    assert.equal((await h.call('GET', '/api/v1/health', { token: h.tokens.viewer.secret })).status, 200, 'a too-large body is not a failed attempt');
  });
});
