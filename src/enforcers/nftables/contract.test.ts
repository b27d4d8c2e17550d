import { after } from 'node:test';
import { enforcerContract } from '../contract.js';
import { canCreateNetns, createNetns, type Netns } from '../testing/netns.js';
import { createNftablesEnforcer } from './index.js';

const created: Netns[] = [];
let current: Netns | undefined;
after(() => created.forEach((ns) => ns.destroy()));

enforcerContract(
  'nftables',
  async () => {
    current = createNetns('swnft');
    created.push(current);
    return createNftablesEnforcer({ runner: current.runner });
  },
  {
    sabotage: async () => void (await current?.runner.run(['nft', 'flush', 'ruleset'])),
    skip: canCreateNetns() ? undefined : 'needs root and `ip netns` (network namespaces)',
  },
);
