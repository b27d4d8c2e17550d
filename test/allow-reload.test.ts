import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { startDaemon, tempDir, type RunningDaemon } from './helpers.js';

let daemon: RunningDaemon | undefined;
after(async () => {
  await daemon?.stop();
});

it('an edited allow file reaches the kernel allowlist, not only the policy', async () => {
  const dir = tempDir('sw-allow-reload-');
  const list = join(dir, 'customers.txt');
  const journal = join(dir, 'journal.ndjson');
  writeFileSync(list, '198.51.100.7\n');
  const config = join(dir, 'sipwarden.yaml');
  writeFileSync(config, [`store: { sqlite: ${join(dir, 'sw.db')} }`, `allow: [127.0.0.0/8, "file:${list}"]`, `enforce: { backend: dry-run, journal: ${journal} }`].join('\n'));
  daemon = startDaemon(config);
  await daemon.waitForLog(/state restored/);
  writeFileSync(list, '198.51.100.7\n203.0.113.0/24\n');
  await daemon.waitForLog(/kernel allowlist updated/, 10_000);
  const entries = readFileSync(journal, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { op: string; count?: number });
  assert.deepEqual(entries.filter((e) => e.op === 'allow').map((e) => e.count), [3]);
});
