import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Enforcer } from './types.js';

/**
 * The behaviour every enforcer must show. Kernel backends run it inside a network namespace; each test gets
 * a fresh enforcer from `open` and closes it.
 */
export function enforcerContract(name: string, open: () => Promise<Enforcer>): void {
  const NOW = 1_700_000_000_000;
  const withEnforcer = (fn: (e: Enforcer) => Promise<void>) => async () => {
    const enforcer = await open();
    await enforcer.init();
    try {
      await fn(enforcer);
    } finally {
      await enforcer.close();
    }
  };

  describe(`enforcer contract: ${name}`, () => {
    it('init is idempotent', withEnforcer(async (e) => {
      await e.init();
      assert.equal((await e.verify()).ok, true);
    }));

    it('bans and unbans an IPv4 and an IPv6 address', withEnforcer(async (e) => {
      await e.apply([
        { op: 'ban', target: '192.0.2.7', expiresAt: NOW + 3_600_000 },
        { op: 'ban', target: '2001:db8::7', expiresAt: NOW + 3_600_000 },
      ], NOW);
      assert.equal((await e.lookup('192.0.2.7', NOW)).banned, true);
      assert.equal((await e.lookup('2001:db8::7', NOW)).banned, true);
      assert.equal((await e.lookup('192.0.2.8', NOW)).banned, false);
      await e.apply([{ op: 'unban', target: '192.0.2.7' }], NOW);
      assert.equal((await e.lookup('192.0.2.7', NOW)).banned, false);
      assert.equal((await e.lookup('2001:db8::7', NOW)).banned, true);
    }));

    it('a prefix ban covers its members', withEnforcer(async (e) => {
      await e.apply([{ op: 'ban', target: '198.51.100.0/24', expiresAt: null }], NOW);
      assert.equal((await e.lookup('198.51.100.200', NOW)).banned, true);
      assert.equal((await e.lookup('198.51.101.1', NOW)).banned, false);
    }));

    it('re-banning extends the expiry; unbanning an unknown address is a no-op', withEnforcer(async (e) => {
      await e.apply([{ op: 'ban', target: '192.0.2.9', expiresAt: NOW + 1000 }], NOW);
      await e.apply([{ op: 'ban', target: '192.0.2.9', expiresAt: NOW + 7_200_000 }], NOW);
      assert.equal((await e.lookup('192.0.2.9', NOW + 60_000)).banned, true);
      await e.apply([{ op: 'unban', target: '203.0.113.99' }], NOW);
    }));

    it('reconcile makes the set exactly the active bans', withEnforcer(async (e) => {
      await e.apply([{ op: 'ban', target: '192.0.2.10', expiresAt: null }], NOW);
      await e.reconcile([{ target: '192.0.2.11', expiresAt: null }], NOW);
      assert.equal((await e.lookup('192.0.2.10', NOW)).banned, false);
      assert.equal((await e.lookup('192.0.2.11', NOW)).banned, true);
    }));

    it('rejects a bad target but applies the rest of the batch', withEnforcer(async (e) => {
      await assert.rejects(
        e.apply([{ op: 'ban', target: 'not-an-ip', expiresAt: null }, { op: 'ban', target: '192.0.2.12', expiresAt: null }], NOW),
        /SW_ERR_ENFORCER|not an address/,
      );
      assert.equal((await e.lookup('192.0.2.12', NOW)).banned, true);
    }));
  });
}
