import assert from 'node:assert/strict';
import { request, Agent } from 'node:http';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { parseConfigText } from '../config/load.js';
import { createLogger } from '../core/logger.js';
import { startAuthorizeServer, type AuthorizeServer, type AuthorizeServerOptions } from './authorize-server.js';
import { FraudMonitor } from './monitor.js';

const TOKEN = 'test-token-0123456789abcdef';
const NIGHT = Date.UTC(2026, 10, 19, 2, 0, 0);

function monitor(mode: 'monitor' | 'enforce'): FraudMonitor {
  const config = parseConfigText(`fraud: { homeCountry: GB, allowedCountries: [IE], actions: { mode: ${mode} } }`, 't.yaml', {});
  return new FraudMonitor(config.fraud!, 'UTC');
}

/** Every log line the server writes, to check what it says and that the token is never in it. */
function capture(): { logger: AuthorizeServerOptions['logger']; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({ write: (chunk: Buffer, _enc, done) => (lines.push(chunk.toString()), done()) });
  return { logger: createLogger('info', 'test', sink), lines };
}

async function start(overrides: Partial<AuthorizeServerOptions> & { mode?: 'monitor' | 'enforce' } = {}): Promise<AuthorizeServer> {
  const fraud = monitor(overrides.mode ?? 'enforce');
  return startAuthorizeServer({
    listen: '127.0.0.1:0', token: TOKEN, failMode: 'open', maxLagMs: 20, logger: capture().logger,
    decide: (query) => fraud.authorize(query, NIGHT), lag: () => 0, ...overrides,
  });
}

interface Reply { status: number; body: string; json: () => Record<string, unknown>; headers: Record<string, unknown> }

function get(server: AuthorizeServer, path: string, headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` }, agent?: Agent): Promise<Reply & { socket: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.address.port, path, headers, ...(agent ? { agent } : {}) }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, json: () => JSON.parse(body), headers: res.headers, socket: req.socket }));
    });
    req.on('error', reject);
    req.end();
  });
}

const q = (params: Record<string, string>): string => `/v1/authorize?${new URLSearchParams(params).toString()}`;

describe('call-authorisation endpoint', () => {
  let server: AuthorizeServer;
  before(async () => {
    server = await start();
  });
  after(async () => {
    await server.close();
  });

  it('requires the bearer token, and answers 401 without it or with a wrong one', async () => {
    const path = q({ account: '1001', destination: '02079460000' });
    const none = await get(server, path, {});
    assert.equal(none.status, 401);
    assert.equal(none.headers['www-authenticate'], 'Bearer');
    assert.equal((await get(server, path, { authorization: `Bearer ${TOKEN}x` })).status, 401);
    assert.equal((await get(server, path, { authorization: TOKEN })).status, 401, 'the scheme is part of it');
    assert.equal(server.counters.unauthorized, 3);
  });

  it('answers health without a token', async () => {
    const health = await get(server, '/health', {});
    assert.equal(health.status, 200);
    assert.deepEqual(health.json(), { status: 'ok', overloaded: false });
  });

  it('allows a domestic call and says why', async () => {
    const reply = await get(server, q({ account: '1001', destination: '02079460000', ip: '192.0.2.10' }));
    assert.equal(reply.status, 200);
    assert.deepEqual(reply.json(), { decision: 'allow', reason: 'domestic', tier: 'T1', e164: '+442079460000' });
  });

  it('denies a high-risk destination in enforce mode', async () => {
    const reply = await get(server, q({ account: '1001', destination: '00882161234567' }));
    assert.equal(reply.status, 200);
    const body = reply.json();
    assert.equal(body.decision, 'deny');
    assert.match(String(body.reason), /high-risk destination \(non-geographic\)/);
    assert.equal(body.tier, 'T4');
  });

  it('format=text is one line: ALLOW, or DENY and the reason', async () => {
    const allow = await get(server, q({ format: 'text', account: '1001', destination: '02079460000' }));
    assert.equal(allow.body, 'ALLOW');
    assert.match(String(allow.headers['content-type']), /^text\/plain/);
    const deny = await get(server, q({ format: 'text', account: '1001', destination: '00882161234567' }));
    assert.match(deny.body, /^DENY high-risk destination \(non-geographic\)[^\n]*$/);
    assert.equal((await get(server, q({ format: 'text', account: '1001' }), {})).body, 'ERROR a valid bearer token is required');
  });

  it('rejects bad input with 400 and a message that says what is wrong', async () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ destination: '02079460000' }, /account is required/],
      [{ account: '1001' }, /destination is required/],
      [{ account: 'a'.repeat(129), destination: '1' }, /account must be 1 to 128/],
      [{ account: '1001', destination: '1'.repeat(65) }, /destination must be 1 to 64/],
      [{ account: '10\n01', destination: '1' }, /printable/],
      [{ account: '1001', destination: '02079460000', ip: 'evil.example' }, /ip must be an IPv4 or IPv6 address/],
      [{ account: '1001', destination: '02079460000', format: 'xml' }, /format must be/],
    ];
    for (const [params, message] of cases) {
      const reply = await get(server, q(params));
      assert.equal(reply.status, 400, JSON.stringify(params));
      assert.match(String(reply.json().error), message);
    }
    const text = await get(server, q({ format: 'text', account: '1001' }));
    assert.equal(text.status, 400);
    assert.match(text.body, /^ERROR destination is required/);
    assert.equal((await get(server, `/v1/authorize?account=1&destination=${'1'.repeat(3000)}`)).status, 414);
    assert.equal((await get(server, '/v1/nothing')).status, 404);
  });

  it('takes an address with a port, as PBXs print the peer, and an empty ip as none', async () => {
    for (const ip of ['203.0.113.5:5060', '[2001:db8::5]:5060', '2001:db8::5', '']) {
      assert.equal((await get(server, q({ account: '1001', destination: '02079460000', ip }))).status, 200, ip);
    }
  });

  it('keeps the connection alive between questions', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const first = await get(server, q({ account: '1001', destination: '02079460000' }), undefined, agent);
      const second = await get(server, q({ account: '1001', destination: '0035312345678' }), undefined, agent);
      assert.equal(second.json().reason, 'allowed country');
      assert.equal(first.socket, second.socket, 'the same socket answered both');
    } finally {
      agent.destroy();
    }
  });
});

describe('call-authorisation endpoint: modes and failures', () => {
  it('monitor-only: allow, marked monitorOnly, with what it would have been', async () => {
    const server = await start({ mode: 'monitor' });
    try {
      const body = (await get(server, q({ account: '1001', destination: '00882161234567' }))).json();
      assert.equal(body.decision, 'allow');
      assert.equal(body.monitorOnly, true);
      assert.match(String(body.reason), /^monitor-only, would deny: high-risk destination/);
      assert.equal((await get(server, q({ format: 'text', account: '1001', destination: '00882161234567' }))).body, 'ALLOW');
    } finally {
      await server.close();
    }
  });

  for (const failMode of ['open', 'closed'] as const) {
    it(`overloaded (event-loop lag past maxLag): answers at once, failing ${failMode}, and counts it`, async () => {
      let asked = 0;
      const server = await start({ failMode, lag: () => 50, decide: () => (asked++, { allow: true, reason: 'domestic' }) });
      try {
        const body = (await get(server, q({ account: '1001', destination: '02079460000' }))).json();
        assert.deepEqual(body, { decision: failMode === 'open' ? 'allow' : 'deny', reason: `overloaded, failing ${failMode}`, overloaded: true });
        const text = (await get(server, q({ format: 'text', account: '1001', destination: '02079460000' }))).body;
        assert.equal(text, failMode === 'open' ? 'ALLOW' : 'DENY overloaded, failing closed');
        assert.equal(asked, 0, 'the decision was not asked');
        assert.equal(server.counters.overloaded, 2);
        assert.deepEqual((await get(server, '/health', {})).json(), { status: 'ok', overloaded: true });
      } finally {
        await server.close();
      }
    });
  }

  it('a fault in the decision answers per failMode with a 200, logged once, and never the token', async () => {
    const { logger, lines } = capture();
    const server = await start({ failMode: 'closed', logger, decide: () => { throw new Error('boom'); } });
    try {
      for (let i = 0; i < 3; i++) {
        const reply = await get(server, q({ account: '1001', destination: '02079460000' }));
        assert.equal(reply.status, 200);
        assert.deepEqual(reply.json(), { decision: 'deny', reason: 'internal error, failing closed' });
      }
      await get(server, q({ account: '1001', destination: '02079460000' }), { authorization: 'Bearer wrong-token-0123456789' });
      assert.equal(server.counters.faults, 3);
      await new Promise((resolve) => setImmediate(resolve));
      const faults = lines.filter((l) => l.includes('call authorisation failed'));
      assert.equal(faults.length, 1, 'rate-limited to one line');
      assert.match(faults[0]!, /boom/);
      assert.ok(lines.every((l) => !l.includes(TOKEN) && !l.includes('wrong-token')), 'no token in the logs');
    } finally {
      await server.close();
    }
  });

  it('the in-flight cap counts as overload', async () => {
    const server = await start({ failMode: 'closed', maxInFlight: 0 });
    try {
      assert.equal((await get(server, q({ account: '1001', destination: '02079460000' }))).json().reason, 'overloaded, failing closed');
    } finally {
      await server.close();
    }
  });

  it('a bind error names the address', async () => {
    const first = await start();
    try {
      await assert.rejects(start({ listen: `127.0.0.1:${first.address.port}` }), (error: Error) => {
        assert.match(error.message, new RegExp(`fraud\\.authorize\\.listen 127\\.0\\.0\\.1:${first.address.port}: .*in use`));
        return true;
      });
    } finally {
      await first.close();
    }
  });
});
