import { after } from 'node:test';
import { feedContract } from '../feed-contract.js';
import { NetnsPool } from '../iptables/netns-pool.js';
import { createIpsetEnforcer } from './index.js';
import { feedSetName } from './feeds.js';
import { ATTACKER, UdpProbe } from './udp-probe.js';

const skip = NetnsPool.skipReason();
const pool = new NetnsPool('sw-ipf');
after(() => pool.destroyAll());
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

feedContract(
  'ipset',
  async (allow) => {
    const attacker = pool.open();
    const server = pool.open();
    const probe = new UdpProbe(attacker, server);
    probe.start();
    await probe.waitForBoth();
    const enforcer = createIpsetEnforcer({ runner: server.runner, allow });
    await enforcer.init();
    return {
      enforcer,
      reaches: async () => {
        const counts = await probe.countDuring(250);
        return { 4: counts[4] > 0, 6: counts[6] > 0 };
      },
      flush: async (feed) => void server.exec(['ipset', 'flush', feedSetName(feed, 4)]),
      objects: async (text) => {
        const names = server.exec(['ipset', 'list', '-n']).split('\n').filter((name) => name.includes(text));
        const rules = (server.exec(['iptables', '-S']) + server.exec(['ip6tables', '-S'])).split('\n').filter((rule) => rule.includes(text));
        return [...names, ...rules];
      },
      elapse: async (ms) => {
        await sleep(ms);
      },
      close: async () => {
        probe.stop();
        await enforcer.close();
      },
    };
  },
  { source: ATTACKER, skip },
);
