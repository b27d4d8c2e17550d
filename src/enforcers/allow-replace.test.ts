import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createIpsetEnforcer } from './ipset/index.js';
import { createNftablesEnforcer } from './nftables/index.js';
import { canCreateNetns, createNetns } from './testing/netns.js';
import type { Enforcer } from './types.js';

const skip = canCreateNetns() ? false : 'needs root and network namespaces (ip netns)';

/** The kernel allowlist follows a reloaded list or the fleet's shared entries: old entries leave, new ones arrive. */
describe('replaceAllow in the kernel', { skip }, () => {
  const cases: [string, (runner: ReturnType<typeof createNetns>['runner']) => Enforcer, (ns: ReturnType<typeof createNetns>, ip: string) => boolean][] = [
    ['nftables', (runner) => createNftablesEnforcer({ runner, allow: ['10.0.0.1', '2001:db8::/64'] }),
      (ns, ip) => {
        const family = ip.includes(':') ? 6 : 4;
        const ruleset = ns.exec(['nft', 'list', 'set', 'inet', 'sipwarden', ip.includes('/') ? `allownet${family}` : `allow${family}`]);
        return ruleset.includes(ip.split('/')[0]!);
      }],
    ['ipset', (runner) => createIpsetEnforcer({ runner, allow: ['10.0.0.1', '2001:db8::/64'] }),
      (ns, ip) => ns.exec(['ipset', 'list', ip.includes(':') ? 'sipwarden-allow6' : 'sipwarden-allow4']).includes(ip)],
  ];
  for (const [name, make, has] of cases) {
    it(`${name}: swaps the allow sets`, async () => {
      const ns = createNetns(`swal${name[0]}`);
      try {
        const enforcer = make(ns.runner);
        await enforcer.init();
        assert.ok(has(ns, '10.0.0.1'));
        assert.ok(enforcer.replaceAllow, `${name} can replace its allowlist`);
        await enforcer.replaceAllow(['10.0.0.2', '192.0.2.0/24', '2001:db8:1::/64']);
        assert.ok(!has(ns, '10.0.0.1'), 'the old entry is gone');
        assert.ok(has(ns, '10.0.0.2'));
        assert.ok(has(ns, '192.0.2.0/24'));
        assert.ok(has(ns, '2001:db8:1::/64'));
        assert.ok(!has(ns, '2001:db8::/64'));
        assert.deepEqual((await enforcer.verify()).ok, true, 'the rest of the enforcer is intact');
        await enforcer.close();
      } finally {
        ns.destroy();
      }
    });
  }
});
