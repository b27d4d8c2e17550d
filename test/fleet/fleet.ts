import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Netns } from '../../src/enforcers/testing/netns.js';
import { startPostgres, type PostgresServer } from '../../src/store/testing/postgres-server.js';
import { startSipwardenIn, type NamespacedDaemon } from '../e2e/sipwarden.js';
import { watchBanSets, type BanSetWatch } from './kernel.js';
import { createFleetNetwork, type FleetNetwork } from './topology.js';

/** One sipwarden node: its namespace and nftables, its own Asterisk log, its config, and a watch on its ban sets. */
export interface FleetNode {
  name: string;
  ns: Netns;
  log: string;
  config: string;
  kernel: BanSetWatch;
  daemon?: NamespacedDaemon;
  /** Appends lines to this node's Asterisk log, as the PBX would write them. */
  write(...lines: string[]): void;
  /** Resolves with the time `target` entered this node's ban sets; on timeout the error carries the node's last log lines. */
  waitForBan(target: string, timeoutMs: number): Promise<number>;
  /** Whether the daemon process is still there (a crash on a lost connection would end it). */
  alive(): boolean;
  /** Starts `sipwarden run` in the node's namespace; resolves once it has enforced the fleet's bans. */
  start(): Promise<NamespacedDaemon>;
}

export interface Fleet {
  network: FleetNetwork;
  server: PostgresServer;
  /** The fleet database, as the nodes reach it (over TCP, with the password). */
  url: string;
  nodes: FleetNode[];
  /** A node with a namespace, a log and a config; not started. */
  addNode(): Promise<FleetNode>;
  destroy(): Promise<void>;
}

export interface FleetOptions {
  /** YAML lines added to every node's config (rules, for instance). */
  extraConfig?: readonly string[];
  /** Keep fsync on (benchmarks). */
  durable?: boolean;
}

/** A UTC timestamp as Asterisk writes it (the nodes' configs say `timezone: UTC`). */
export function asteriskStamp(at = new Date()): string {
  return at.toISOString().slice(0, 19).replace('T', ' ');
}

/** A scanner fingerprint: the default scanner rule bans on one of these. */
export const scannerLine = (ip: string): string => `[${asteriskStamp()}] WARNING[7][C-00000001] Ext. _.: Friendly Scanner from ${ip}\n`;

/** A failed registration: the default bruteforce rule bans on five within a minute. */
export const wrongPasswordLine = (ip: string, account = '1001'): string =>
  `[${asteriskStamp()}] NOTICE[1638] chan_sip.c: Registration from '<sip:${account}@192.0.2.10>' failed for '${ip}:5060' - Wrong password\n`;

/**
 * PostgreSQL in the db namespace and `count` nodes, not yet started (tests start them when they need them).
 * Everything lives in namespaces and a temporary directory the fleet creates; `destroy` removes them all.
 */
export async function createFleet(count: number, options: FleetOptions = {}): Promise<Fleet> {
  const network = createFleetNetwork();
  const dir = mkdtempSync(join(tmpdir(), 'sw-fleet-'));
  const nodes: FleetNode[] = [];
  let server: PostgresServer | undefined;
  const destroy = async (): Promise<void> => {
    await Promise.allSettled(nodes.map((n) => n.daemon?.stop()));
    for (const n of nodes) n.kernel.stop();
    await server?.stop();
    network.destroy();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    server = await startPostgres({ netns: { name: network.db.name, host: network.dbAddress }, durable: options.durable === true });
    const url = await server.createDatabase();
    const addNode = async (): Promise<FleetNode> => {
      const { ns } = network.addNode();
      const name = `pbx${nodes.length + 1}`;
      const log = join(dir, `${name}.log`);
      const config = join(dir, `${name}.yaml`);
      writeFileSync(log, `[${asteriskStamp()}] VERBOSE[1] asterisk.c: Asterisk Ready.\n`);
      writeFileSync(config, [
        `node: ${name}`,
        'timezone: UTC',
        // Each node spools its own writes while PostgreSQL is down; the default path is one per machine.
        `store: { postgres: "${url}", spool: ${join(dir, `${name}-spool.ndjson`)} }`,
        `sources: [{ id: ast, type: file, path: ${log}, format: asterisk, startAt: start }]`,
        'allow: [127.0.0.0/8]',
        // Every test ban comes from a log line, which is spoofable evidence: the default budget would stop them.
        'budget: { spoofable: { max: 100000, per: 1m } }',
        'enforce: { backend: nftables }',
        ...(options.extraConfig ?? []),
        '',
      ].join('\n'));
      const kernel = await watchBanSets(ns);
      const node: FleetNode = {
        name, ns, log, config, kernel,
        write: (...lines) => appendFileSync(log, lines.join('')),
        async waitForBan(target, timeoutMs) {
          try {
            return await kernel.waitForAdd(target, timeoutMs);
          } catch (error) {
            const recent = (node.daemon?.logs ?? []).slice(-20).map((l) => `  ${l.msg}${l['err'] ? ` (${String(l['err'])})` : ''}`);
            const stderr = node.daemon?.stderr().slice(-2000) ?? '';
            throw new Error(`${(error as Error).message}; ${name} logged last:\n${recent.join('\n')}${stderr ? `\nstderr:\n${stderr}` : ''}`);
          }
        },
        alive() {
          if (node.daemon === undefined) return false;
          try {
            process.kill(node.daemon.pid, 0);
            return true;
          } catch {
            return false;
          }
        },
        async start() {
          const daemon = startSipwardenIn(ns, config);
          node.daemon = daemon;
          await daemon.waitForLog(/fleet: enforced every active ban of the fleet/, 30_000);
          return daemon;
        },
      };
      nodes.push(node);
      return node;
    };
    for (let i = 0; i < count; i++) await addNode();
    return { network, server, url, nodes, addNode, destroy };
  } catch (error) {
    await destroy();
    throw error;
  }
}
