import assert from 'node:assert/strict';
import { normalizeIp } from '../../core/ip.js';
import { after, describe, it } from 'node:test';
import { canCreateNetns } from '../testing/netns.js';
import { createNftablesEnforcer } from './index.js';
import { createLink, sendUdp, startReceiver, until, type Link, type Receiver } from './testing.js';

/** Real packets over a veth pair: what a ban drops, and what it lets through. */
const skip = canCreateNetns() ? false : 'needs root and `ip netns` (network namespaces)';
const links: Link[] = [];
const receivers: Receiver[] = [];
after(() => {
  receivers.forEach((r) => r.stop());
  links.forEach((l) => l.destroy());
});

async function setup(scope: 'all-ports' | 'sip-ports') {
  const link = createLink();
  links.push(link);
  const enforcer = createNftablesEnforcer({ runner: link.server.runner, scope });
  await enforcer.init();
  const receiver = await startReceiver(link.server, [5060, 9999]);
  receivers.push(receiver);
  const n = link.net;
  return { link, enforcer, receiver, server: `10.99.${n}.1`, server6: v6(`fd99:${n}::1`), attacker: `10.99.${n}.2`, attacker6: v6(`fd99:${n}::2`), other: `10.99.${n}.3` };
}

/** The canonical spelling (subnet 0 gives `fd99:0::2`, which the receiver reports as `fd99::2`). */
const v6 = (address: string): string => normalizeIp(address) ?? address;

describe('nftables bans on real packets', { skip }, () => {
  it('scope all-ports: every packet from a banned source is dropped and counted; others pass', async () => {
    const { link, enforcer, receiver, server, server6, attacker, attacker6, other } = await setup('all-ports');
    // Neighbour discovery first: once banned, the source's own ICMPv6 solicitations are dropped too.
    sendUdp(link.client, server6, 5060, 1, 'before the ban', attacker6);
    await receiver.waitFor((c) => c[`${attacker6} 5060`] === 1);
    const now = Date.now();
    await enforcer.apply([{ op: 'ban', target: attacker, expiresAt: now + 60_000 }, { op: 'ban', target: attacker6, expiresAt: null }], now);
    sendUdp(link.client, server, 5060, 20, 'REGISTER sip:x SIP/2.0', attacker);
    sendUdp(link.client, server, 9999, 20, 'hello', attacker);
    sendUdp(link.client, server6, 5060, 10, 'REGISTER sip:x SIP/2.0', attacker6);
    sendUdp(link.client, server, 5060, 20, 'REGISTER sip:x SIP/2.0', other);
    await until(async () => (await enforcer.lookup(attacker, Date.now())).packets === 40, 5000, 'drop counter at 40');
    await until(async () => ((await enforcer.lookup(attacker6, Date.now())).packets ?? 0) >= 10, 5000, 'IPv6 drop counter at 10');
    await receiver.waitFor((c) => c[`${other} 5060`] === 20);
    const counts = receiver.counts();
    assert.equal(counts[`${attacker} 5060`], undefined);
    assert.equal(counts[`${attacker} 9999`], undefined);
    assert.equal(counts[`${attacker6} 5060`], 1);
    assert.equal((await enforcer.lookup(other, Date.now())).banned, false);
  });

  it('scope sip-ports: a banned source still reaches other ports', async () => {
    const { link, enforcer, receiver, server, attacker } = await setup('sip-ports');
    const now = Date.now();
    await enforcer.apply([{ op: 'ban', target: `${attacker.slice(0, attacker.lastIndexOf('.'))}.0/30`, expiresAt: now + 60_000 }], now);
    sendUdp(link.client, server, 5060, 15, 'INVITE sip:x SIP/2.0', attacker);
    sendUdp(link.client, server, 9999, 15, 'hello', attacker);
    await receiver.waitFor((c) => c[`${attacker} 9999`] === 15);
    await until(async () => (await enforcer.lookup(attacker, Date.now())).packets === 15, 5000, 'prefix drop counter at 15');
    assert.equal(receiver.counts()[`${attacker} 5060`], undefined);
  });

  it('an unban lets the source through again', async () => {
    const { link, enforcer, receiver, server, attacker } = await setup('all-ports');
    const now = Date.now();
    await enforcer.apply([{ op: 'ban', target: attacker, expiresAt: null }], now);
    await enforcer.apply([{ op: 'unban', target: attacker }], now);
    sendUdp(link.client, server, 5060, 10, 'OPTIONS sip:x SIP/2.0', attacker);
    await receiver.waitFor((c) => c[`${attacker} 5060`] === 10);
  });
});
