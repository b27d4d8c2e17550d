import { createNetns } from '../src/enforcers/testing/netns.js';
import { createNftablesEnforcer } from '../src/enforcers/nftables/index.js';
import type { BanEntry } from '../src/enforcers/types.js';

const HOUR = 3_600_000;
const address = (i: number) => `${11 + (i >>> 16)}.${(i >>> 8) & 255}.${i & 255}.${1 + ((i >>> 24) & 7)}`;

/** One ban at a time (the daemon's usual case) with `loaded` bans already in the kernel set: median and p99 ms. */
export async function singleBanMillis(loaded: number, samples = 50): Promise<{ p50: number; p99: number }> {
  const ns = createNetns('swbench');
  try {
    const enforcer = createNftablesEnforcer({ runner: ns.runner });
    await enforcer.init();
    const now = Date.now();
    const active: BanEntry[] = Array.from({ length: loaded }, (_, i) => ({ target: address(i), expiresAt: now + HOUR }));
    await enforcer.reconcile(active, now);
    const times: number[] = [];
    for (let i = 0; i < samples; i++) {
      const start = process.hrtime.bigint();
      await enforcer.apply([{ op: 'ban', target: address(loaded + i), expiresAt: now + HOUR }], now);
      times.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
    times.sort((a, b) => a - b);
    await enforcer.close();
    return { p50: times[Math.floor(times.length / 2)]!, p99: times[Math.min(times.length - 1, Math.floor(times.length * 0.99))]! };
  } finally {
    ns.destroy();
  }
}
