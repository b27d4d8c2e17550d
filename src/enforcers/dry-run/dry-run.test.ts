import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { enforcerContract } from '../contract.js';
import { DryRunEnforcer } from './index.js';

enforcerContract('dry-run', async () => new DryRunEnforcer());

it('dry-run journals what it would do, to memory and to an NDJSON file', async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'sw-dry-')), 'journal.ndjson');
  const enforcer = new DryRunEnforcer(file);
  await enforcer.apply([{ op: 'ban', target: '192.0.2.1', expiresAt: 5000 }, { op: 'unban', target: '192.0.2.1' }], 1000);
  assert.deepEqual(enforcer.journal.map((j) => `${j.op} ${j.target}`), ['ban 192.0.2.1', 'unban 192.0.2.1']);
  const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { op: string; expiresAt?: number });
  assert.deepEqual(lines.map((l) => l.op), ['ban', 'unban']);
  assert.equal(lines[0]?.expiresAt, 5000);
});

it('dry-run bans expire like kernel timeouts', async () => {
  const enforcer = new DryRunEnforcer();
  await enforcer.apply([{ op: 'ban', target: '192.0.2.2', expiresAt: 2000 }], 1000);
  assert.equal((await enforcer.lookup('192.0.2.2', 1999)).banned, true);
  assert.equal((await enforcer.lookup('192.0.2.2', 2000)).banned, false);
});
