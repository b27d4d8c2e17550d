import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Enforcer } from './types.js';

export interface ContractOptions {
  /** Deletes the backend's kernel objects behind its back (what `nft flush ruleset` or a firewalld reload does). */
  sabotage?: () => Promise<void>;
  /** Skip the whole suite, with this reason (e.g. not root, no namespaces). */
  skip?: string;
}

/**
 * The behaviour every enforcer must show. Kernel backends run it inside a network namespace that `open`
 * creates; each test gets a fresh enforcer and closes it.
 */
export function enforcerContract(name: string, open: () => Promise<Enforcer>, options: ContractOptions = {}): void {
  const NOW = 1_700_000_000_000;
  const HOUR = 3_600_000;
  const withEnforcer = (fn: (e: Enforcer) => Promise<void>) => async () => {
    const enforcer = await open();
    await enforcer.init();
    try {
      await fn(enforcer);
    } finally {
      await enforcer.close();
    }
  };
  const banned = async (e: Enforcer, ip: string, now = NOW): Promise<boolean> => (await e.lookup(ip, now)).banned;

  describe(`enforcer contract: ${name}`, { skip: options.skip ?? false }, () => {
    it('init is idempotent', withEnforcer(async (e) => {
      await e.init();
      assert.equal((await e.verify()).ok, true);
    }));

    it('bans and unbans an IPv4 and an IPv6 address', withEnforcer(async (e) => {
      await e.apply([
        { op: 'ban', target: '192.0.2.7', expiresAt: NOW + HOUR },
        { op: 'ban', target: '2001:db8::7', expiresAt: NOW + HOUR },
      ], NOW);
      assert.equal(await banned(e, '192.0.2.7'), true);
      assert.equal(await banned(e, '2001:db8::7'), true);
      assert.equal(await banned(e, '192.0.2.8'), false);
      await e.apply([{ op: 'unban', target: '192.0.2.7' }], NOW);
      assert.equal(await banned(e, '192.0.2.7'), false);
      assert.equal(await banned(e, '2001:db8::7'), true);
    }));

    it('a prefix ban covers its members, IPv4 and IPv6', withEnforcer(async (e) => {
      await e.apply([
        { op: 'ban', target: '198.51.100.0/24', expiresAt: null },
        { op: 'ban', target: '2001:db8:1::/48', expiresAt: null },
      ], NOW);
      assert.equal(await banned(e, '198.51.100.200'), true);
      assert.equal(await banned(e, '198.51.101.1'), false);
      assert.equal(await banned(e, '2001:db8:1:ffff::1'), true);
      assert.equal(await banned(e, '2001:db8:2::1'), false);
    }));

    it('re-banning extends the expiry; unbanning an unknown address is a no-op', withEnforcer(async (e) => {
      await e.apply([{ op: 'ban', target: '192.0.2.9', expiresAt: NOW + 60_000 }], NOW);
      await e.apply([{ op: 'ban', target: '192.0.2.9', expiresAt: NOW + 2 * HOUR }], NOW);
      const state = await e.lookup('192.0.2.9', NOW);
      assert.equal(state.banned, true);
      assert.ok(state.expiresAt === undefined || state.expiresAt === null || state.expiresAt > NOW + HOUR, `extended: ${state.expiresAt}`);
      await e.apply([{ op: 'unban', target: '203.0.113.99' }], NOW);
    }));

    it('a ban expires on its own when its time is up', withEnforcer(async (e) => {
      const now = Date.now();
      await e.apply([{ op: 'ban', target: '192.0.2.13', expiresAt: now + 1000 }], now);
      assert.equal(await banned(e, '192.0.2.13', Date.now()), true);
      await new Promise((r) => setTimeout(r, 2000));
      assert.equal(await banned(e, '192.0.2.13', Date.now()), false);
    }));

    it('reconcile makes the set exactly the active bans (restore at start-up)', withEnforcer(async (e) => {
      await e.apply([{ op: 'ban', target: '192.0.2.10', expiresAt: null }], NOW);
      const active = Array.from({ length: 5000 }, (_, i) => ({ target: `10.${(i >> 8) & 255}.${i & 255}.1`, expiresAt: NOW + HOUR }));
      await e.reconcile([...active, { target: '2001:db8::11', expiresAt: null }], NOW);
      assert.equal(await banned(e, '192.0.2.10'), false);
      assert.equal(await banned(e, '10.0.0.1'), true);
      assert.equal(await banned(e, '10.19.135.1'), true);
      assert.equal(await banned(e, '2001:db8::11'), true);
    }));

    it('rejects a bad target but applies the rest of the batch', withEnforcer(async (e) => {
      await assert.rejects(
        e.apply([{ op: 'ban', target: 'not-an-ip', expiresAt: null }, { op: 'ban', target: '192.0.2.12', expiresAt: null }], NOW),
        /SW_ERR_ENFORCER|not an address/,
      );
      assert.equal(await banned(e, '192.0.2.12'), true);
    }));

    it('heals itself when its objects are deleted behind its back', { skip: options.sabotage ? false : 'no kernel objects' }, withEnforcer(async (e) => {
      await e.apply([{ op: 'ban', target: '192.0.2.14', expiresAt: NOW + HOUR }], NOW);
      await options.sabotage?.();
      const result = await e.verify();
      assert.equal(result.repaired, true, result.detail);
      await e.reconcile([{ target: '192.0.2.14', expiresAt: NOW + HOUR }], NOW);
      assert.equal((await e.verify()).ok, true);
      assert.equal(await banned(e, '192.0.2.14'), true);
    }));

    it('uninstall removes what it created; init brings it back', withEnforcer(async (e) => {
      await e.apply([{ op: 'ban', target: '192.0.2.15', expiresAt: null }], NOW);
      await e.uninstall();
      await e.init();
      assert.equal(await banned(e, '192.0.2.15'), false);
      assert.equal((await e.verify()).ok, true);
    }));
  });
}
