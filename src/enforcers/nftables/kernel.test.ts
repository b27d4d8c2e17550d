import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { commandRunner, type CommandRunner } from '../exec.js';
import { canCreateNetns, createNetns, type Netns } from '../testing/netns.js';
import { createNftablesEnforcer, type NftablesOptions } from './index.js';
import { createUserNetns } from './testing.js';

const NOW = 1_700_000_000_000;
const HOUR = 3_600_000;
const skip = canCreateNetns() ? false : 'needs root and `ip netns` (network namespaces)';
const created: Netns[] = [];
after(() => created.forEach((ns) => ns.destroy()));

function setup(options: NftablesOptions = {}) {
  const ns = createNetns('swnftk');
  created.push(ns);
  const nft = async (...args: string[]) => (await ns.runner.run(['nft', ...args])).stdout;
  return { ns, nft, enforcer: createNftablesEnforcer({ runner: ns.runner, ...options }) };
}

const many = (n: number, expiresAt: number | null = NOW + HOUR) =>
  Array.from({ length: n }, (_, i) => ({ target: `${11 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}.1`, expiresAt }));

describe('nftables enforcer on a real kernel', { skip }, () => {
  it('creates table inet sipwarden: raw-priority prerouting chain, allowlist first, sets with the right flags', async () => {
    const { nft, enforcer } = setup({ allow: ['192.0.2.1', '198.51.100.0/24', '198.51.100.0/25', '2001:db8::/32'] });
    await enforcer.init();
    const table = await nft('list', 'table', 'inet', 'sipwarden');
    assert.match(table, /chain prerouting \{\n\t\tcomment "sipwarden layout 1"\n\t\ttype filter hook prerouting priority raw; policy accept;/);
    assert.match(table, /set ban4 \{\n\t\ttype ipv4_addr\n\t\tflags timeout\n\t\tcounter/);
    assert.match(table, /set bannet6 \{\n\t\ttype ipv6_addr\n\t\tflags interval,timeout\n\t\tcounter/);
    const rules = table.slice(table.indexOf('chain prerouting')).split('\n').filter((l) => /accept$|drop$/.test(l.trim()));
    assert.deepEqual(rules.map((l) => l.trim()), [
      'ip saddr @allow4 accept', 'ip saddr @allownet4 accept', 'ip6 saddr @allow6 accept', 'ip6 saddr @allownet6 accept',
      'ip saddr @ban4 drop', 'ip saddr @bannet4 drop', 'ip6 saddr @ban6 drop', 'ip6 saddr @bannet6 drop',
    ]);
    // The /25 inside the /24 is left out: interval sets reject overlaps.
    assert.match(await nft('list', 'set', 'inet', 'sipwarden', 'allownet4'), /elements = \{ 198\.51\.100\.0\/24 \}/);
  });

  it('scope sip-ports drops only UDP/TCP to the SIP ports', async () => {
    const { nft, enforcer } = setup({ scope: 'sip-ports', sipPorts: [5060, 5080] });
    await enforcer.init();
    assert.match(await nft('list', 'chain', 'inet', 'sipwarden', 'prerouting'), /meta l4proto \{ tcp, udp \} th dport \{ 5060, 5080 \} ip saddr @ban4 drop/);
  });

  it('never touches another table, through init, apply, reconcile, verify and uninstall', async () => {
    const { nft, ns, enforcer } = setup();
    await ns.runner.run(['nft', '-f', '-'], 'table inet other {\n\tset keep { type ipv4_addr; elements = { 203.0.113.5 }; }\n\tchain input { type filter hook input priority filter; policy accept; counter; }\n}\ntable ip filter {\n\tchain forward { type filter hook forward priority 0; policy drop; }\n}\n');
    const before = (await nft('list', 'table', 'inet', 'other')) + (await nft('list', 'table', 'ip', 'filter'));
    await enforcer.init();
    await enforcer.apply([{ op: 'ban', target: '203.0.113.5', expiresAt: null }], NOW);
    await enforcer.reconcile(many(10), NOW);
    await enforcer.verify();
    await enforcer.uninstall();
    assert.equal((await nft('list', 'table', 'inet', 'other')) + (await nft('list', 'table', 'ip', 'filter')), before);
    assert.doesNotMatch(await nft('list', 'tables'), /sipwarden/);
  });

  it('sets the new expiry exactly on a re-ban (longer, shorter, permanent and back)', async () => {
    const { enforcer } = setup();
    await enforcer.init();
    const expiry = async () => (await enforcer.lookup('192.0.2.20', NOW)).expiresAt;
    const near = (actual: number | null | undefined, expected: number) => assert.ok(actual && Math.abs(actual - expected) < 5000, `${actual} vs ${expected}`);
    for (const target of ['192.0.2.20', '198.51.100.0/24']) {
      await enforcer.apply([{ op: 'ban', target, expiresAt: NOW + HOUR }], NOW);
      await enforcer.apply([{ op: 'ban', target, expiresAt: NOW + 2 * HOUR }], NOW);
    }
    near(await expiry(), NOW + 2 * HOUR);
    near((await enforcer.lookup('198.51.100.7', NOW)).expiresAt, NOW + 2 * HOUR);
    await enforcer.apply([{ op: 'ban', target: '192.0.2.20', expiresAt: NOW + 600_000 }], NOW);
    near(await expiry(), NOW + 600_000);
    await enforcer.apply([{ op: 'ban', target: '192.0.2.20', expiresAt: null }], NOW);
    assert.equal(await expiry(), null);
    await enforcer.apply([{ op: 'ban', target: '192.0.2.20', expiresAt: NOW + HOUR }], NOW);
    near(await expiry(), NOW + HOUR);
    // Long bans as rules make them (scanner: 7d; escalation max: 30d), not whole seconds: nft 1.0.6 refuses a
    // plain millisecond count this large.
    for (const span of [7 * 24 * HOUR - 2, 30 * 24 * HOUR + 123]) {
      await enforcer.apply([{ op: 'ban', target: '192.0.2.20', expiresAt: NOW + span }], NOW);
      near(await expiry(), NOW + span);
    }
    // An expiry in the past still bans for the minimum of one second.
    await enforcer.apply([{ op: 'ban', target: '192.0.2.21', expiresAt: NOW - 5000 }], NOW);
    assert.equal((await enforcer.lookup('192.0.2.21', NOW)).banned, true);
  });

  it('handles overlapping prefixes and addresses without a conflict', async () => {
    const { enforcer, nft } = setup();
    await enforcer.init();
    await enforcer.apply([
      { op: 'ban', target: '10.1.2.3', expiresAt: null },
      { op: 'ban', target: '10.1.0.0/16', expiresAt: null },
      { op: 'ban', target: '10.1.2.0/24', expiresAt: null },
      { op: 'ban', target: '2001:db8::/32', expiresAt: null },
      { op: 'ban', target: '2001:db8:1::/48', expiresAt: null },
    ], NOW);
    await enforcer.apply([{ op: 'ban', target: '10.1.9.0/24', expiresAt: null }], NOW);
    assert.match(await nft('list', 'set', 'inet', 'sipwarden', 'bannet4'), /elements = \{ 10\.1\.0\.0\/16 counter/);
    // A wider prefix replaces the narrower ones it covers.
    await enforcer.apply([{ op: 'ban', target: '10.0.0.0/8', expiresAt: NOW + HOUR }], NOW);
    const listed = await nft('list', 'set', 'inet', 'sipwarden', 'bannet4');
    assert.match(listed, /10\.0\.0\.0\/8/);
    assert.doesNotMatch(listed, /10\.1\.0\.0/);
    assert.equal((await enforcer.lookup('10.200.0.1', NOW)).banned, true);
    assert.equal((await enforcer.lookup('10.1.2.3', NOW)).banned, true);
    await enforcer.apply([{ op: 'unban', target: '172.16.0.0/12' }, { op: 'unban', target: '10.0.0.0/8' }], NOW);
    assert.equal((await enforcer.lookup('10.200.0.1', NOW)).banned, false);
    assert.equal((await enforcer.lookup('10.1.2.3', NOW)).banned, true, 'the address ban is separate');
    await enforcer.reconcile([
      { target: '10.1.2.0/24', expiresAt: null }, { target: '10.0.0.0/8', expiresAt: null }, { target: '10.1.2.3', expiresAt: null },
      { target: '10.1.2.3', expiresAt: NOW + HOUR }, { target: '2001:db8:1::/48', expiresAt: null }, { target: '2001:db8::/32', expiresAt: null },
    ], NOW);
    assert.equal((await enforcer.lookup('10.1.2.99', NOW)).banned, true);
    assert.equal((await enforcer.lookup('2001:db8:ffff::1', NOW)).banned, true);
    assert.equal((await enforcer.lookup('10.1.2.3', NOW)).expiresAt, null, 'the permanent decision holds');
  });

  it('verify repairs a flushed chain and a deleted table, and then reports ok', async () => {
    const { enforcer, nft } = setup({ guard: { methods: ['REGISTER'], rate: 5, burst: 5, banSeconds: 60 } });
    await enforcer.init();
    assert.deepEqual(await enforcer.verify(), { ok: true, repaired: false, detail: 'table inet sipwarden: chains, rules and sets present' });
    await enforcer.apply([{ op: 'ban', target: '192.0.2.30', expiresAt: null }], NOW);
    await nft('flush', 'chain', 'inet', 'sipwarden', 'guard');
    const repaired = await enforcer.verify();
    assert.equal(repaired.repaired, true, repaired.detail);
    assert.equal((await enforcer.lookup('192.0.2.30', NOW)).banned, true, 'a rule repair keeps the bans');
    await nft('delete', 'table', 'inet', 'sipwarden');
    assert.equal((await enforcer.verify()).repaired, true);
    assert.equal((await enforcer.verify()).repaired, false);
  });

  it('verify costs the same with 0 and with 200,000 bans', async () => {
    const { enforcer } = setup();
    await enforcer.init();
    const timed = async () => {
      const times: number[] = [];
      for (let i = 0; i < 3; i++) {
        const start = performance.now();
        await enforcer.verify();
        times.push(performance.now() - start);
      }
      return Math.min(...times);
    };
    const empty = await timed();
    await enforcer.reconcile(many(200_000), NOW);
    const loaded = await timed();
    // Listing a 200k set would take seconds; verify must stay within noise of the empty case.
    assert.ok(loaded < empty * 3 + 30, `verify: ${empty.toFixed(1)} ms empty, ${loaded.toFixed(1)} ms with 200k bans`);
  });

  it('loads 100,000 bans in chunks and reconciles them away again', async () => {
    const { enforcer, nft } = setup();
    await enforcer.init();
    await enforcer.apply(many(100_000).map((b) => ({ op: 'ban' as const, ...b })), NOW);
    const count = (text: string) => (text.match(/counter packets/g) ?? []).length;
    assert.equal(count(await nft('list', 'set', 'inet', 'sipwarden', 'ban4')), 100_000);
    await enforcer.reconcile(many(10), NOW);
    assert.equal(count(await nft('list', 'set', 'inet', 'sipwarden', 'ban4')), 10);
  });

  it('works inside a user namespace (no CAP_NET_ADMIN outside it), even with an oversized chunk size', async () => {
    const userns = await createUserNetns();
    try {
      for (const chunkSize of [undefined, 1_000_000]) {
        const enforcer = createNftablesEnforcer({ runner: userns.runner, chunkSize });
        await enforcer.init();
        await enforcer.reconcile([...many(50_000), { target: '2001:db8::5', expiresAt: null }], NOW);
        assert.equal((await enforcer.lookup('11.0.195.1', NOW)).banned, true);
        await enforcer.apply(many(20_000, null).map((b) => ({ op: 'ban' as const, ...b })), NOW);
        assert.equal((await enforcer.lookup('11.0.78.1', NOW)).expiresAt, null);
        await enforcer.uninstall();
      }
    } finally {
      await userns.destroy();
    }
  });
});

describe('nftables enforcer errors say what to do', { skip }, () => {
  const rejects = (promise: Promise<unknown>, pattern: RegExp) =>
    assert.rejects(promise, (error: Error & { code?: string }) => error.code === 'SW_ERR_ENFORCER' && pattern.test(error.message));

  it('no nft binary', async () => {
    const inner = commandRunner();
    const runner: CommandRunner = { run: (argv, input) => inner.run(['/nonexistent/nft', ...argv.slice(1)], input), spawn: inner.spawn };
    await rejects(createNftablesEnforcer({ runner }).init(), /install nftables/);
  });

  it('no privileges', async () => {
    const { ns } = setup();
    const runner = commandRunner([...ns.prefix, 'setpriv', '--bounding-set', '-net_admin']);
    await rejects(createNftablesEnforcer({ runner }).init(), /run as root or with CAP_NET_ADMIN/);
  });

  it('a kernel without set timeouts', async () => {
    const { ns } = setup();
    const runner: CommandRunner = {
      run: (argv, input) => (input?.includes('flags timeout') ? Promise.reject(new Error('nft -f - failed (exit code 1): Error: Could not process rule: Operation not supported')) : ns.runner.run(argv, input)),
      spawn: ns.runner.spawn,
    };
    await rejects(createNftablesEnforcer({ runner }).init(), /kernel lacks nf_tables features .*Linux/);
  });

  it('a foreign table named sipwarden is left alone', async () => {
    const { ns, nft, enforcer } = setup();
    await ns.runner.run(['nft', '-f', '-'], 'table inet sipwarden {\n\tchain input { type filter hook input priority 0; policy accept; }\n}\n');
    const before = await nft('list', 'table', 'inet', 'sipwarden');
    await rejects(enforcer.init(), /not created by sipwarden.*nft delete table inet sipwarden/);
    await rejects(enforcer.uninstall(), /not created by sipwarden/);
    assert.equal(await nft('list', 'table', 'inet', 'sipwarden'), before);
  });

  it('a bad table name or allow entry fails at construction', () => {
    assert.throws(() => createNftablesEnforcer({ table: 'x; flush ruleset' }), /table name/);
    assert.throws(() => createNftablesEnforcer({ allow: ['example.com'] }), /not an address or prefix/);
  });
});
