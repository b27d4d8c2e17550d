import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ApibanReplayServer } from '../src/feeds/testing/apiban-server.js';
import { freePort } from './console/daemon.js';
import { cli, startDaemon, tempDir, type RunningDaemon } from './helpers.js';

const KEY = 'daemon-feed-key-0c1d2e3f';

/** The daemon runs its feeds: a list file and an APIBAN server; the API health and `feeds status` show them. */
describe('feeds in the daemon', () => {
  const dir = tempDir('sw-feeds-daemon-');
  let daemon: RunningDaemon | undefined;
  let server: ApibanReplayServer | undefined;
  after(async () => {
    await daemon?.stop();
    await server?.close();
  });

  it('syncs a list and APIBAN at start, reports them in /api/v1/health and feeds status, and a broken feed is down', async () => {
    server = await ApibanReplayServer.start({ key: KEY, entries: ['198.51.100.1', '198.51.100.2', '10.9.9.9'] });
    writeFileSync(join(dir, 'list.txt'), '# ours\n192.0.2.0/24\n203.0.113.9\n');
    const port = await freePort();
    const config = join(dir, 'sipwarden.yaml');
    writeFileSync(config, [
      `store: { sqlite: ${join(dir, 'sw.db')} }`,
      'allow: [127.0.0.0/8, 10.0.0.0/8]',
      'enforce: { backend: dry-run }',
      `api: { listen: "127.0.0.1:${port}" }`,
      'feeds:',
      `  - { id: apiban, type: apiban, version: 2, key: "${KEY}", url: "${server.url}" }`,
      `  - { id: ours, type: list, path: ${join(dir, 'list.txt')} }`,
      `  - { id: gone, type: list, path: ${join(dir, 'missing.txt')} }`,
    ].join('\n'));
    const token = cli(['token', 'create', '--role', 'viewer', '--name', 'v', '--config', config]).stdout.trim();
    daemon = startDaemon(config);
    await daemon.waitForLog(/API and console listening/);
    type Feed = { id: string; ok: boolean; entries?: number; detail?: string };
    let feeds: Feed[] = [];
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      const health = await fetch(`http://127.0.0.1:${port}/api/v1/health`, { headers: { authorization: `Bearer ${token}` } });
      feeds = ((await health.json()) as { feeds: Feed[] }).feeds;
      if (feeds.length === 3 && feeds.every((f) => f.id === 'gone' ? f.detail : f.entries)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const byId = new Map(feeds.map((f) => [f.id, f]));
    assert.deepEqual([byId.get('apiban')?.ok, byId.get('apiban')?.entries], [true, 2], 'the allowlisted 10.9.9.9 is left out');
    assert.deepEqual([byId.get('ours')?.ok, byId.get('ours')?.entries], [true, 2]);
    assert.equal(byId.get('gone')?.ok, false);
    assert.match(byId.get('gone')?.detail ?? '', /missing\.txt|ENOENT|cannot/i);
    const status = cli(['feeds', 'status', '--config', config]);
    assert.match(status.stdout, /apiban/);
    assert.match(status.stdout, /ours/);
    assert.doesNotMatch(status.stdout + status.stderr, new RegExp(KEY), 'the APIBAN key is never printed');
    assert.ok(!daemon.logs.some((l) => JSON.stringify(l).includes(KEY)), 'nor logged');
  });
});
