import { spawnSync } from 'node:child_process';
import { sipwardenCli } from '../test/e2e/sipwarden.js';
import { postgresSkipReason } from '../src/store/testing/postgres-server.js';
import { createFleet, scannerLine, type FleetNode } from '../test/fleet/fleet.js';

export interface Propagation {
  /** Bans made, spread evenly over the writing nodes' logs. */
  bans: number;
  writers: number;
  /** Until the writers' own kernels held their bans. */
  localSeconds: number;
  /** Until the writers had stored every decision in PostgreSQL (they log each one once it is stored). */
  storedSeconds: number;
  /** Until every node's kernel held all of them. */
  fleetSeconds: number;
  perSecond: number;
}

export interface FleetFigures {
  propagated: Propagation[];
  /** A node joining a fleet with `bans` active bans: until its kernel holds them all, and until its resync ends. */
  join: { bans: number; kernelSeconds: number; resyncSeconds: number };
}

const seconds = (from: number, to: number): number => (to - from) / 1000;
const OWN_BAN = /^banned [0-9.]+: /;

/** Elements in the node's IPv4 ban set, from one full JSON listing (seconds at 100k: only after the timing). */
function countBanElements(node: FleetNode): number {
  const listing = spawnSync(node.ns.prefix[0] as string, [...node.ns.prefix.slice(1), 'nft', '-j', 'list', 'set', 'inet', 'sipwarden', 'ban4'], {
    encoding: 'utf8', maxBuffer: 1 << 30,
  });
  if (listing.status !== 0) throw new Error(`nft list set failed (${listing.status}): ${listing.stderr}`);
  const set = (JSON.parse(listing.stdout) as { nftables: { set?: { elem?: unknown[] } }[] }).nftables.find((o) => o.set)?.set;
  return set?.elem?.length ?? 0;
}

/** Resolves with the time `node` has logged `count` of its own bans (it logs a decision once it is stored). */
async function storedAll(node: FleetNode, count: number): Promise<number> {
  const deadline = performance.now() + 120_000;
  while ((node.daemon?.logs.filter((l) => OWN_BAN.test(l.msg)).length ?? 0) < count) {
    if (performance.now() > deadline) throw new Error(`${node.name} did not store its ${count} bans within 120 s`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return performance.now();
}

/**
 * The first `writers` nodes see `bans` scanners in one burst of their logs (split evenly); the rate counts
 * until the last ban is in every node's kernel.
 */
async function propagationRate(bans: number, writers: 1 | 3): Promise<Propagation> {
  const fleet = await createFleet(3, { durable: true });
  try {
    await Promise.all(fleet.nodes.map((n) => n.start()));
    const share = Math.ceil(bans / writers);
    const writing = fleet.nodes.slice(0, writers);
    const start = performance.now();
    writing.forEach((node, w) => {
      const count = Math.min(share, bans - w * share);
      node.write(...Array.from({ length: count }, (_, j) => scannerLine(`198.${18 + w}.${j >> 7}.${(j & 127) + 1}`)));
    });
    const counts = writing.map((_, w) => Math.min(share, bans - w * share));
    const local = Math.max(...(await Promise.all(writing.map((n, w) => n.kernel.waitForCount(counts[w] as number, 120_000)))));
    const stored = Math.max(...(await Promise.all(writing.map((n, w) => storedAll(n, counts[w] as number)))));
    const everywhere = Math.max(...(await Promise.all(fleet.nodes.map((n) => n.kernel.waitForCount(bans, 120_000)))));
    const fleetSeconds = seconds(start, everywhere);
    return { bans, writers, localSeconds: seconds(start, local), storedSeconds: seconds(start, stored), fleetSeconds, perSecond: bans / fleetSeconds };
  } finally {
    await fleet.destroy();
  }
}

/**
 * `bans` active bans written straight into PostgreSQL (one INSERT, no notifications: as if other nodes made
 * them over time), then a node starts: its start-up restore and the fleet resync put them all in its kernel.
 */
async function joinReconcile(bans: number): Promise<FleetFigures['join']> {
  const fleet = await createFleet(1, { durable: true });
  try {
    const node = fleet.nodes[0] as FleetNode;
    // The CLI opens the store, which creates the schema; the daemon is not running yet.
    await sipwardenCli(['list', '--json'], node.config, node.ns);
    const database = new URL(fleet.url).pathname.slice(1);
    const now = Date.now();
    await fleet.server.query(
      `INSERT INTO decisions (at, target, target_type, net, action, origin, reason, actor, duration_ms, expires_at, level, evidence,
         event_count, policy, dry_run, sensor)
       SELECT $1::bigint, t, 'ip', t::cidr, 'ban', 'manual', 'bench: seen elsewhere in the fleet', 'bench', 3600000, $1::bigint + 3600000, 0, 'verified',
         0, '[]', false, 'pbx-elsewhere/bench'
       FROM (SELECT format('%s.%s.%s.7', 11 + (i >> 16), (i >> 8) & 255, i & 255) AS t FROM generate_series(0, $2::integer - 1) AS i) AS targets`,
      [now, bans],
      database,
    );
    // nft monitor formats about 15k elements a second and would compete with the daemon for the two cores.
    node.kernel.stop();
    const start = performance.now();
    const starting = node.start();
    // start() launched the daemon before its first await. The start-up restore reconciles the kernel with
    // PostgreSQL's active bans before it logs this line.
    await node.daemon?.waitForLog(/state restored/, 300_000);
    const restored = performance.now();
    await starting;
    const resync = performance.now();
    const inKernel = countBanElements(node);
    if (inKernel !== bans) throw new Error(`the joining node's kernel holds ${inKernel} of ${bans} bans`);
    return { bans, kernelSeconds: seconds(start, restored), resyncSeconds: seconds(start, resync) };
  } finally {
    await fleet.destroy();
  }
}

/**
 * Fleet figures on real parts: three `sipwarden run` nodes in their own network namespaces with nftables, and
 * a PostgreSQL (fsync on) in a namespace of its own, reached over veth links. Kernel adds are stamped by
 * `nft monitor` in each node's namespace.
 * Needs root and network namespaces (the caller checks) and the postgresql package (checked here).
 */
export async function fleetFigures(options: { propagate?: number; join?: number } = {}): Promise<FleetFigures | { skipped: string }> {
  const skipped = postgresSkipReason();
  if (skipped !== undefined) return { skipped };
  const bans = options.propagate ?? 3000;
  const propagated = [await propagationRate(bans, 1), await propagationRate(bans, 3)];
  return { propagated, join: await joinReconcile(options.join ?? 100_000) };
}

export function formatFleetFigures(f: FleetFigures | { skipped: string }): string {
  if ('skipped' in f) return `fleet benchmarks: skipped (${f.skipped})\n`;
  const n = (x: number): string => Math.round(x).toLocaleString('en-US');
  const lines = f.propagated.map((p) =>
    `fleet of 3 nodes (nftables each, PostgreSQL fsync on), ${n(p.bans)} scanner bans from the log${p.writers === 1 ? ' of node 1' : 's of all 3 nodes'}: in the writers' kernels after ${p.localSeconds.toFixed(2)} s, stored after ${p.storedSeconds.toFixed(2)} s, in every kernel after ${p.fleetSeconds.toFixed(2)} s = ${n(p.perSecond)} decisions/s propagated`);
  const j = f.join;
  lines.push(`node joining a fleet with ${n(j.bans)} active bans: all in its kernel after ${j.kernelSeconds.toFixed(2)} s (start-up restore), fleet resync done after ${j.resyncSeconds.toFixed(2)} s (from the process start)`);
  return `${lines.join('\n')}\n`;
}
