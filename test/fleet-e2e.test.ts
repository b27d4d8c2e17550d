import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { canCreateNetns } from '../src/enforcers/testing/netns.js';
import { postgresSkipReason } from '../src/store/testing/postgres-server.js';
import { banElement, sipwardenCli } from './e2e/sipwarden.js';
import { labUnavailable } from './e2e/topology.js';
import { createFleet, scannerLine, wrongPasswordLine, type Fleet, type FleetNode } from './fleet/fleet.js';
import { quantile } from './fleet/kernel.js';

const skip = postgresSkipReason() ?? labUnavailable([]) ?? (canCreateNetns() ? undefined : 'cannot create network namespaces');

/** The local rules these tests use, and a fleet-wide one that adds up every node's failures. */
const RULES = [
  'rules:',
  '  bruteforce: { on: [auth-failure], threshold: 5, window: 1m, ban: 1h }',
  '  scanner: { on: [scanner], threshold: 1, ban: 7d }',
  '  spread: { on: [auth-failure], threshold: 10, window: 10m, ban: 1h, scope: fleet }',
];

/** The set a target lives in: addresses in ban4, prefixes in the interval set bannet4. */
const inKernel = async (node: FleetNode, target: string): Promise<boolean> =>
  (await banElement(node.ns, target, 'sipwarden', target.includes('/') ? 'bannet4' : 'ban4')) !== null;

/** The fleet's active bans, as any node's CLI lists them from PostgreSQL. */
async function activeTargets(node: FleetNode): Promise<string[]> {
  return (JSON.parse(await sipwardenCli(['list', '--json'], node.config, node.ns)) as { target: string }[]).map((d) => d.target).sort();
}

/**
 * Three sipwarden nodes, each in its own network namespace with its own nftables, sharing one real PostgreSQL
 * that listens in a namespace of its own. Bans are watched in the kernels (nft monitor, nft get element), never
 * taken from the daemons' word.
 */
describe('fleet end to end: three nodes, real nftables, one PostgreSQL', { skip: skip ?? false }, () => {
  let fleet: Fleet;
  let nodes: [FleetNode, FleetNode, FleetNode];

  before(async () => {
    fleet = await createFleet(3, { extraConfig: RULES });
    nodes = fleet.nodes as [FleetNode, FleetNode, FleetNode];
    await Promise.all(nodes.map((n) => n.start()));
  });
  after(async () => {
    await fleet?.destroy();
  });

  it('a rule ban on node 1 is in the kernels of nodes 2 and 3 within a second (p50/p99 over 20 bans)', async (t) => {
    const [one, ...others] = nodes;
    const propagation: number[] = [];
    const local: number[] = [];
    for (let i = 0; i < 20; i++) {
      const ip = `198.18.7.${i + 1}`;
      const written = performance.now();
      one.write(scannerLine(ip));
      const enforced = await one.waitForBan(ip, 5000);
      local.push(enforced - written);
      for (const other of others) propagation.push((await other.waitForBan(ip, 2000)) - enforced);
    }
    for (const other of others) assert.ok(await inKernel(other, '198.18.7.20'), `${other.name} holds the last ban`);
    const max = Math.max(...propagation);
    t.diagnostic(`node 1 kernel -> nodes 2 and 3 kernels, ${propagation.length} samples: p50 ${quantile(propagation, 0.5).toFixed(1)} ms, p99 ${quantile(propagation, 0.99).toFixed(1)} ms, max ${max.toFixed(1)} ms`);
    t.diagnostic(`log line -> node 1 kernel: p50 ${quantile(local, 0.5).toFixed(1)} ms, p99 ${quantile(local, 0.99).toFixed(1)} ms`);
    assert.ok(max < 1000, `every ban within 1 s of node 1's: max ${max.toFixed(1)} ms`);
  });

  it('a brute force on node 2 and a CLI ban of a prefix on node 3 are enforced on every node', async () => {
    nodes[1].write(...Array.from({ length: 5 }, () => wrongPasswordLine('203.0.113.77')));
    await sipwardenCli(['ban', '198.51.100.0/24', '--for', '1h', '--reason', 'seen at the SBC'], nodes[2].config, nodes[2].ns);
    for (const node of nodes) {
      await node.waitForBan('203.0.113.77', 3000);
      await node.waitForBan('198.51.100.0/24', 3000);
    }
  });

  it('a brute force spread over the fleet, 4 attempts on each node (below the local 5), is banned fleet-wide', async () => {
    const attacker = '203.0.113.50';
    const quiet = '203.0.113.51';
    for (const node of nodes) {
      node.write(
        ...Array.from({ length: 4 }, (_, i) => wrongPasswordLine(attacker, `10${i}`)),
        ...Array.from({ length: 3 }, (_, i) => wrongPasswordLine(quiet, `20${i}`)),
      );
    }
    // Nodes send their counts every 500 ms; one of them decides, and the decision watch brings it to the others.
    for (const node of nodes) await node.waitForBan(attacker, 5000);
    const decisions = JSON.parse(await sipwardenCli(['list', '--json'], nodes[0].config, nodes[0].ns)) as { target: string; rule?: string }[];
    assert.deepEqual(decisions.filter((d) => d.target === attacker).map((d) => d.rule), ['spread'], 'one ban, by the fleet rule');
    // Two more count flushes: 9 attempts from the quiet address stay below the fleet's 10 however they add up.
    await new Promise((r) => setTimeout(r, 1200));
    for (const node of nodes) assert.equal(node.kernel.addedAt(quiet), undefined, `${node.name} never banned the quiet address`);
  });

  it('killing PostgreSQL loses nothing: nodes enforce locally meanwhile, and the others get those bans once it is back', async () => {
    const before = await activeTargets(nodes[0]);
    await fleet.server.kill();
    nodes[0].write(scannerLine('198.18.9.1'));
    nodes[2].write(...Array.from({ length: 5 }, () => wrongPasswordLine('198.18.9.2')));
    await nodes[0].waitForBan('198.18.9.1', 3000);
    await nodes[2].waitForBan('198.18.9.2', 3000);
    await fleet.server.restart();
    for (const node of nodes) {
      // The watch retries with a backoff of at most 5 s, then resyncs; the spool replays the outage's decisions.
      await node.waitForBan('198.18.9.1', 15_000);
      await node.waitForBan('198.18.9.2', 15_000);
    }
    assert.deepEqual(await activeTargets(nodes[1]), [...before, '198.18.9.1', '198.18.9.2'].sort(), 'both outage bans are stored once, nothing else changed');
    for (const node of nodes) assert.ok(node.alive(), `${node.name} survived the outage: ${node.daemon?.stderr()}`);
  });

  it('a node that joins later has every active ban of the fleet in its kernel', async () => {
    const active = await activeTargets(nodes[0]);
    assert.ok(active.length >= 22, `the bans of the earlier cases: ${active.length}`);
    const late = await fleet.addNode();
    const daemon = await late.start();
    const resync = daemon.logs.find((l) => /fleet: enforced every active ban/.test(l.msg));
    assert.equal(resync?.['bans'], active.length);
    const missing = [];
    for (const target of active) if (!(await inKernel(late, target))) missing.push(target);
    assert.deepEqual(missing, [], 'every active ban is in the late node\'s kernel');
  });
});
