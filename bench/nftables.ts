import { createNetns } from '../src/enforcers/testing/netns.js';
import { createNftablesEnforcer } from '../src/enforcers/nftables/index.js';
import { createLink, sendUdp, startReceiver } from '../src/enforcers/nftables/testing.js';
import type { BanEntry } from '../src/enforcers/types.js';

/**
 * Kernel figures for the nftables enforcer, each inside namespaces of its own (never the host's ruleset).
 * Addresses are synthetic (11.x.y.z upwards); nothing is sent outside the namespaces.
 */

const HOUR = 3_600_000;
const address = (i: number) => `${11 + (i >>> 16)}.${(i >>> 8) & 255}.${i & 255}.${1 + ((i >>> 24) & 7)}`;
const bans = (n: number, now: number, offset = 0): BanEntry[] => Array.from({ length: n }, (_, i) => ({ target: address(offset + i), expiresAt: now + HOUR }));
const seconds = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e9;

/** Sustained apply() of `n` bans in batches of `batch` (each ban a delete + add with its timeout). */
export async function bansPerSecond(n: number, batch = 1000): Promise<number> {
  const ns = createNetns('swbench');
  try {
    const enforcer = createNftablesEnforcer({ runner: ns.runner });
    await enforcer.init();
    const now = Date.now();
    const all = bans(n, now);
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i += batch) await enforcer.apply(all.slice(i, i + batch).map((b) => ({ op: 'ban', ...b })), now);
    return n / seconds(start);
  } finally {
    ns.destroy();
  }
}

/** reconcile() of `n` active bans into an empty table (start-up restore), in seconds. */
export async function restoreSeconds(n: number): Promise<number> {
  const ns = createNetns('swbench');
  try {
    const enforcer = createNftablesEnforcer({ runner: ns.runner });
    await enforcer.init();
    const now = Date.now();
    const active = bans(n, now);
    const start = process.hrtime.bigint();
    await enforcer.reconcile(active, now);
    return seconds(start);
  } finally {
    ns.destroy();
  }
}

/** verify() with an empty table and with `n` bans, in milliseconds (the budget: it does not grow). */
export async function verifyMillis(n = 200_000): Promise<{ empty: number; loaded: number; bans: number }> {
  const ns = createNetns('swbench');
  try {
    const enforcer = createNftablesEnforcer({ runner: ns.runner });
    await enforcer.init();
    const time = async () => {
      const start = process.hrtime.bigint();
      await enforcer.verify();
      return seconds(start) * 1000;
    };
    const empty = Math.min(await time(), await time(), await time());
    const now = Date.now();
    await enforcer.reconcile(bans(n, now), now);
    const loaded = Math.min(await time(), await time(), await time());
    return { empty, loaded, bans: n };
  } finally {
    ns.destroy();
  }
}

/**
 * A UDP stream from an unbanned source through a veth pair into the protected namespace, with 0 and then
 * with `n` bans in the set: packets received per second of sending. Flat means the ban set costs nothing per
 * packet. The sender is a single process, so the figure is bounded by it as much as by the kernel.
 */
export async function perPacketCost(n = 1_000_000, packets = 200_000): Promise<{ bans: number; emptyPps: number; loadedPps: number; ratio: number }> {
  const link = createLink(0);
  try {
    const enforcer = createNftablesEnforcer({ runner: link.server.runner });
    await enforcer.init();
    const receiver = await startReceiver(link.server, [5060]);
    const host = `10.99.${link.net}.1`;
    let received = 0;
    const stream = async () => {
      const start = process.hrtime.bigint();
      sendUdp(link.client, host, 5060, packets, 'OPTIONS sip:bench SIP/2.0\r\n\r\n');
      const elapsed = seconds(start);
      await receiver.waitFor((c) => Object.values(c).reduce((a, b) => a + b, 0) >= received + packets * 0.9, 20_000).catch(() => undefined);
      const now = Object.values(receiver.counts()).reduce((a, b) => a + b, 0);
      const pps = (now - received) / elapsed;
      received = now;
      return pps;
    };
    await stream();
    const emptyPps = await stream();
    const now = Date.now();
    await enforcer.reconcile(bans(n, now), now);
    const loadedPps = await stream();
    receiver.stop();
    return { bans: n, emptyPps: Math.round(emptyPps), loadedPps: Math.round(loadedPps), ratio: loadedPps / emptyPps };
  } finally {
    link.destroy();
  }
}
