import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { ManualClock } from '../core/clock.js';
import { ApibanClient, syncApiban, type ApibanEndpoint } from './apiban.js';
import { ApibanReplayServer } from './testing/apiban-server.js';
import { closedPort } from './testing/ports.js';

const KEY = 'k3y-SECRET-0123456789';
const addresses = (n: number, base = 0): string[] => Array.from({ length: n }, (_, i) => `198.51.${(base + i) >> 8}.${(base + i) & 255}`);

const servers: ApibanReplayServer[] = [];
async function replay(options: Partial<ConstructorParameters<typeof ApibanReplayServer>[0]> = {}): Promise<ApibanReplayServer> {
  const server = await ApibanReplayServer.start({ key: KEY, ...options });
  servers.push(server);
  return server;
}
after(async () => {
  for (const server of servers) await server.close();
});

const endpoint = (server: ApibanReplayServer, version: 1 | 2, key = KEY): ApibanEndpoint => ({ version, url: server.url, key, set: 'sip' });

for (const version of [1, 2] as const) {
  describe(`APIBAN v${version} client against the replay server`, () => {
    it('pages of 250 by ID until "no new bans", and resumes from the cursor it returned', async () => {
      const server = await replay({ entries: addresses(600) });
      const client = new ApibanClient(endpoint(server, version));
      const first = await syncApiban(client, undefined, { maxPages: 10 });
      assert.equal(first.complete, true);
      assert.equal(first.pages, 3);
      assert.deepEqual(first.entries, addresses(600));
      assert.equal(first.cursor, String(1_700_000_000 + 599));
      server.add(...addresses(5, 600));
      const next = await syncApiban(client, first.cursor, { maxPages: 10 });
      assert.deepEqual(next.entries, addresses(5, 600));
      assert.equal(next.complete, true);
      if (version === 1) {
        assert.deepEqual(server.requests.slice(0, 4).map((r) => r.path), ['/api/{key}/banned', '/api/{key}/banned/1700000249', '/api/{key}/banned/1700000499', '/api/{key}/banned/1700000599']);
      } else {
        assert.deepEqual(server.requests.slice(0, 4).map((r) => (r.body as { id: string }).id), ['100', '1700000249', '1700000499', '1700000599']);
        assert.ok(server.requests.every((r) => r.method === 'POST' && r.path === '/api/get' && r.authorization === 'Bearer {key}'));
        assert.ok(server.requests.every((r) => (r.body as { set: string }).set === 'sip'));
      }
      assert.equal(server.requests[3]?.status, 400);
    });

    it('stops at the page limit and says the list is not complete', async () => {
      const server = await replay({ entries: addresses(600) });
      const sync = await syncApiban(new ApibanClient(endpoint(server, version)), undefined, { maxPages: 2 });
      assert.equal(sync.complete, false);
      assert.equal(sync.entries.length, 500);
      assert.equal(server.requests.length, 2);
    });

    it('a 429 with the documented string body is a rate-limit result; pages before it are kept', async () => {
      const server = await replay({ entries: addresses(600), rateLimit: { requests: 2, windowMs: 120_000, retryAfterSeconds: 90 }, clock: new ManualClock(0) });
      const sync = await syncApiban(new ApibanClient(endpoint(server, version)), undefined, { maxPages: 10 });
      assert.deepEqual(sync.failure, { kind: 'rate-limited', retryAfterMs: 90_000 });
      assert.equal(sync.entries.length, 500);
      assert.equal(sync.cursor, String(1_700_000_499));
      assert.equal(sync.complete, false);
    });

    it('a wrong key is unauthorized (403) and the key appears in no result', async () => {
      const server = await replay({ entries: addresses(3) });
      const page = await new ApibanClient(endpoint(server, version, 'wrong-key-123456')).fetchPage(undefined);
      assert.deepEqual(page, { kind: 'unauthorized' });
    });

    it('a 503 is an error naming the status, not the URL', async () => {
      const server = await replay({ entries: addresses(3) });
      server.fail(503, '<html>Service Unavailable</html>');
      const page = await new ApibanClient(endpoint(server, version)).fetchPage('1700000000');
      assert.equal(page.kind, 'error');
      assert.match((page as { message: string }).message, /HTTP 503/);
      assert.doesNotMatch(JSON.stringify(page), new RegExp(KEY));
    });

    it('drops and counts garbage, canonicalises addresses and prefixes, and reads a single address sent as a string', async () => {
      const server = await replay({ entries: ['203.0.113.9', 'not-an-ip', '2001:DB8:0:0::1', '999.1.1.1', '192.0.2.0/24', '0.0.0.0/0', '203.0.113.9', '::ffff:198.51.100.1'], pageSize: 7, singleAsString: true });
      const sync = await syncApiban(new ApibanClient(endpoint(server, version)), undefined, { maxPages: 10 });
      assert.deepEqual(sync.entries, ['203.0.113.9', '2001:db8::1', '192.0.2.0/24', '198.51.100.1']);
      assert.equal(sync.garbage, 3);
      assert.equal(sync.pages, 2);
      assert.equal(sync.complete, true);
    });
  });
}

describe('APIBAN client, documented and odd answers', () => {
  /** A server that answers every request with one fixed status, body and header set. */
  async function fixed(status: number, body: string, headers: Record<string, string> = {}): Promise<string> {
    const server = createServer((_req, res) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    after(() => new Promise<void>((resolve) => server.close(() => resolve())));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`;
  }
  const page = async (url: string, version: 1 | 2 = 1) => new ApibanClient({ version, url, key: KEY, set: 'all' }).fetchPage('42');

  it('an ID sent as a number, an end of list sent with 200, a 429 without Retry-After', async () => {
    assert.deepEqual(await page(await fixed(200, '{"ipaddress":["192.0.2.1"],"ID":1700000001}')), { kind: 'page', entries: ['192.0.2.1'], next: '1700000001', garbage: 0 });
    assert.deepEqual(await page(await fixed(200, '{"ipaddress":["no new bans"],"ID":"none"}')), { kind: 'end' });
    assert.deepEqual(await page(await fixed(429, '{"ipaddress":"rate limit exceeded","ID":"unauthorized"}')), { kind: 'rate-limited' });
  });

  it('a page without an ID, a 404, a body that is not JSON, and a server that echoes the key are errors without the key', async () => {
    for (const [status, body] of [[200, '{"ipaddress":["192.0.2.1"]}'], [404, '{"ipaddress":"ok","ID":"0"}'], [200, 'not json'], [400, `{"ipaddress":["bad key ${KEY}"],"ID":"none"}`]] as const) {
      const result = await page(await fixed(status, body), 1);
      assert.equal(result.kind, 'error', body);
      assert.doesNotMatch(JSON.stringify(result), /k3y-SECRET/);
    }
  });

  it('a refused connection and a hung server are errors, the latter within the timeout', async () => {
    const refused = await new ApibanClient({ version: 1, url: `http://127.0.0.1:${await closedPort()}/api`, key: KEY, set: 'sip' }).fetchPage(undefined);
    assert.deepEqual(refused, { kind: 'error', message: 'request failed: ECONNREFUSED' });
    assert.doesNotMatch(JSON.stringify(refused), /k3y-SECRET/);
    const hung = createServer(() => {});
    await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve));
    const started = performance.now();
    const timedOut = await new ApibanClient({ version: 2, url: `http://127.0.0.1:${(hung.address() as AddressInfo).port}/api`, key: KEY, set: 'sip' }, 200).fetchPage(undefined);
    hung.closeAllConnections();
    hung.close();
    assert.deepEqual(timedOut, { kind: 'error', message: 'request failed: timed out or aborted' });
    assert.ok(performance.now() - started < 5000);
  });

  it('a server that answers the cursor it was given with no entries ends the sync instead of looping', async () => {
    const url = await fixed(200, '{"ipaddress":[],"ID":"42"}');
    const sync = await syncApiban(new ApibanClient({ version: 1, url, key: KEY, set: 'sip' }), '42', { maxPages: 10 });
    assert.equal(sync.complete, true);
    assert.equal(sync.pages, 0);
  });
});
