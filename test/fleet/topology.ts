import { createNetns, type Netns } from '../../src/enforcers/testing/netns.js';

/**
 * The fleet's network: a `db` namespace holding a bridge, and one namespace per node with a veth link to it.
 *
 *   node 1 10.98.0.11 ──veth──┐
 *   node 2 10.98.0.12 ──veth──┼── bridge fleet0 10.98.0.1 (PostgreSQL listens here), namespace db
 *   node 3 10.98.0.13 ──veth──┘
 *
 * Every node reaches PostgreSQL over TCP as it would across a carrier's network, and each has its own nftables
 * ruleset. Every interface is created inside a namespace with its peer moved at once: none ever exists on the host.
 */
export interface FleetNetwork {
  db: Netns;
  /** PostgreSQL's address, on the bridge in the db namespace. */
  dbAddress: string;
  /** A new node namespace linked to the bridge, with the next address (10.98.0.11, .12, ...). */
  addNode(): { ns: Netns; address: string };
  destroy(): void;
}

const SUBNET = '10.98.0';

export function createFleetNetwork(): FleetNetwork {
  const created: Netns[] = [];
  const destroy = (): void => {
    for (const ns of created.reverse()) ns.destroy();
  };
  try {
    const db = createNetns('sw-fdb');
    created.push(db);
    db.exec(['ip', 'link', 'add', 'fleet0', 'type', 'bridge']);
    db.exec(['ip', 'addr', 'add', `${SUBNET}.1/24`, 'dev', 'fleet0']);
    db.exec(['ip', 'link', 'set', 'fleet0', 'up']);
    let nodes = 0;
    return {
      db,
      dbAddress: `${SUBNET}.1`,
      addNode() {
        const index = ++nodes;
        const ns = createNetns('sw-fnode');
        created.push(ns);
        const port = `node${index}`;
        const address = `${SUBNET}.${10 + index}`;
        ns.exec(['ip', 'link', 'add', 'to-db', 'type', 'veth', 'peer', 'name', port, 'netns', db.name]);
        ns.exec(['ip', 'addr', 'add', `${address}/24`, 'dev', 'to-db']);
        ns.exec(['ip', 'link', 'set', 'to-db', 'up']);
        db.exec(['ip', 'link', 'set', port, 'master', 'fleet0']);
        db.exec(['ip', 'link', 'set', port, 'up']);
        return { ns, address };
      },
      destroy,
    };
  } catch (error) {
    destroy();
    throw error;
  }
}
