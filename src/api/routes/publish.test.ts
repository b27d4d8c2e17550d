import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { configSchema } from '../../config/schema.js';
import { ManualClock } from '../../core/clock.js';
import { createLogger } from '../../core/logger.js';
import { openSqliteStore } from '../../store/sqlite/index.js';
import { startApiServer } from '../server.js';
import { sampleDecision } from '../../store/contract.js';
import type { Decision, NewDecision } from '../../store/types.js';
import { HOUR, MINUTE, T0, healthReport, request, startHarness, type Harness } from '../harness.test.js';

const PARTNERS = 'partners-key-0123456789';
const HONEYPOT = 'honeypot-key-0123456789';

const publish = {
  allow: ['127.0.0.0/8', '10.0.0.0/8'], trunks: ['192.0.2.64/29'],
  publish: {
    keys: [
      { key: PARTNERS, name: 'partners', evidence: 'verified', minHits: 3 },
      { key: HONEYPOT, name: 'honeypot-only', rules: ['honeypot'], evidence: 'any' },
    ],
  },
};

async function ban(h: Harness, over: Partial<NewDecision>): Promise<Decision> {
  return h.store.addDecision(sampleDecision({ at: T0, expiresAt: T0 + HOUR, eventCount: 5, evidence: 'verified', ...over }));
}

describe('API publish: APIBAN v1 and v2 shapes', () => {
  let h: Harness;
  const made: Record<string, Decision> = {};
  before(async () => {
    h = await startHarness({ config: publish });
    made.good = await ban(h, { target: '203.0.113.7' });
    made.prefix = await ban(h, { target: '2001:db8:77::/64' });
    made.spoofable = await ban(h, { target: '203.0.113.8', evidence: 'spoofable' });
    made.fewHits = await ban(h, { target: '203.0.113.9', eventCount: 2 });
    made.honeypot = await ban(h, { target: '198.51.100.5', rule: 'honeypot', eventCount: 1, evidence: 'spoofable' });
    made.manual = await ban(h, { target: '198.51.100.6', origin: 'manual', rule: undefined, actor: 'root' });
    made.feed = await ban(h, { target: '198.51.100.7', origin: 'feed' });
    made.dryRun = await ban(h, { target: '198.51.100.8', dryRun: true });
    made.allowed = await ban(h, { target: '10.9.9.9' });
    made.trunk = await ban(h, { target: '192.0.2.66' });
    made.knownGood = await ban(h, { target: '198.51.100.10' });
    await h.store.rememberSuccess('198.51.100.10', '1001', T0);
    made.revoked = await ban(h, { target: '198.51.100.11' });
    await h.store.revokeDecision(made.revoked.id, 'root', 'customer', T0 + 1);
    made.old = await ban(h, { target: '198.51.100.12', expiresAt: T0 - 8 * 24 * HOUR });
    made.recent = await ban(h, { target: '198.51.100.13', expiresAt: T0 - 6 * 24 * HOUR });
  });
  after(() => h.close());

  it('GET /api/{key}/banned and /banned/100: the published bans and the ID to ask with next', async () => {
    for (const path of [`/api/${PARTNERS}/banned`, `/api/${PARTNERS}/banned/100`, `/api/${PARTNERS}/banned/0`]) {
      const answer = await h.call('GET', path);
      assert.equal(answer.status, 200, path);
      assert.match(answer.headers.get('content-type') ?? '', /application\/json/);
      assert.deepEqual(answer.json, { ipaddress: ['203.0.113.7', '2001:db8:77::/64', '198.51.100.13'], ID: String(made.recent!.id) }, path);
    }
    const end = await h.call('GET', `/api/${PARTNERS}/banned/${made.recent!.id}`);
    assert.equal(end.status, 400);
    assert.deepEqual(end.json, { ipaddress: ['no new bans'], ID: 'none' });
    const honeypot = await h.call('GET', `/api/${HONEYPOT}/banned`);
    assert.deepEqual(honeypot.json, { ipaddress: ['198.51.100.5'], ID: String(made.recent!.id) }, 'ID: the last decision examined, not the last one listed');
    const bad = await h.call('GET', `/api/${PARTNERS}/banned/abc`);
    assert.equal(bad.status, 400);
    assert.equal(bad.json.ID, 'none');
  });

  it('GET /api/{key}/check/{ip}: 200 with the decision id when a published ban covers it, else 404 not blocked', async () => {
    const listed = await h.call('GET', `/api/${PARTNERS}/check/203.0.113.7`);
    assert.equal(listed.status, 200);
    assert.deepEqual(listed.json, { ipaddress: ['203.0.113.7'], ID: String(made.good!.id) });
    const inPrefix = await h.call('GET', `/api/${PARTNERS}/check/${encodeURIComponent('2001:db8:77::abcd')}`);
    assert.deepEqual(inPrefix.json, { ipaddress: ['2001:db8:77::abcd'], ID: String(made.prefix!.id) });
    for (const ip of ['203.0.113.8', '203.0.113.9', '198.51.100.6', '198.51.100.7', '198.51.100.8', '10.9.9.9', '192.0.2.66', '198.51.100.10', '198.51.100.11', '198.51.100.12', '203.0.113.200']) {
      const answer = await h.call('GET', `/api/${PARTNERS}/check/${ip}`);
      assert.equal(answer.status, 404, ip);
      assert.deepEqual(answer.json, { ipaddress: ['not blocked'], ID: 'none' }, ip);
    }
    assert.equal((await h.call('GET', `/api/${PARTNERS}/check/not-an-ip`)).status, 400);
  });

  it('POST /api/get and /api/check (v2, bearer key): the same answers; set http is empty', async () => {
    const page = await h.call('POST', '/api/get', { token: PARTNERS, body: { set: 'sip', id: '100' } });
    assert.equal(page.status, 200);
    assert.deepEqual(page.json, { ipaddress: ['203.0.113.7', '2001:db8:77::/64', '198.51.100.13'], ID: String(made.recent!.id) });
    assert.deepEqual((await h.call('POST', '/api/get', { token: PARTNERS, body: { set: 'all', id: 100 } })).json.ipaddress.length, 3, 'a numeric id too');
    assert.deepEqual((await h.call('POST', '/api/get', { token: PARTNERS, body: { id: '0' } })).json.ipaddress.length, 3, 'set defaults to sip');
    for (const bad of [{}, { set: 'sip' }, { set: 'sip', id: '100', extra: 1 }]) {
      assert.equal((await h.call('POST', '/api/get', { token: PARTNERS, body: bad })).status, 400, JSON.stringify(bad));
    }
    const end = await h.call('POST', '/api/get', { token: PARTNERS, body: { set: 'sip', id: page.json.ID } });
    assert.deepEqual([end.status, end.json], [400, { ipaddress: ['no new bans'], ID: 'none' }]);
    const http = await h.call('POST', '/api/get', { token: PARTNERS, body: { set: 'http', id: '100' } });
    assert.deepEqual([http.status, http.json], [400, { ipaddress: ['no new bans'], ID: 'none' }]);
    assert.equal((await h.call('POST', '/api/get', { token: PARTNERS, body: { set: 'smtp', id: '100' } })).status, 400);
    const check = await h.call('POST', '/api/check', { token: PARTNERS, body: { set: 'sip', ipaddress: '203.0.113.7' } });
    assert.deepEqual([check.status, check.json], [200, { ipaddress: ['203.0.113.7'], ID: String(made.good!.id) }]);
    const clean = await h.call('POST', '/api/check', { token: PARTNERS, body: { set: 'sip', ipaddress: '203.0.113.8' } });
    assert.deepEqual([clean.status, clean.json], [404, { ipaddress: ['not blocked'], ID: 'none' }]);
  });

  it('GET /ipset/{key}/list: one address or prefix per line, text/plain', async () => {
    const answer = await h.call('GET', `/ipset/${PARTNERS}/list`);
    assert.equal(answer.status, 200);
    assert.match(answer.headers.get('content-type') ?? '', /^text\/plain/);
    assert.equal(answer.text, '203.0.113.7\n2001:db8:77::/64\n198.51.100.13\n');
    assert.equal((await h.call('GET', `/ipset/${HONEYPOT}/list`)).text, '198.51.100.5\n');
  });

  it('the 7-day window moves with the clock', async () => {
    h.clock.set(T0 + 2 * 24 * HOUR);
    try {
      const answer = await h.call('GET', `/ipset/${PARTNERS}/list`);
      assert.equal(answer.text, '203.0.113.7\n2001:db8:77::/64\n', 'the ban that ended 8 days ago is gone');
    } finally {
      h.clock.set(T0);
    }
  });

  it('a wrong key is 403 unauthorized on every endpoint', async () => {
    const wrong = 'wrong-key-0123456789';
    for (const [method, path, body] of [
      ['GET', `/api/${wrong}/banned`], ['GET', `/api/${wrong}/banned/100`], ['GET', `/api/${wrong}/check/203.0.113.7`],
      ['POST', '/api/get', { set: 'sip', id: '100' }], ['POST', '/api/check', { set: 'sip', ipaddress: '203.0.113.7' }],
      ['GET', `/ipset/${wrong}/list`],
    ] as const) {
      const answer = await h.call(method, path, { ...(method === 'POST' ? { token: wrong, body } : {}) });
      assert.equal(answer.status, 403, `${method} ${path}`);
      assert.deepEqual(answer.json, { ipaddress: 'none', ID: 'unauthorized' });
    }
    const noBearer = await h.call('POST', '/api/get', { body: { set: 'sip', id: '100' } });
    assert.equal(noBearer.status, 403);
  });

  it('does not shadow /api/v1: token routes still need a token, and /api/v1/banned is no publish key "v1"', async () => {
    assert.equal((await h.call('GET', '/api/v1/decisions')).status, 401);
    assert.equal((await h.call('GET', '/api/v1/decisions', { token: h.tokens.viewer.secret })).status, 200);
    for (const path of ['/api/v1/banned', '/api/v1/banned/100', '/api/v1/check/203.0.113.7']) {
      const answer = await h.call('GET', path);
      assert.equal(answer.status, 404, path);
      assert.equal(answer.json.error, 'not-found', path);
    }
  });

  it('the routes are in the OpenAPI document without a token', async () => {
    const doc = (await h.call('GET', '/api/v1/openapi.json', { token: h.tokens.viewer.secret })).json;
    for (const [path, method] of [['/api/{key}/banned/{id}', 'get'], ['/api/{key}/check/{ip}', 'get'], ['/api/get', 'post'], ['/ipset/{key}/list', 'get']]) {
      assert.deepEqual(doc.paths[path!]?.[method!]?.security, [], `${method} ${path}`);
    }
  });
});

describe('API publish: failed keys and lockout', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ config: publish, failedMax: 3 });
    await ban(h, { target: '203.0.113.7' });
  });
  after(() => h.close());

  it('wrong keys count in the API failure limiter: past the limit even the right key gets 429 until the window ends', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await h.call('GET', `/api/guess-${i}-0123456789abcdef/banned/100`)).status, 403);
    const locked = await h.call('GET', `/api/${PARTNERS}/banned/100`);
    assert.equal(locked.status, 429);
    assert.deepEqual(locked.json, { ipaddress: 'rate limit exceeded', ID: 'unauthorized' });
    assert.ok(Number(locked.headers.get('retry-after')) > 0);
    assert.equal((await h.call('POST', '/api/get', { token: PARTNERS, body: { id: '100' } })).status, 429);
    assert.equal((await h.call('GET', '/api/v1/decisions', { token: h.tokens.viewer.secret })).status, 429, 'one limiter for tokens and keys');
    h.clock.advance(MINUTE);
    const open = await h.call('GET', `/api/${PARTNERS}/banned/100`);
    assert.deepEqual([open.status, open.json.ipaddress], [200, ['203.0.113.7']]);
  });
});

describe('API publish: keys stay out of the log', () => {
  it('a wrong key is logged with the client address only; a right one not at all', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sw-publish-log-'));
    const lines: string[] = [];
    const stream = new PassThrough();
    stream.on('data', (chunk: Buffer) => lines.push(chunk.toString('utf8')));
    const config = configSchema.parse({
      node: 'pub', store: { sqlite: join(dir, 'sw.db') }, enforce: { backend: 'dry-run' }, ...publish,
      api: { listen: '127.0.0.1:0' },
    });
    const store = openSqliteStore(join(dir, 'sw.db'));
    const server = await startApiServer({ config, store, clock: new ManualClock(T0), logger: createLogger('trace', 'pub', stream), health: () => healthReport() });
    try {
      const url = `http://127.0.0.1:${server.address.port}`;
      const guess = 'guessed-key-0123456789';
      assert.equal((await request(url, 'GET', `/api/${guess}/banned/100`)).status, 403);
      assert.equal((await request(url, 'POST', '/api/get', { token: guess, body: { id: '100' } })).status, 403);
      assert.equal((await request(url, 'GET', `/api/${PARTNERS}/banned/100`)).status, 400);
      assert.equal((await request(url, 'GET', `/ipset/${HONEYPOT}/list`)).status, 200);
      await new Promise((resolve) => setImmediate(resolve));
      const log = lines.join('');
      assert.equal((log.match(/publish feed request with an unknown key/g) ?? []).length, 2, log);
      for (const secret of [guess, PARTNERS, HONEYPOT]) assert.ok(!log.includes(secret), `${secret} is not in the log`);
    } finally {
      await server.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
