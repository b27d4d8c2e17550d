import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { enforcerContract } from '../contract.js';
import { createCommandEnforcer } from './index.js';

const dir = mkdtempSync(join(tmpdir(), 'sw-hook-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/**
 * A hook as an operator would write one: it appends its argv to a log, refuses one address with a message on
 * stderr, hangs for another, and records when each call starts and ends so the test can see the concurrency.
 */
function writeHook(name: string): { path: string; log: string; calls: () => string[]; spans: () => [number, number][] } {
  const path = join(dir, name);
  const log = join(dir, `${name}.log`);
  const spanLog = join(dir, `${name}.spans`);
  writeFileSync(path, `#!/bin/bash
start=$(date +%s%N)
# The target is the second-to-last argument, whatever the configured args are.
ip="\${@: -2:1}"
case "$ip" in
  192.0.2.66) echo "api said no to $ip" >&2; exit 3 ;;
  192.0.2.77) sleep 5 ;;
  198.51.100.*) sleep 0.2 ;;
esac
echo "$*" >> "${log}"
echo "$start $(date +%s%N)" >> "${spanLog}"
`);
  chmodSync(path, 0o755);
  const lines = (file: string) => { try { return readFileSync(file, 'utf8').trim().split('\n').filter(Boolean); } catch { return []; } };
  return {
    path,
    log,
    calls: () => lines(log),
    spans: () => lines(spanLog).map((l) => l.split(' ').map((n) => Number(BigInt(n) / 1_000_000n)) as [number, number]),
  };
}

// The contract reconciles 5000 bans, one process each: /bin/true keeps that to a few seconds (bash: ~25 s here).
enforcerContract('command', async () => createCommandEnforcer({ path: 'true', args: ['--account', 'a1'] }));

describe('command hook', () => {
  const NOW = 1_700_000_000_000;

  it('passes [...args, verb, target, seconds]: seconds left rounded up, 0 for permanent and for unban', async () => {
    const hook = writeHook('argv');
    const e = createCommandEnforcer({ path: hook.path, args: ['--zone', 'edge 1'] });
    await e.init();
    await e.apply([
      { op: 'ban', target: '192.0.2.1', expiresAt: NOW + 90_500 },
      { op: 'ban', target: '2001:DB8:0::1', expiresAt: null },
      { op: 'ban', target: '192.0.2.9/24', expiresAt: NOW + 60_001 },
    ], NOW);
    await e.apply([{ op: 'unban', target: '192.0.2.1' }], NOW);
    assert.deepEqual(hook.calls().sort(), [
      '--zone edge 1 ban 192.0.2.0/24 61',
      '--zone edge 1 ban 192.0.2.1 91',
      '--zone edge 1 ban 2001:db8::1 0',
      '--zone edge 1 unban 192.0.2.1 0',
    ].sort());
    await e.close();
  });

  it('reports a failing call with its target and stderr after the rest of the batch ran', async () => {
    const hook = writeHook('fail');
    const e = createCommandEnforcer({ path: hook.path });
    const batch = [
      { op: 'ban' as const, target: '192.0.2.66', expiresAt: null },
      { op: 'ban' as const, target: '192.0.2.67', expiresAt: null },
      { op: 'ban' as const, target: '2001:db8::67', expiresAt: null },
    ];
    await assert.rejects(e.apply(batch, NOW), (error: Error & { code?: string }) =>
      error.code === 'SW_ERR_ENFORCER' && /192\.0\.2\.66/.test(error.message) && /api said no to 192\.0\.2\.66/.test(error.message));
    assert.deepEqual(hook.calls().sort(), ['ban 192.0.2.67 0', 'ban 2001:db8::67 0']);
    assert.equal((await e.lookup('192.0.2.66', NOW)).banned, false, 'a refused ban is not reported as enforced');
    assert.equal((await e.lookup('192.0.2.67', NOW)).banned, true);
    await e.close();
  });

  it('times out a hung call and runs at most 4 calls at a time', async () => {
    const hook = writeHook('slow');
    const e = createCommandEnforcer({ path: hook.path, timeoutMs: 600 });
    const started = Date.now();
    await assert.rejects(
      e.apply([{ op: 'ban', target: '192.0.2.77', expiresAt: null }, ...Array.from({ length: 8 }, (_, i) => ({ op: 'ban' as const, target: `198.51.100.${i}`, expiresAt: null }))], NOW),
      /192\.0\.2\.77 \(ban failed: no exit within 600 ms\)/,
    );
    assert.ok(Date.now() - started < 3000, 'the batch did not wait for the hung call');
    const spans = hook.spans();
    assert.equal(spans.length, 8);
    const overlap = Math.max(...spans.map(([s]) => spans.filter(([a, b]) => a <= s && s < b).length));
    assert.ok(overlap <= 3, `at most 3 slow calls beside the hung one, saw ${overlap}`);
    await e.close();
  });

  it('reconcile sends only what changed; expiry sends unban on its own', async () => {
    const hook = writeHook('reconcile');
    const e = createCommandEnforcer({ path: hook.path });
    await e.apply([{ op: 'ban', target: '192.0.2.1', expiresAt: null }, { op: 'ban', target: '192.0.2.2', expiresAt: NOW + 60_000 }], NOW);
    await e.reconcile([{ target: '192.0.2.2', expiresAt: NOW + 60_000 }, { target: '192.0.2.3', expiresAt: null }], NOW);
    assert.deepEqual(hook.calls().slice(2).sort(), ['ban 192.0.2.3 0', 'unban 192.0.2.1 0']);
    const now = Date.now();
    await e.apply([{ op: 'ban', target: '192.0.2.4', expiresAt: now + 200 }], now);
    for (let i = 0; i < 30 && !hook.calls().includes('unban 192.0.2.4 0'); i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok(hook.calls().includes('unban 192.0.2.4 0'), hook.calls().join('\n'));
    await e.close();
  });

  it('init refuses a missing or non-executable program, clearly', async () => {
    await assert.rejects(createCommandEnforcer({ path: join(dir, 'nope') }).init(), /nope: no such file/);
    await assert.rejects(createCommandEnforcer({ path: 'sipwarden-no-such-hook' }).init(), /not found on PATH/);
    const plain = join(dir, 'plain.sh');
    writeFileSync(plain, '#!/bin/sh\n');
    chmodSync(plain, 0o644);
    await assert.rejects(createCommandEnforcer({ path: plain }).init(), /plain\.sh is not executable/);
    await createCommandEnforcer({ path: 'true' }).init();
  });
});
