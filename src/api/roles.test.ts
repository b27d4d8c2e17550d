import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Metrics } from '../metrics/index.js';
import { manualBan } from '../policy/manual.js';
import { ROLES, type Role } from '../store/types.js';
import { newToken } from './auth.js';
import { startHarness, type Answer, type Harness } from './harness.test.js';
import { allRoutes } from './server.js';

/**
 * Every route in the server's table, against every kind of caller: nobody, a malformed or unknown or revoked
 * token, each role. A route added to the table without a case here fails the first test.
 */

interface Case {
  /** A request the right role makes, prepared afresh each time (a revoke needs a ban in force). */
  prepare(h: Harness): Promise<{ path: string; body?: unknown }>;
  /** How a success looks, beyond its status. */
  check?(answer: Answer): void;
}

let seq = 0;
const ban = async (h: Harness, target = '198.51.100.1') =>
  manualBan(h.store, { target, durationMs: 3_600_000, reason: 'matrix', actor: 'token:test', now: h.clock.now() });
const fixed = (path: string, body?: unknown): Case['prepare'] => async () => ({ path, ...(body !== undefined ? { body } : {}) });

const CASES: Record<string, Case> = {
  'GET /healthz': { prepare: fixed('/healthz'), check: (a) => assert.deepEqual(a.json, { status: 'ok', node: 'apitest' }) },
  'GET /metrics': { prepare: fixed('/metrics'), check: (a) => assert.match(a.text, /^# HELP sipwarden_/m) },
  'POST /api/v1/session': { prepare: async (h) => ({ path: '/api/v1/session', body: { token: h.tokens.viewer.secret } }), check: (a) => assert.equal(typeof a.json.csrf, 'string') },
  'GET /api/v1/session': { prepare: fixed('/api/v1/session'), check: (a) => assert.equal(a.json.via, 'bearer') },
  'DELETE /api/v1/session': { prepare: fixed('/api/v1/session'), check: (a) => assert.deepEqual(a.json, { ok: true }) },
  'GET /api/v1/health': { prepare: fixed('/api/v1/health'), check: (a) => assert.equal(a.json.enforcer.name, 'dry-run') },
  'GET /api/v1/decisions': { prepare: fixed('/api/v1/decisions'), check: (a) => assert.ok(Array.isArray(a.json.decisions)) },
  'GET /api/v1/decisions/:id': {
    prepare: async (h) => ({ path: `/api/v1/decisions/${(await ban(h)).id}` }),
    check: (a) => assert.equal(a.json.decision.target, '198.51.100.1'),
  },
  'POST /api/v1/decisions': {
    prepare: fixed('/api/v1/decisions', { target: '198.51.100.2', duration: '1h', reason: 'matrix' }),
    check: (a) => assert.equal(a.json.decision.target, '198.51.100.2'),
  },
  'POST /api/v1/decisions/:id/revoke': {
    prepare: async (h) => ({ path: `/api/v1/decisions/${(await ban(h)).id}/revoke`, body: { reason: 'matrix' } }),
    check: (a) => assert.equal(a.json.decision.revokeReason, 'matrix'),
  },
  'POST /api/v1/unban': {
    prepare: async (h) => (await ban(h, '192.0.2.99'), { path: '/api/v1/unban', body: { target: '192.0.2.0/24', reason: 'matrix' } }),
    // Refused callers' preparations left bans too; the allowed caller lifts them all.
    check: (a) => assert.ok(a.json.revoked.length > 0 && a.json.revoked.every((d: { target: string }) => d.target === '192.0.2.99'), a.text),
  },
  'GET /api/v1/explain/:target': { prepare: fixed('/api/v1/explain/203.0.113.7'), check: (a) => assert.equal(a.json.kind, 'ip') },
  'GET /api/v1/events': { prepare: fixed('/api/v1/events'), check: (a) => assert.ok(Array.isArray(a.json.events)) },
  'GET /api/v1/stats': { prepare: fixed('/api/v1/stats'), check: (a) => assert.ok(Array.isArray(a.json.series)) },
  'GET /api/v1/incidents': { prepare: fixed('/api/v1/incidents'), check: (a) => assert.deepEqual(a.json, { incidents: [] }) },
  'GET /api/v1/audit': { prepare: fixed('/api/v1/audit'), check: (a) => assert.ok(Array.isArray(a.json.audit)) },
  'GET /api/v1/stream': { prepare: fixed('/api/v1/stream'), check: (a) => assert.match(a.headers.get('content-type') ?? '', /^text\/event-stream/) },
  'GET /api/v1/tokens': { prepare: fixed('/api/v1/tokens'), check: (a) => assert.ok(a.json.tokens.length >= 3) },
  'POST /api/v1/tokens': {
    prepare: async () => ({ path: '/api/v1/tokens', body: { name: `made-${++seq}`, role: 'viewer' } }),
    check: (a) => assert.match(a.json.token, /^swt_/),
  },
  'DELETE /api/v1/tokens/:id': {
    prepare: async (h) => ({ path: `/api/v1/tokens/${(await h.addToken(`doomed-${++seq}`, 'viewer')).record.id}` }),
    check: (a) => assert.equal(typeof a.json.token.revokedAt, 'number'),
  },
  'GET /api/v1/openapi.json': { prepare: fixed('/api/v1/openapi.json'), check: (a) => assert.equal(a.json.openapi, '3.1.0') },
};

/** The stream never ends by itself: read its head, then hang up. */
async function send(h: Harness, method: string, path: string, token: string | undefined, body?: unknown): Promise<Answer> {
  if (path !== '/api/v1/stream') return h.call(method, path, { ...(token !== undefined ? { token } : {}), ...(body !== undefined ? { body } : {}) });
  const abort = new AbortController();
  const response = await fetch(`${h.url}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {}, signal: abort.signal });
  const isJson = (response.headers.get('content-type') ?? '').includes('json');
  const text = isJson ? await response.text() : '';
  abort.abort();
  return { status: response.status, headers: response.headers, text, json: isJson ? JSON.parse(text) : undefined };
}

// The publish routes take an APIBAN key, not a token, and answer in APIBAN's shapes: routes/publish.test.ts covers them.
const routes = allRoutes().filter((r) => r.tag !== 'publish');
const key = (r: { method: string; url: string }) => `${r.method} ${r.url}`;

describe('API roles, every route', () => {
  let h: Harness;
  let revoked: string;
  before(async () => {
    h = await startHarness({ metrics: new Metrics({ version: 'test', sources: ['ast'], rules: [], clock: { now: () => 0 } }) });
    const gone = await h.addToken('gone', 'admin');
    await h.store.revokeToken(gone.record.id, h.clock.now());
    revoked = gone.secret;
  });
  after(() => h.close());

  it('has a case for every route in the table, and no case for a route that is gone', () => {
    assert.deepEqual(routes.map(key).filter((k) => !CASES[k]), [], 'routes without a case');
    assert.deepEqual(Object.keys(CASES).filter((k) => !routes.some((r) => key(r) === k)), [], 'cases without a route');
  });

  for (const route of routes) {
    const c = CASES[key(route)];
    if (!c) continue;
    it(`${key(route)}: needs ${route.role ?? 'no token'}`, async () => {
      const { path, body } = await c.prepare(h);
      if (route.role === null) {
        const answer = await send(h, route.method, path, undefined, body);
        assert.equal(answer.status, route.status ?? 200, answer.text);
        c.check?.(answer);
        return;
      }
      const refusals: [string, Record<string, string>][] = [
        ['no header', {}],
        ['empty', { authorization: '' }],
        ['Basic', { authorization: `Basic ${Buffer.from('admin:admin').toString('base64')}` }],
        ['Bearer alone', { authorization: 'Bearer' }],
        ['two words', { authorization: `Bearer ${h.tokens.admin.secret} extra` }],
        ['not a token', { authorization: 'Bearer admin' }],
        ['unknown token', { authorization: `Bearer ${newToken()}` }],
        ['revoked token', { authorization: `Bearer ${revoked}` }],
      ];
      for (const [what, headers] of refusals) {
        const answer = await h.call(route.method, path, { headers, ...(body !== undefined ? { body } : {}) });
        assert.equal(answer.status, 401, `${what}: ${answer.text}`);
        assert.equal(answer.json.error, 'unauthorized', what);
      }
      for (const role of ROLES) {
        const allowed = ROLES.indexOf(role) >= ROLES.indexOf(route.role as Role);
        const fresh = await c.prepare(h);
        const answer = await send(h, route.method, fresh.path, h.tokens[role].secret, fresh.body);
        if (!allowed) {
          assert.equal(answer.status, 403, `${role}: ${answer.text}`);
          assert.equal(answer.json.error, 'forbidden');
          assert.match(answer.json.message, new RegExp(`needs the ${route.role} role`));
          continue;
        }
        assert.equal(answer.status, route.status ?? 200, `${role}: ${answer.text}`);
        c.check?.(answer);
      }
    });
  }

  it('a refused mutation changes nothing: a viewer ban stores no decision and tells the daemon nothing', async () => {
    const changes = h.changes;
    const answer = await h.call('POST', '/api/v1/decisions', { token: h.tokens.viewer.secret, body: { target: '192.0.2.200', reason: 'no' } });
    assert.equal(answer.status, 403);
    assert.deepEqual(await h.store.listDecisions({ target: '192.0.2.200' }), []);
    assert.equal(h.changes, changes);
  });
});
