import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { commandRunner, type CommandRunner } from '../exec.js';
import { createNetns, type Netns } from '../testing/netns.js';

/**
 * Test and bench helpers: two namespaces joined by a veth pair (addresses exist only inside them), UDP
 * senders and receivers run inside a namespace, and a runner that enters a fresh user + network namespace.
 */

export interface Link {
  /** The protected host: 10.99.<n>.1 and fd99:<n>::1. */
  server: Netns;
  /** The other side: 10.99.<n>.2 (and .3, .4 as extra sources) and fd99:<n>::2. */
  client: Netns;
  net: number;
  destroy(): void;
}

let nextNet = 0;

export function createLink(extraClientAddresses = 2): Link {
  const net = (process.pid + nextNet++) % 250;
  const server = createNetns('swsrv');
  const client = createNetns('swcli');
  const ifs = `swv${net}${Math.floor(Math.random() * 1e4)}`.slice(0, 12);
  try {
    execFileSync('ip', ['link', 'add', `${ifs}a`, 'netns', server.name, 'type', 'veth', 'peer', 'name', `${ifs}b`, 'netns', client.name]);
    server.exec(['ip', 'addr', 'add', `10.99.${net}.1/24`, 'dev', `${ifs}a`]);
    server.exec(['ip', '-6', 'addr', 'add', `fd99:${net}::1/64`, 'dev', `${ifs}a`, 'nodad']);
    client.exec(['ip', 'addr', 'add', `10.99.${net}.2/24`, 'dev', `${ifs}b`]);
    for (let i = 0; i < extraClientAddresses; i++) client.exec(['ip', 'addr', 'add', `10.99.${net}.${3 + i}/24`, 'dev', `${ifs}b`]);
    client.exec(['ip', '-6', 'addr', 'add', `fd99:${net}::2/64`, 'dev', `${ifs}b`, 'nodad']);
    server.exec(['ip', 'link', 'set', `${ifs}a`, 'up']);
    client.exec(['ip', 'link', 'set', `${ifs}b`, 'up']);
  } catch (error) {
    server.destroy();
    client.destroy();
    throw error;
  }
  return { server, client, net, destroy: () => (server.destroy(), client.destroy()) };
}

const SENDER = `
const dgram = require('node:dgram');
const [host, port, count, payload, from] = process.argv.slice(1);
const s = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
s.bind({ address: from || undefined }, async () => {
  const data = Buffer.from(payload);
  for (let i = 0; i < Number(count); i++) await new Promise((r) => s.send(data, Number(port), host, r));
  s.close();
});`;

/** Sends `count` UDP datagrams from inside `ns` (optionally from a given source address). */
export function sendUdp(ns: Netns, host: string, port: number, count: number, payload: string, from = ''): void {
  execFileSync(ns.prefix[0] as string, [...ns.prefix.slice(1), process.execPath, '-e', SENDER, host, String(port), String(count), payload, from]);
}

const RECEIVER = `
const dgram = require('node:dgram');
const counts = {};
let open = 0;
let changed = false;
// Printing per datagram would make the receiver the bottleneck; report at most every 10 ms.
setInterval(() => { if (changed) { changed = false; console.log(JSON.stringify(counts)); } }, 10);
for (const arg of process.argv.slice(1)) {
  const [family, port] = arg.split(':');
  const s = dgram.createSocket(family === '6' ? { type: 'udp6', ipv6Only: true } : 'udp4');
  s.on('message', (_m, r) => { const k = r.address + ' ' + port; counts[k] = (counts[k] || 0) + 1; changed = true; });
  s.bind(Number(port), () => { if (++open === process.argv.length - 1) console.log('{}'); });
}`;

export interface Receiver {
  /** Datagrams received so far, keyed by `source port`. */
  counts(): Record<string, number>;
  waitFor(predicate: (counts: Record<string, number>) => boolean, timeoutMs?: number): Promise<void>;
  stop(): void;
}

/** A UDP receiver inside `ns` on the given ports (IPv4 and IPv6). */
export async function startReceiver(ns: Netns, ports: number[]): Promise<Receiver> {
  const args = ports.flatMap((p) => [`4:${p}`, `6:${p}`]);
  const child: ChildProcess = spawn(ns.prefix[0] as string, [...ns.prefix.slice(1), process.execPath, '-e', RECEIVER, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let latest: Record<string, number> = {};
  let ready = false;
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
    latest = JSON.parse(line) as Record<string, number>;
    ready = true;
  });
  const receiver: Receiver = {
    counts: () => latest,
    async waitFor(predicate, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(latest)) {
        if (Date.now() > deadline) throw new Error(`receiver: condition not met within ${timeoutMs} ms; counts ${JSON.stringify(latest)}`);
        await sleep(10);
      }
    },
    stop: () => void child.kill('SIGKILL'),
  };
  await receiver.waitFor(() => ready);
  return receiver;
}

/** Polls `check` until it returns true (deterministic waits without blind sleeps). */
export async function until(check: () => Promise<boolean> | boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} not reached within ${timeoutMs} ms`);
    await sleep(20);
  }
}

/**
 * A fresh user + network namespace (`unshare -U -r -n`), held open by a sleeping process, and a runner that
 * enters it with nsenter. Inside, nft has CAP_NET_ADMIN only in the new user namespace, so it cannot force
 * larger netlink buffers: the same limits as sipwarden running in a rootless container.
 */
export async function createUserNetns(): Promise<{ runner: CommandRunner; destroy(): Promise<void> }> {
  const holder = spawn('unshare', ['-U', '-r', '-n', 'sleep', 'infinity'], { stdio: 'ignore' });
  const pid = String(holder.pid);
  await until(() => {
    try {
      return execFileSync('readlink', [`/proc/${pid}/ns/user`], { encoding: 'utf8' }).trim() !== execFileSync('readlink', ['/proc/self/ns/user'], { encoding: 'utf8' }).trim();
    } catch {
      return false;
    }
  }, 5000, 'user namespace');
  return {
    runner: commandRunner(['nsenter', '-t', pid, '-U', '-n', '--preserve-credentials']),
    async destroy() {
      holder.kill('SIGKILL');
      if (holder.exitCode === null) await once(holder, 'exit');
    },
  };
}
