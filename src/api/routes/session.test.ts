import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { SESSION_COOKIE } from '../auth.js';
import { HOUR, T0, startHarness, type CallOptions, type Harness } from '../harness.test.js';

/** The console's session: an HttpOnly cookie, and a CSRF token every mutation must send back. */

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

interface Login {
  cookie: string;
  csrf: string;
  setCookie: string;
  body: Record<string, unknown>;
}

async function login(harness: Harness, secret: string): Promise<Login> {
  const answer = await harness.call('POST', '/api/v1/session', { body: { token: secret } });
  assert.equal(answer.status, 200, answer.text);
  const setCookie = answer.headers.get('set-cookie') ?? '';
  const id = new RegExp(`^${SESSION_COOKIE}=([^;]+)`).exec(setCookie)?.[1];
  assert.ok(id, `a session cookie: ${setCookie}`);
  return { cookie: `${SESSION_COOKIE}=${id}`, csrf: answer.json.csrf, setCookie, body: answer.json };
}

const withCookie = (session: Login, csrf?: string, call: CallOptions = {}): CallOptions => ({
  ...call, headers: { cookie: session.cookie, ...(csrf !== undefined ? { 'x-csrf-token': csrf } : {}), ...call.headers },
});

describe('console session', () => {
  it('login sets an HttpOnly SameSite=Strict cookie for the session lifetime, returns the CSRF token, and is audited', async () => {
    h = await startHarness();
    const s = await login(h, h.tokens.operator.secret);
    const attributes = s.setCookie.split(';').map((a) => a.trim());
    assert.ok(attributes.includes('HttpOnly'), s.setCookie);
    assert.ok(attributes.includes('SameSite=Strict'), s.setCookie);
    assert.ok(attributes.includes('Path=/'), s.setCookie);
    assert.ok(attributes.includes(`Max-Age=${12 * 3600}`), s.setCookie);
    assert.ok(!attributes.includes('Secure'), 'plain HTTP on loopback: a Secure cookie would never come back');
    assert.deepEqual(s.body, { name: 'operator', role: 'operator', csrf: s.csrf, expiresAt: T0 + 12 * HOUR });
    assert.match(s.csrf, /^[A-Za-z0-9_-]{32}$/);
    assert.equal(s.setCookie.includes(h.tokens.operator.secret), false, 'the cookie is not the token');
    const audit = await h.store.auditLog({ target: 'console' });
    assert.deepEqual(audit.map((a) => [a.actor, a.action, a.reason]), [['token:operator', 'login', 'console session from 127.0.0.1']]);
  });

  it('a GET with the cookie works without the CSRF header and says who is logged in', async () => {
    h = await startHarness();
    const s = await login(h, h.tokens.viewer.secret);
    const me = await h.call('GET', '/api/v1/session', withCookie(s));
    assert.equal(me.status, 200, me.text);
    assert.deepEqual(me.json, { name: 'viewer', role: 'viewer', via: 'session', csrf: s.csrf, expiresAt: T0 + 12 * HOUR });
    assert.equal((await h.call('GET', '/api/v1/decisions', withCookie(s))).status, 200);
  });

  it('a mutation with the cookie needs the right X-CSRF-Token: missing or wrong is 403 csrf and changes nothing', async () => {
    h = await startHarness();
    const s = await login(h, h.tokens.operator.secret);
    const ban = { body: { target: '203.0.113.50', duration: '1h', reason: 'from the console' } };
    for (const csrf of [undefined, '', 'wrong', `${s.csrf}x`, s.csrf.slice(1)]) {
      const answer = await h.call('POST', '/api/v1/decisions', withCookie(s, csrf, ban));
      assert.equal(answer.status, 403, `csrf ${csrf}: ${answer.text}`);
      assert.equal(answer.json.error, 'csrf');
    }
    assert.deepEqual(await h.store.listDecisions({}), []);
    const other = await login(h, h.tokens.admin.secret);
    assert.equal((await h.call('POST', '/api/v1/decisions', withCookie(s, other.csrf, ban))).json.error, 'csrf', "another session's CSRF token");
    const done = await h.call('POST', '/api/v1/decisions', withCookie(s, s.csrf, ban));
    assert.equal(done.status, 201, done.text);
    assert.equal(done.json.decision.actor, 'token:operator');
  });

  it('a viewer session with its CSRF token still may not ban', async () => {
    h = await startHarness();
    const s = await login(h, h.tokens.viewer.secret);
    const answer = await h.call('POST', '/api/v1/decisions', withCookie(s, s.csrf, { body: { target: '203.0.113.50', reason: 'x' } }));
    assert.equal(answer.status, 403);
    assert.equal(answer.json.error, 'forbidden');
  });

  it('logout needs the CSRF token, clears the cookie and ends the session', async () => {
    h = await startHarness();
    const s = await login(h, h.tokens.viewer.secret);
    assert.equal((await h.call('DELETE', '/api/v1/session', withCookie(s))).json.error, 'csrf', 'a cross-site page cannot log you out');
    const out = await h.call('DELETE', '/api/v1/session', withCookie(s, s.csrf));
    assert.equal(out.status, 200, out.text);
    assert.match(out.headers.get('set-cookie') ?? '', new RegExp(`^${SESSION_COOKIE}=; .*Max-Age=0`));
    const after = await h.call('GET', '/api/v1/session', withCookie(s));
    assert.equal(after.status, 401);
    assert.equal(after.json.error, 'unauthorized');
  });

  it('a session ends with its lifetime, and with its token (revoked in the store or through the API)', async () => {
    h = await startHarness();
    const s = await login(h, h.tokens.viewer.secret);
    h.clock.advance(12 * HOUR - 1);
    assert.equal((await h.call('GET', '/api/v1/session', withCookie(s))).status, 200);
    h.clock.advance(1);
    assert.equal((await h.call('GET', '/api/v1/session', withCookie(s))).status, 401, 'expired');

    const carol = await h.addToken('carol', 'operator');
    const byStore = await login(h, carol.secret);
    await h.store.revokeToken(carol.record.id, h.clock.now());
    assert.equal((await h.call('GET', '/api/v1/session', withCookie(byStore))).status, 401, 'revoked by the CLI');

    const dave = await h.addToken('dave', 'operator');
    const byApi = await login(h, dave.secret);
    const admin = await login(h, h.tokens.admin.secret);
    assert.equal((await h.call('DELETE', `/api/v1/tokens/${dave.record.id}`, withCookie(admin, admin.csrf))).status, 200);
    assert.equal((await h.call('GET', '/api/v1/session', withCookie(byApi))).status, 401, 'revoked through the API');
    const relogin = await h.call('POST', '/api/v1/session', { body: { token: dave.secret } });
    assert.equal(relogin.status, 401, 'a revoked token cannot log in again');
  });

  it('an unknown or malformed cookie is 401, not a session', async () => {
    h = await startHarness();
    for (const cookie of [`${SESSION_COOKIE}=forged`, `${SESSION_COOKIE}=`, 'other=1', `${SESSION_COOKIE}`, ';;=;']) {
      const answer = await h.call('GET', '/api/v1/decisions', { headers: { cookie } });
      assert.equal(answer.status, 401, cookie);
      assert.equal(answer.json.error, 'unauthorized');
    }
  });

  it('login validates its body: no token, a token that is not a string, an extra field', async () => {
    h = await startHarness();
    for (const [body, path] of [[{}, 'body.token'], [{ token: 7 }, 'body.token'], [{ token: 'x', remember: true }, 'body.remember'], [null, 'body']] as const) {
      const answer = await h.call('POST', '/api/v1/session', { body });
      assert.equal(answer.status, 400, `${JSON.stringify(body)}: ${answer.text}`);
      assert.equal(answer.json.path, path, JSON.stringify(body));
    }
  });
});
