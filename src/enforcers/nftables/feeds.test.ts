import { after } from 'node:test';
import { feedContract } from '../feed-contract.js';
import { ATTACKER, UdpProbe } from '../ipset/udp-probe.js';
import { canCreateNetns, createNetns, type Netns } from '../testing/netns.js';
import { createNftablesEnforcer } from './index.js';

const created: Netns[] = [];
after(() => created.forEach((ns) => ns.destroy()));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

feedContract(
  'nftables',
  async (allow) => {
    const server = createNetns('swfs');
    const attacker = createNetns('swfa');
    created.push(server, attacker);
    const probe = new UdpProbe(attacker, server);
    probe.start();
    await probe.waitForBoth();
    const enforcer = createNftablesEnforcer({ runner: server.runner, allow });
    await enforcer.init();
    const names = () => server.exec(['nft', 'list', 'chains', 'inet']) + server.exec(['nft', 'list', 'sets', 'inet']);
    return {
      enforcer,
      reaches: async () => {
        const counts = await probe.countDuring(250);
        return { 4: counts[4] > 0, 6: counts[6] > 0 };
      },
      flush: async (feed) => {
        const set = [...names().matchAll(/set (feed_\S+4_32) /g)].map((m) => m[1] as string).find((name) => name.startsWith(`feed_${feed}_`));
        if (!set) throw new Error(`no set of feed ${feed}`);
        server.exec(['nft', 'flush', 'set', 'inet', 'sipwarden', set]);
      },
      objects: async (text) => [...names().matchAll(/(?:set|chain) (\S+) \{/g)].map((m) => m[1] as string).filter((name) => name.includes(text)),
      elapse: async (ms) => {
        await sleep(ms);
      },
      close: async () => {
        probe.stop();
        await enforcer.close();
      },
    };
  },
  { source: ATTACKER, skip: canCreateNetns() ? undefined : 'needs root and `ip netns` (network namespaces)' },
);
