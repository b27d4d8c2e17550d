import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ApibanReplayServer } from '../src/feeds/testing/apiban-server.js';
import { openSqliteStore } from '../src/store/sqlite/index.js';
import { CLI, cli, tempDir } from './helpers.js';

const KEY = 'cli-feed-key-5d1e0b77';

/** The CLI run without blocking this process: the replay server answering it lives here. */
function cliAsync(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

describe('sipwarden feeds status and sync', () => {
  const dir = tempDir('sw-feeds-cli-');
  const config = join(dir, 'sipwarden.yaml');
  const journal = join(dir, 'journal.ndjson');
  const db = join(dir, 'sw.db');
  let server: ApibanReplayServer;

  before(async () => {
    server = await ApibanReplayServer.start({ key: KEY, entries: ['198.51.100.1', '198.51.100.2', '203.0.113.7', 'garbage'] });
    writeFileSync(join(dir, 'own.txt'), '# our own list\n192.0.2.0/24\n203.0.113.7\nnot-an-ip\n');
    writeFileSync(config, [
      `store: { sqlite: ${db} }`,
      'sources: []',
      'allow: [127.0.0.0/8, 203.0.113.7]',
      `enforce: { backend: dry-run, journal: ${journal} }`,
      'feeds:',
      `  - { id: apiban, type: apiban, version: 1, key: "${KEY}", url: "${server.url}" }`,
      `  - { id: own, type: list, path: ${join(dir, 'own.txt')}, interval: 10m }`,
      '',
    ].join('\n'));
  });
  after(() => server.close());

  it('status before any sync: every configured feed, never synced', () => {
    const r = cli(['feeds', 'status', '--config', config]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^FEED\s+TYPE\s+LAST SYNC\s+ENTRIES\s+OVERRIDDEN\s+LAST ERROR$/m);
    assert.match(r.stdout, /^apiban\s+apiban\s+never\s+0\s+0\s+-$/m);
    assert.match(r.stdout, /^own\s+list\s+never\s+0\s+0\s+-$/m);
  });

  it('sync loads both feeds through the enforcer, leaves the allowlisted address out, and stores the state', async () => {
    const r = await cliAsync(['feeds', 'sync', '--config', config]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^apiban\s+apiban\s+0s ago\s+2\s+1\s+-$/m);
    assert.match(r.stdout, /^own\s+list\s+0s ago\s+1\s+1\s+-$/m);
    assert.match(r.stderr, /Dry run/);
    assert.deepEqual(server.requests.map((q) => q.path), ['/api/{key}/banned', '/api/{key}/banned/1700000003']);
    const ops = readFileSync(journal, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { op: string; feed?: string; mode?: string; count?: number });
    assert.deepEqual(ops.filter((o) => o.op === 'feed').map((o) => `${o.mode} ${o.feed} ${o.count}`).sort(), ['add apiban 2', 'replace own 1']);

    const status = cli(['feeds', 'status', '--config', config, '--json']);
    assert.equal(status.status, 0, status.stderr);
    const states = JSON.parse(status.stdout) as { id: string; type: string; cursor?: string; entries: number; overridden: number; syncedAt?: number; error?: string }[];
    assert.deepEqual(states.map(({ id, type, cursor, entries, overridden }) => ({ id, type, cursor, entries, overridden })), [
      { id: 'apiban', type: 'apiban', cursor: '1700000003', entries: 2, overridden: 1 },
      { id: 'own', type: 'list', cursor: undefined, entries: 1, overridden: 1 },
    ]);
    assert.ok(states.every((s) => typeof s.syncedAt === 'number' && s.error === undefined));
    for (const text of [r.stdout, r.stderr, status.stdout]) assert.doesNotMatch(text, new RegExp(KEY));
  });

  it('a failed feed: exit 1, the error in the table and in status, never the key', async () => {
    server.fail(503, 'maintenance');
    const r = await cliAsync(['feeds', 'sync', '--config', config, '--feed', 'apiban']);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stdout, /^apiban\s+apiban\s+\d+s ago\s+2\s+1\s+HTTP 503 from the server \(0s ago\)$/m);
    assert.doesNotMatch(r.stdout, /^own/m, 'only the feed asked for');
    assert.equal(server.requests.at(-1)?.path, '/api/{key}/banned/1700000003', 'from the stored cursor');
    const status = cli(['feeds', 'status', '--config', config]);
    assert.match(status.stdout, /^apiban\s+apiban\s+\S+ ago\s+2\s+1\s+HTTP 503 from the server \(\S+ ago\)$/m);
    for (const text of [r.stdout, r.stderr, status.stdout]) assert.doesNotMatch(text, new RegExp(KEY));
  });

  it('a feed taken out of the config is listed as removed; an unknown --feed is an argument error', async () => {
    const store = openSqliteStore(db);
    await store.saveFeedState({ id: 'voipbl', entries: 10_500, overridden: 3, syncedAt: Date.now() - 3_600_000 });
    await store.close();
    assert.match(cli(['feeds', 'status', '--config', config]).stdout, /^voipbl\s+removed\s+1h ago\s+10,500\s+3\s+-$/m);
    const r = cli(['feeds', 'sync', '--config', config, '--feed', 'nope']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /SW_ERR_ARGUMENT: no feed "nope" in the config \(feeds: apiban, own\)/);
  });
});
