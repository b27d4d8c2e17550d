import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { manualBan } from '../policy/manual.js';
import type { Role } from '../store/types.js';
import { startHarness, type Answer, type CallOptions, type Harness } from './harness.test.js';
import { allRoutes } from './server.js';

/** Bad bodies, queries and path parameters: always a 400 (or 413/415) JSON answer naming the path, never a 500. */

let h: Harness;
let banId: number;
before(async () => {
  h = await startHarness();
  banId = (await manualBan(h.store, { target: '203.0.113.1', durationMs: null, reason: 'x', actor: 't', now: h.clock.now() })).id;
});
after(() => h.close());

function call(method: string, path: string, role: Role, options: CallOptions = {}): Promise<Answer> {
  return h.call(method, path, { token: h.tokens[role].secret, ...options });
}

function assertBad(answer: Answer, path: string, what: string): void {
  assert.equal(answer.status, 400, `${what}: ${answer.text}`);
  assert.equal(answer.json?.error, 'bad-request', what);
  assert.equal(answer.json.path, path, `${what}: ${answer.json.message}`);
  assert.ok(answer.json.message.startsWith(`${path}`), `${what}: the message names the path: ${answer.json.message}`);
}

describe('bad bodies', () => {
  const ok = { target: '198.51.100.1', reason: 'test' };
  const banCases: [string, unknown, string][] = [
    ['empty object', {}, 'body.target'],
    ['no reason', { target: '198.51.100.1' }, 'body.reason'],
    ['empty reason', { ...ok, reason: '' }, 'body.reason'],
    ['blank reason', { ...ok, reason: '   ' }, 'body.reason'],
    ['reason too long', { ...ok, reason: 'r'.repeat(501) }, 'body.reason'],
    ['reason not a string', { ...ok, reason: ['a'] }, 'body.reason'],
    ['target not an address', { ...ok, target: 'pbx.example.com' }, 'body.target'],
    ['prefix too long', { ...ok, target: '10.0.0.0/33' }, 'body.target'],
    ['target a number', { ...ok, target: 3232235777 }, 'body.target'],
    ['target an attack', { ...ok, target: '1.2.3.4; nft flush ruleset' }, 'body.target'],
    ['duration words', { ...ok, duration: 'a while' }, 'body.duration'],
    ['duration a number', { ...ok, duration: 3600 }, 'body.duration'],
    ['unknown field', { ...ok, actor: 'root' }, 'body.actor'],
    ['JSON array', [ok], 'body'],
    ['JSON null', null, 'body'],
    ['JSON number', 1, 'body'],
    ['JSON string', 'ban 1.2.3.4', 'body'],
  ];
  for (const [what, body, path] of banCases) {
    it(`POST /api/v1/decisions, ${what} → 400 ${path}`, async () => assertBad(await call('POST', '/api/v1/decisions', 'operator', { body }), path, what));
  }

  it('stores nothing for any of them', async () => {
    assert.deepEqual((await h.store.listDecisions({})).map((d) => d.id), [banId]);
  });

  it('revoke, bulk unban and token bodies name their fields', async () => {
    assertBad(await call('POST', `/api/v1/decisions/${banId}/revoke`, 'operator', { body: {} }), 'body.reason', 'revoke without reason');
    assertBad(await call('POST', `/api/v1/decisions/${banId}/revoke`, 'operator', { body: { reason: 'x', force: true } }), 'body.force', 'revoke extra');
    assertBad(await call('POST', '/api/v1/unban', 'operator', { body: { reason: 'x' } }), 'body.target', 'unban of everything');
    assertBad(await call('POST', '/api/v1/unban', 'operator', { body: { target: '::g', reason: 'x' } }), 'body.target', 'unban bad target');
    assertBad(await call('POST', '/api/v1/unban', 'operator', { body: { rule: '', reason: 'x' } }), 'body.rule', 'unban empty rule');
    assertBad(await call('POST', '/api/v1/unban', 'operator', { body: { rule: 'scanner' } }), 'body.reason', 'unban without reason');
    assertBad(await call('POST', '/api/v1/tokens', 'admin', { body: { name: 'bad name', role: 'viewer' } }), 'body.name', 'token name');
    assertBad(await call('POST', '/api/v1/tokens', 'admin', { body: { name: '<b>x</b>', role: 'viewer' } }), 'body.name', 'token name html');
    assertBad(await call('POST', '/api/v1/tokens', 'admin', { body: { name: 'ok', role: 'root' } }), 'body.role', 'token role');
    assert.equal((await h.store.revokedSince(0)).length, 0);
  });

  it('a duplicate token name is 409 conflict on body.name', async () => {
    const answer = await call('POST', '/api/v1/tokens', 'admin', { body: { name: 'viewer', role: 'viewer' } });
    assert.equal(answer.status, 409, answer.text);
    assert.deepEqual([answer.json.error, answer.json.path], ['conflict', 'body.name']);
  });

  it('a body that is not JSON is a 4xx JSON answer', async () => {
    const cases: [string, CallOptions, number][] = [
      ['broken JSON', { rawBody: '{"target": "1.2.3.4", "reason":', contentType: 'application/json' }, 400],
      ['empty JSON body', { rawBody: '', contentType: 'application/json' }, 400],
      ['no body at all', {}, 400],
      // fastify reads text/plain as a string, which the schema then refuses.
      ['text/plain', { rawBody: 'target=1.2.3.4&reason=x', contentType: 'text/plain' }, 400],
      ['a form', { rawBody: 'target=1.2.3.4&reason=x', contentType: 'application/x-www-form-urlencoded' }, 415],
      ['prototype pollution', { rawBody: '{"target":"198.51.100.3","reason":"x","__proto__":{"admin":true}}', contentType: 'application/json' }, 400],
      ['deep nesting', { rawBody: `${'['.repeat(20_000)}${']'.repeat(20_000)}`, contentType: 'application/json' }, 400],
    ];
    for (const [what, options, status] of cases) {
      const answer = await call('POST', '/api/v1/decisions', 'operator', options);
      assert.equal(answer.status, status, `${what}: ${answer.text}`);
      assert.match(answer.headers.get('content-type') ?? '', /^application\/json/, what);
      assert.equal(answer.json.path, 'body', what);
    }
  });

  it('a 1 MB body is 413 JSON, not a 500', async () => {
    const answer = await call('POST', '/api/v1/decisions', 'operator', { body: { target: '198.51.100.1', reason: 'x'.repeat(1024 * 1024) } });
    assert.equal(answer.status, 413);
    assert.equal(answer.json.error, 'too-large');
  });

  it('hostile bodies on every route that takes one: never a 500', async () => {
    const hostile: unknown[] = [[], null, 0, true, 'x', {}, { constructor: { prototype: { admin: true } } }, { a: '\u0000\ud800' }, Array(1000).fill({})];
    const routes = allRoutes().filter((r) => r.body);
    assert.ok(routes.length >= 5);
    for (const route of routes) {
      const path = route.url.replace(':id', String(banId));
      for (const body of hostile) {
        const answer = await call(route.method, path, 'admin', { body });
        assert.equal(answer.status, 400, `${route.method} ${path} ${JSON.stringify(body).slice(0, 40)}: ${answer.text}`);
        assert.equal(typeof answer.json.path, 'string');
      }
    }
  });
});

describe('bad queries and path parameters', () => {
  const cases: [string, string, string][] = [
    ['GET', '/api/v1/decisions?limit=0', 'query.limit'],
    ['GET', '/api/v1/decisions?limit=1001', 'query.limit'],
    ['GET', '/api/v1/decisions?limit=ten', 'query.limit'],
    ['GET', '/api/v1/decisions?limit=1&limit=2', 'query.limit'],
    ['GET', '/api/v1/decisions?active=yes', 'query.active'],
    ['GET', '/api/v1/decisions?origin=bot', 'query.origin'],
    ['GET', '/api/v1/decisions?action=drop', 'query.action'],
    ['GET', '/api/v1/decisions?target=evil.example', 'query.target'],
    ['GET', '/api/v1/decisions?target=1.2.3.4&target=5.6.7.8', 'query.target'],
    ['GET', '/api/v1/decisions?since=yesterday', 'query.since'],
    ['GET', '/api/v1/decisions?before=-1', 'query.before'],
    ['GET', '/api/v1/decisions?sort=id', 'query.sort'],
    ['GET', '/api/v1/decisions/abc', 'params.id'],
    ['GET', '/api/v1/decisions/0', 'params.id'],
    ['GET', '/api/v1/decisions/99999999999999999999', 'params.id'],
    ['POST', '/api/v1/decisions/1.5/revoke', 'params.id'],
    ['DELETE', '/api/v1/tokens/x', 'params.id'],
    ['GET', '/api/v1/events?kind=bogus', 'query.kind'],
    ['GET', '/api/v1/events?kind=auth-failure&kind=bogus', 'query.kind'],
    ['GET', '/api/v1/events?ip=300.1.1.1', 'query.ip'],
    ['GET', '/api/v1/events?cidr=10.0.0.0/40', 'query.cidr'],
    ['GET', '/api/v1/events?limit=5000', 'query.limit'],
    ['GET', '/api/v1/events?until=%3Cscript%3E', 'query.until'],
    ['GET', '/api/v1/stats?since=forever', 'query.since'],
    ['GET', '/api/v1/stats?bucket=0x10', 'query.bucket'],
    ['GET', '/api/v1/incidents?limit=0', 'query.limit'],
    ['GET', '/api/v1/audit?limit=x', 'query.limit'],
    ['GET', `/api/v1/audit?target=${'a'.repeat(129)}`, 'query.target'],
    ['GET', `/api/v1/explain/${'a'.repeat(129)}`, 'params.target'],
    ['GET', `/api/v1/explain/${'a'.repeat(5000)}`, 'params'],
    ['GET', '/api/v1/explain/%E0%A4%A', 'params'],
    ['GET', '/api/v1/decisions/%zz', 'params'],
    ['GET', '/api/v1/health?verbose=1', 'query.verbose'],
    ['GET', '/api/v1/tokens?all=1', 'query.all'],
    ['GET', '/api/v1/openapi.json?x=1', 'query.x'],
    ['GET', '/api/v1/stream?since=1', 'query.since'],
  ];
  for (const [method, url, path] of cases) {
    it(`${method} ${url.slice(0, 70)} → 400 ${path}`, async () => {
      const body = method === 'POST' ? { body: { reason: 'x' } } : {};
      assertBad(await call(method, url, 'admin', body), path, url);
    });
  }

  it('good queries with repeated kinds and durations pass', async () => {
    const answer = await call('GET', '/api/v1/events?kind=auth-failure&kind=scanner&since=1h&until=1700000000000&limit=5', 'viewer');
    assert.equal(answer.status, 200, answer.text);
  });
});
