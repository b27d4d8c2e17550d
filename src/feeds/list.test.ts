import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { isSipwardenError } from '../core/errors.js';
import { parseList, readListFeed } from './list.js';
import { closedPort } from './testing/ports.js';

const VOIPBL_SAMPLE = [
  '# VoIPBL update',
  '# generated 2026-11-21',
  '',
  '1.2.3.4',
  '5.6.7.0/24',
  '10.20.30.40/32   # a /32 is one address',
  '2001:DB8::/32',
  '  2001:db8:0:0:0:0:0:7  ',
  '5.6.7.8/24',
  'bogus line',
  '300.1.1.1',
  '1.2.3.4',
  '0.0.0.0/0',
  '1.2.3.4 5.6.7.8',
  '\t# indented comment',
  '198.51.100.1\r',
].join('\n');

describe('plain list parsing (VoIPBL format)', () => {
  it('reads addresses and prefixes in canonical form, skips comments and blanks, drops duplicates', () => {
    const list = parseList(VOIPBL_SAMPLE);
    assert.deepEqual(list.entries, ['1.2.3.4', '5.6.7.0/24', '10.20.30.40', '2001:db8::/32', '2001:db8::7', '198.51.100.1']);
  });

  it('counts bad lines and reports the first ones with their line numbers', () => {
    const list = parseList(VOIPBL_SAMPLE);
    assert.equal(list.bad, 4);
    assert.deepEqual(list.badLines, [
      { line: 10, text: 'bogus line', problem: 'not an address or prefix' },
      { line: 11, text: '300.1.1.1', problem: 'not an address or prefix' },
      { line: 13, text: '0.0.0.0/0', problem: 'prefix wider than /8' },
      { line: 14, text: '1.2.3.4 5.6.7.8', problem: 'not an address or prefix' },
    ]);
  });

  it('reports at most five bad lines however many there are', () => {
    const list = parseList(Array.from({ length: 50 }, (_, i) => `junk${i}`).join('\n'));
    assert.equal(list.bad, 50);
    assert.equal(list.badLines.length, 5);
    assert.equal(list.badLines[4]?.line, 5);
  });
});

describe('reading list feeds', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sw-feed-list-'));

  async function serve(status: number, body: string): Promise<string> {
    const server = createServer((_req, res) => {
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    after(() => new Promise<void>((resolve) => server.close(() => resolve())));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/secret-token-path/list`;
  }

  it('from a file and from a URL', async () => {
    const path = join(dir, 'list.txt');
    writeFileSync(path, VOIPBL_SAMPLE);
    assert.equal((await readListFeed({ id: 'own', path })).entries.length, 6);
    assert.equal((await readListFeed({ id: 'voipbl', url: await serve(200, VOIPBL_SAMPLE) })).entries.length, 6);
  });

  it('refuses a body over the size limit, a non-200 answer and a missing file, naming the feed but not the URL path', async () => {
    const big = await serve(200, '1.2.3.4\n'.repeat(1000));
    const gone = await serve(404, 'nope');
    const cases: [() => Promise<unknown>, RegExp][] = [
      [() => readListFeed({ id: 'big', url: big }, { maxBytes: 1000 }), /feed big .*limit of 1000/],
      [() => readListFeed({ id: 'gone', url: gone }), /feed gone .*HTTP 404/],
      [() => readListFeed({ id: 'file', path: join(dir, 'missing.txt') }), /feed file: cannot read .*ENOENT/],
      [async () => readListFeed({ id: 'down', url: `http://127.0.0.1:${await closedPort()}/secret-token-path/list` }), /feed down .*ECONNREFUSED/],
    ];
    for (const [attempt, message] of cases) {
      await assert.rejects(attempt(), (error: unknown) => {
        assert.ok(isSipwardenError(error, 'SW_ERR_FEED'));
        assert.match(error.message, message);
        assert.doesNotMatch(error.message, /secret-token-path/);
        return true;
      });
    }
  });
});
