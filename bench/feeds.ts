import { createIpsetEnforcer } from '../src/enforcers/ipset/index.js';
import { createNftablesEnforcer } from '../src/enforcers/nftables/index.js';
import { createNetns } from '../src/enforcers/testing/netns.js';
import type { Enforcer, FeedSets } from '../src/enforcers/types.js';

/**
 * Feed set figures (issue 8), each backend in a namespace of its own: loading a 100k-entry list, swapping it for
 * another, and (nftables) what one ban costs with that feed loaded, which interval sets would have made 0.6 s.
 */
const SIZE = 100_000;
const seconds = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e9;

function list(firstOctet: number): string[] {
  return Array.from({ length: SIZE }, (_, i) => (i % 10 === 0 ? `${firstOctet + (i >> 16)}.${(i >> 8) & 255}.${i & 255}.0/24` : `${firstOctet + 20 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}.1`));
}

async function measure(name: string, open: (runner: ReturnType<typeof createNetns>['runner']) => Enforcer): Promise<string> {
  const ns = createNetns('swfbench');
  try {
    const enforcer = open(ns.runner);
    await enforcer.init();
    const feeds = enforcer.feeds as FeedSets;
    let start = process.hrtime.bigint();
    await feeds.apply({ feed: 'bench', mode: 'replace', entries: list(11) });
    const load = seconds(start);
    start = process.hrtime.bigint();
    await feeds.apply({ feed: 'bench', mode: 'replace', entries: list(61) });
    const swap = seconds(start);
    start = process.hrtime.bigint();
    await feeds.check();
    const check = seconds(start);
    const bans: number[] = [];
    for (let i = 0; i < 20; i++) {
      start = process.hrtime.bigint();
      await enforcer.apply([{ op: 'ban', target: `198.51.100.${i + 1}`, expiresAt: null }], Date.now());
      bans.push(seconds(start) * 1000);
    }
    await enforcer.close();
    const median = bans.sort((a, b) => a - b)[10] as number;
    return `feed ${SIZE.toLocaleString('en-US')} entries (${name}): load ${load.toFixed(2)} s, atomic replace ${swap.toFixed(2)} s, check ${(check * 1000).toFixed(0)} ms, one ban with the feed loaded: median ${median.toFixed(1)} ms\n`;
  } finally {
    ns.destroy();
  }
}

export async function feedFigures(): Promise<string> {
  return (await measure('nftables', (runner) => createNftablesEnforcer({ runner }))) + (await measure('ipset', (runner) => createIpsetEnforcer({ runner })));
}
