import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { enforcerContract } from '../contract.js';
import type { CommandRunner } from '../exec.js';
import { createIptablesEnforcer, LINEAR_RULES_WARNING } from './index.js';
import { NetnsPool } from './netns-pool.js';

const skip = NetnsPool.skipReason();
const pool = new NetnsPool('sw-ipt');
after(() => pool.destroyAll());
const quiet = () => {};

enforcerContract('iptables', async () => createIptablesEnforcer({ runner: pool.open().runner, onWarning: quiet }), {
  skip,
  sabotage: async () => {
    for (const argv of [['iptables', '-F'], ['iptables', '-X'], ['ip6tables', '-F'], ['ip6tables', '-X']]) pool.latest.exec(argv);
  },
});

function recording(runner: CommandRunner): { runner: CommandRunner; calls: string[] } {
  const calls: string[] = [];
  return { calls, runner: { run: (argv, input) => (calls.push(argv.join(' ')), runner.run(argv, input)), spawn: (argv) => runner.spawn(argv) } };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const HOUR = 3_600_000;

describe('plain iptables enforcer in a network namespace', { skip: skip ?? false }, () => {
  it('warns once that its rules are linear', async () => {
    const warnings: string[] = [];
    const e = createIptablesEnforcer({ runner: pool.open().runner, onWarning: (m) => warnings.push(m) });
    await e.init();
    await e.init();
    assert.deepEqual(warnings, [LINEAR_RULES_WARNING]);
    assert.match(warnings[0] ?? '', /every rule.*ipset or nftables/s);
    await e.close();
  });

  it('keeps foreign rules in place and in order, one jump, allow before bans, IPv6 in ip6tables', async () => {
    const ns = pool.open();
    ns.exec(['iptables', '-A', 'INPUT', '-p', 'udp', '--dport', '5060', '-j', 'ACCEPT']);
    ns.exec(['iptables', '-A', 'INPUT', '-s', '203.0.113.0/24', '-j', 'DROP']);
    const foreign = ns.exec(['iptables', '-S', 'INPUT']).trim().split('\n');
    const e = createIptablesEnforcer({ runner: ns.runner, onWarning: quiet, allow: ['192.0.2.0/28', '2001:db8:ffff::/48'], chain: 'SW_TEST' });
    await e.init();
    await e.apply([{ op: 'ban', target: '198.51.100.1', expiresAt: null }, { op: 'ban', target: '2001:db8::1', expiresAt: null }], 0);
    await e.init();
    assert.deepEqual(ns.exec(['iptables', '-S', 'INPUT']).trim().split('\n'), [foreign[0], '-A INPUT -j SW_TEST', ...foreign.slice(1)]);
    assert.deepEqual(ns.exec(['iptables', '-S', 'SW_TEST']).trim().split('\n').slice(1), [
      '-A SW_TEST -m comment --comment "sipwarden: allow and ban rules follow"',
      '-A SW_TEST -s 192.0.2.0/28 -j RETURN',
      '-A SW_TEST -s 198.51.100.1/32 -j DROP',
    ]);
    assert.match(ns.exec(['ip6tables', '-S', 'SW_TEST']), /-s 2001:db8:ffff::\/48 -j RETURN\n.*-s 2001:db8::1\/128 -j DROP/);
    await e.uninstall();
    assert.deepEqual(ns.exec(['iptables', '-S', 'INPUT']).trim().split('\n'), foreign);
    assert.doesNotMatch(ns.exec(['iptables', '-S']) + ns.exec(['ip6tables', '-S']), /SW_TEST/);
    await e.close();
  });

  it('loads a batch with one iptables-restore per family', async () => {
    const ns = pool.open();
    const { runner, calls } = recording(ns.runner);
    const e = createIptablesEnforcer({ runner, onWarning: quiet });
    await e.init();
    calls.length = 0;
    const bans = Array.from({ length: 300 }, (_, i) => ({ op: 'ban' as const, target: i % 2 ? `10.9.${i >> 8}.${i & 255}` : `2001:db8:9::${i.toString(16)}`, expiresAt: null }));
    await e.apply(bans, 0);
    assert.deepEqual(calls, ['iptables-restore -w --noflush', 'ip6tables-restore -w --noflush']);
    assert.equal(ns.exec(['iptables', '-S', 'SIPWARDEN']).match(/-j DROP/g)?.length, 150);
    await e.close();
  });

  it('removes expired rules from the kernel on its own timer', async () => {
    const ns = pool.open();
    const e = createIptablesEnforcer({ runner: ns.runner, onWarning: quiet });
    await e.init();
    const now = Date.now();
    await e.apply([{ op: 'ban', target: '198.51.100.2', expiresAt: now + 300 }, { op: 'ban', target: '2001:db8::2', expiresAt: now + 300 }, { op: 'ban', target: '198.51.100.3', expiresAt: now + HOUR }], now);
    let rules = '';
    for (let i = 0; i < 30; i++) {
      await sleep(100);
      rules = ns.exec(['iptables', '-S', 'SIPWARDEN']) + ns.exec(['ip6tables', '-S', 'SIPWARDEN']);
      if (!/198\.51\.100\.2|2001:db8::2/.test(rules)) break;
    }
    assert.doesNotMatch(rules, /198\.51\.100\.2|2001:db8::2/);
    assert.match(rules, /198\.51\.100\.3/);
    await e.close();
  });

  it('repairs a flushed INPUT, a flushed chain and a deleted chain from its table, without a reconcile', async () => {
    const ns = pool.open();
    const e = createIptablesEnforcer({ runner: ns.runner, onWarning: quiet });
    await e.init();
    await e.apply([{ op: 'ban', target: '198.51.100.4', expiresAt: Date.now() + HOUR }], Date.now());
    const sabotages: [string, string[][]][] = [
      ['iptables -F INPUT', [['iptables', '-F', 'INPUT']]],
      ['iptables -F (our chain flushed too)', [['iptables', '-F']]],
      ['our chain deleted', [['iptables', '-F'], ['iptables', '-X'], ['ip6tables', '-F'], ['ip6tables', '-X']]],
    ];
    for (const [what, commands] of sabotages) {
      for (const argv of commands) ns.exec(argv);
      const result = await e.verify();
      assert.equal(result.repaired, true, `${what}: ${result.detail}`);
      assert.equal((await e.lookup('198.51.100.4', Date.now())).banned, true, what);
      assert.equal((await e.verify()).repaired, false);
    }
    ns.exec(['iptables', '-D', 'SIPWARDEN', '-s', '198.51.100.4', '-j', 'DROP']);
    await e.apply([{ op: 'unban', target: '198.51.100.4' }], Date.now());
    assert.equal(ns.exec(['iptables', '-S', 'INPUT']).match(/-j SIPWARDEN/g)?.length, 1);
    await e.close();
  });
});
