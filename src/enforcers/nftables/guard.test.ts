import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { canCreateNetns } from '../testing/netns.js';
import { createNftablesEnforcer, guardRuleset, watchKernelBans } from './index.js';
import type { KernelBan } from './watch.js';
import { createLink, sendUdp, startReceiver, until, type Link, type Receiver } from './testing.js';

const GUARD = { methods: ['REGISTER', 'INVITE'], rate: 10, burst: 5, banSeconds: 30 };

describe('guardRuleset', () => {
  it('matches each method right after the UDP header and meters per source', () => {
    const text = guardRuleset({ guard: GUARD, sipPorts: [5060] });
    assert.match(text, /udp dport \{ 5060 \} @th,64,72 0x524547495354455220 update @meter4 \{ ip saddr limit rate over 10\/second burst 5 packets \} add @guard4 \{ ip saddr timeout 30s \} drop/);
    assert.match(text, /@th,64,56 0x494e5649544520 update @meter6 \{ ip6 saddr limit rate over 10\/second burst 5 packets \} add @guard6 \{ ip6 saddr timeout 30s \} drop/);
    assert.match(text, /set guard4 \{ type ipv4_addr; size 65536; flags dynamic, timeout; counter; \}/);
    assert.throws(() => guardRuleset({ guard: { ...GUARD, methods: ['register; flush ruleset'] } }), /upper-case/);
  });
});

const skip = canCreateNetns() ? false : 'needs root and `ip netns` (network namespaces)';
const links: Link[] = [];
const receivers: Receiver[] = [];
after(() => {
  receivers.forEach((r) => r.stop());
  links.forEach((l) => l.destroy());
});

describe('kernel flood guard on real packets', { skip }, () => {
  it('bans a REGISTER or INVITE flood in the kernel, spares the allowlist and other methods, and reports the bans', async () => {
    const link = createLink(4);
    links.push(link);
    const n = link.net;
    const [server, flooder, friend, inviter, pinger, trunk] = [1, 2, 3, 4, 5, 6].map((i) => `10.99.${n}.${i}`) as [string, string, string, string, string, string];
    // The trunk sits inside a customer prefix on the trunk list: the guard meters neither.
    const enforcer = createNftablesEnforcer({ runner: link.server.runner, guard: GUARD, allow: [friend], guardExempt: [`10.99.${n}.6/31`, trunk] });
    await enforcer.init();
    const receiver = await startReceiver(link.server, [5060]);
    receivers.push(receiver);
    const reported: KernelBan[] = [];
    const stop = new AbortController();
    const watching = watchKernelBans(link.server.runner, 'sipwarden', (ban) => reported.push(ban), stop.signal, { intervalMs: 50 });
    try {
      sendUdp(link.client, server, 5060, 100, 'REGISTER sip:pbx SIP/2.0\r\n\r\n', flooder);
      sendUdp(link.client, server, 5060, 100, 'REGISTER sip:pbx SIP/2.0\r\n\r\n', friend);
      sendUdp(link.client, server, 5060, 100, 'INVITE sip:0049@pbx SIP/2.0\r\n\r\n', inviter);
      sendUdp(link.client, server, 5060, 100, 'OPTIONS sip:pbx SIP/2.0\r\n\r\n', pinger);
      sendUdp(link.client, server, 5060, 100, 'REGISTER sip:pbx SIP/2.0\r\n\r\n', trunk);
      await receiver.waitFor((c) => c[`${friend} 5060`] === 100 && c[`${pinger} 5060`] === 100 && c[`${trunk} 5060`] === 100);
      await until(() => reported.length >= 2, 5000, 'two kernel bans reported');
      const banned = await enforcer.lookup(flooder, Date.now());
      assert.equal(banned.banned, true);
      assert.ok(banned.expiresAt && banned.expiresAt > Date.now() + 20_000, `guard ban expires in ~30 s: ${banned.expiresAt}`);
      assert.equal((await enforcer.lookup(inviter, Date.now())).banned, true);
      assert.equal((await enforcer.lookup(friend, Date.now())).banned, false, 'allowlisted source is never metered');
      assert.equal((await enforcer.lookup(pinger, Date.now())).banned, false, 'OPTIONS is not a guarded method');
      assert.equal((await enforcer.lookup(trunk, Date.now())).banned, false, 'a trunk is never metered: a forged flood cannot ban it');
      const counts = receiver.counts();
      assert.ok((counts[`${flooder} 5060`] ?? 0) < 100 && (counts[`${inviter} 5060`] ?? 0) < 100, JSON.stringify(counts));
      // Once banned, nothing more gets through, on any port.
      const before = counts[`${flooder} 5060`] ?? 0;
      sendUdp(link.client, server, 5060, 20, 'OPTIONS sip:pbx SIP/2.0\r\n\r\n', flooder);
      await until(async () => ((await enforcer.lookup(flooder, Date.now())).packets ?? 0) >= 20, 5000, 'guard drops counted');
      assert.equal(receiver.counts()[`${flooder} 5060`] ?? 0, before);
      assert.deepEqual(reported.map((b) => [b.ip, b.set]).sort(), [[flooder, 'guard4'], [inviter, 'guard4']]);
      assert.ok(reported.every((b) => b.expiresAt !== null && b.expiresAt > Date.now()));
    } finally {
      stop.abort();
      await watching;
    }
  });

  it('the watcher survives a missing guard set and stops when aborted', async () => {
    const link = createLink(0);
    links.push(link);
    const stop = new AbortController();
    const seen: KernelBan[] = [];
    const watching = watchKernelBans(link.server.runner, 'sipwarden', (ban) => seen.push(ban), stop.signal, { intervalMs: 20 });
    const enforcer = createNftablesEnforcer({ runner: link.server.runner, guard: GUARD });
    await enforcer.init();
    await link.server.runner.run(['nft', 'add', 'element', 'inet', 'sipwarden', 'guard6', '{ fd99::7 timeout 10s }']);
    await until(() => seen.length === 1, 5000, 'IPv6 guard ban reported');
    assert.deepEqual([seen[0]?.ip, seen[0]?.set], ['fd99::7', 'guard6']);
    stop.abort();
    await watching;
  });
});
