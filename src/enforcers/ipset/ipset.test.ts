import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { enforcerContract } from '../contract.js';
import type { CommandRunner } from '../exec.js';
import { NetnsPool } from '../iptables/netns-pool.js';
import type { Netns } from '../testing/netns.js';
import { createIpsetEnforcer } from './index.js';
import { MAX_TIMEOUT_SECONDS } from './restore.js';
import { ATTACKER, UdpProbe } from './udp-probe.js';

const skip = NetnsPool.skipReason();
const pool = new NetnsPool('sw-ips');
after(() => pool.destroyAll());

enforcerContract('ipset', async () => createIpsetEnforcer({ runner: pool.open().runner }), {
  skip,
  // What a firewall script that starts with `iptables -F; iptables -X; ipset destroy` does.
  sabotage: async () => {
    for (const argv of [['iptables', '-F'], ['iptables', '-X'], ['ip6tables', '-F'], ['ip6tables', '-X'], ['ipset', 'destroy']]) pool.latest.exec(argv);
  },
});

/** A runner that remembers every argv, to check what verify costs. */
function recording(runner: CommandRunner): { runner: CommandRunner; calls: string[] } {
  const calls: string[] = [];
  return { calls, runner: { run: (argv, input) => (calls.push(argv.join(' ')), runner.run(argv, input)), spawn: (argv) => runner.spawn(argv) } };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('ipset enforcer in a network namespace', { skip: skip ?? false }, () => {
  const HOUR = 3_600_000;

  it('leaves foreign rules and sets in place and in order; one jump however often init runs', async () => {
    const ns = pool.open();
    ns.exec(['ipset', 'create', 'foreign', 'hash:ip']);
    ns.exec(['iptables', '-A', 'INPUT', '-p', 'udp', '--dport', '5060', '-j', 'ACCEPT']);
    ns.exec(['iptables', '-A', 'INPUT', '-s', '203.0.113.0/24', '-j', 'DROP']);
    ns.exec(['ip6tables', '-A', 'INPUT', '-p', 'udp', '--dport', '5060', '-j', 'ACCEPT']);
    const foreign4 = ns.exec(['iptables', '-S', 'INPUT']).trim().split('\n');
    const e = createIpsetEnforcer({ runner: ns.runner, allow: ['192.0.2.0/28'], forward: true });
    await e.init();
    await e.init();
    await e.apply([{ op: 'ban', target: '198.51.100.1', expiresAt: null }], Date.now());
    await e.init();
    const input = ns.exec(['iptables', '-S', 'INPUT']).trim().split('\n');
    assert.deepEqual(input, [foreign4[0], '-A INPUT -j SIPWARDEN', ...foreign4.slice(1)], 'jump first, foreign rules after it in their order');
    assert.equal(ns.exec(['iptables', '-S', 'FORWARD']).match(/-j SIPWARDEN/g)?.length, 1);
    assert.equal(ns.exec(['ip6tables', '-S', 'INPUT']).match(/-j SIPWARDEN/g)?.length, 1);
    assert.equal((await e.lookup('198.51.100.1', Date.now())).banned, true, 'init keeps bans');
    assert.match(ns.exec(['ipset', 'list', 'sipwarden-allow4']), /192\.0\.2\.0\/28/);
    await e.uninstall();
    assert.deepEqual(ns.exec(['iptables', '-S', 'INPUT']).trim().split('\n'), foreign4);
    assert.equal(ns.exec(['ipset', 'list', '-n']).trim(), 'foreign');
    assert.doesNotMatch(ns.exec(['iptables', '-S']) + ns.exec(['ip6tables', '-S']), /SIPWARDEN/);
    await e.close();
  });

  it('repairs a flushed INPUT, a deleted chain and destroyed sets; verify never lists a set', async () => {
    const ns = pool.open();
    const { runner, calls } = recording(ns.runner);
    const e = createIpsetEnforcer({ runner });
    await e.init();
    await e.apply([{ op: 'ban', target: '198.51.100.2', expiresAt: Date.now() + HOUR }], Date.now());
    const sabotages: [string, string[][]][] = [
      ['iptables -F INPUT', [['iptables', '-F', 'INPUT']]],
      ['our chain deleted', [['ip6tables', '-D', 'INPUT', '-j', 'SIPWARDEN'], ['ip6tables', '-F', 'SIPWARDEN'], ['ip6tables', '-X', 'SIPWARDEN']]],
      ['sets destroyed', [['iptables', '-F'], ['iptables', '-X'], ['ip6tables', '-F'], ['ip6tables', '-X'], ['ipset', 'destroy']]],
    ];
    for (const [what, commands] of sabotages) {
      for (const argv of commands) ns.exec(argv);
      calls.length = 0;
      const result = await e.verify();
      assert.equal(result.repaired, true, `${what}: ${result.detail}`);
      assert.equal(result.ok, true);
      assert.ok(calls.every((c) => !/^ipset (list(?! -t)|save)/.test(c)), `${what}: ${calls.join('; ')}`);
      assert.deepEqual(await e.verify(), { ok: true, repaired: false, detail: 'ipset: sets, chain and jumps in place' });
    }
    assert.equal(ns.exec(['iptables', '-S', 'INPUT']).match(/-j SIPWARDEN/g)?.length, 1);
    await e.close();
  });

  it('extends with -exist, expires in the kernel, clamps bans beyond the ipset timeout limit', async () => {
    const ns = pool.open();
    const e = createIpsetEnforcer({ runner: ns.runner });
    await e.init();
    const now = Date.now();
    await e.apply([
      { op: 'ban', target: '198.51.100.3', expiresAt: now + 1000 },
      { op: 'ban', target: '2001:db8::3', expiresAt: now + 1000 },
      { op: 'ban', target: '198.51.100.4', expiresAt: now + 1000 },
      { op: 'ban', target: '198.51.100.5', expiresAt: now + 30 * 24 * HOUR },
    ], now);
    await e.apply([{ op: 'ban', target: '198.51.100.4', expiresAt: now + HOUR }], now);
    const members = ns.exec(['ipset', 'list', 'sipwarden4']);
    assert.match(members, /198\.51\.100\.4 timeout 3[56]\d\d /);
    assert.match(members, new RegExp(`198\\.51\\.100\\.5 timeout (${MAX_TIMEOUT_SECONDS - 1}|${MAX_TIMEOUT_SECONDS}) `));
    let gone = false;
    for (let i = 0; i < 40 && !gone; i++) {
      await sleep(100);
      gone = !(await e.lookup('198.51.100.3', Date.now())).banned && !(await e.lookup('2001:db8::3', Date.now())).banned;
    }
    assert.ok(gone, 'the kernel dropped both expired entries');
    assert.equal((await e.lookup('198.51.100.4', Date.now())).banned, true, 'the extended ban outlived its first timeout');
    await e.apply([{ op: 'ban', target: '198.51.100.6', expiresAt: now - 1000 }], now);
    assert.equal((await e.lookup('198.51.100.6', now)).banned, false, 'a ban already over is not made permanent');
    await e.close();
  });

  it('refuses /0, applies the rest of the batch', async () => {
    const e = createIpsetEnforcer({ runner: pool.open().runner });
    await e.init();
    await assert.rejects(
      e.apply([{ op: 'ban', target: '0.0.0.0/0', expiresAt: null }, { op: 'ban', target: '::/0', expiresAt: null }, { op: 'ban', target: '198.51.100.7', expiresAt: null }], 0),
      (error: Error & { code?: string }) => error.code === 'SW_ERR_ENFORCER' && /0\.0\.0\.0\/0/.test(error.message) && /::\/0/.test(error.message),
    );
    assert.equal((await e.lookup('198.51.100.7', 0)).banned, true);
    await e.close();
  });

  it('reconciles 100k bans in one restore', async (t) => {
    const ns = pool.open();
    const e = createIpsetEnforcer({ runner: ns.runner });
    await e.init();
    const now = Date.now();
    const active = Array.from({ length: 100_000 }, (_, i) => ({ target: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, expiresAt: now + HOUR }));
    const started = performance.now();
    await e.reconcile(active, now);
    t.diagnostic(`ipset reconcile of 100k bans: ${((performance.now() - started) / 1000).toFixed(2)} s`);
    assert.match(ns.exec(['ipset', 'list', '-t', 'sipwarden4']), /Number of entries: 100000/);
    assert.equal((await e.lookup('10.1.134.159', now)).banned, true);
    await e.close();
  });

  it('a ban drops real UDP packets from the attacker, IPv4 and IPv6; unban lets them through again', async () => {
    const attacker = pool.open();
    const server: Netns = pool.open();
    const probe = new UdpProbe(attacker, server);
    const e = createIpsetEnforcer({ runner: server.runner });
    try {
      probe.start();
      await e.init();
      await probe.waitForBoth();
      await e.apply([{ op: 'ban', target: ATTACKER[4], expiresAt: null }], Date.now());
      const v4Banned = await probe.countDuring(500);
      assert.equal(v4Banned[4], 0, 'IPv4 dropped');
      assert.ok(v4Banned[6] > 0, 'IPv6 still flows');
      await e.apply([{ op: 'ban', target: `${ATTACKER[6]}`, expiresAt: null }], Date.now());
      assert.deepEqual(await probe.countDuring(500), { 4: 0, 6: 0 });
      await e.apply([{ op: 'unban', target: ATTACKER[4] }, { op: 'unban', target: ATTACKER[6] }], Date.now());
      await probe.waitForBoth();
    } finally {
      probe.stop();
      await e.close();
    }
  });
});
