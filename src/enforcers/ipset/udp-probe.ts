import { spawn, type ChildProcess } from 'node:child_process';
import type { Netns } from '../testing/netns.js';

/**
 * Test support: real packets between two namespaces joined by a veth pair, to prove that a ban drops traffic.
 * The sender (an attacker's namespace) sends one UDP datagram per family every 20 ms to a receiver in the
 * protected namespace, which prints the family of every datagram it gets. Addresses exist only inside the
 * namespaces.
 */
export const ATTACKER = { 4: '10.98.7.1', 6: 'fd98:7::1' } as const;
export const SERVER = { 4: '10.98.7.2', 6: 'fd98:7::2' } as const;

const RECEIVER = `
const dgram = require('node:dgram');
for (const [type, address] of [['udp4', '${SERVER[4]}'], ['udp6', '${SERVER[6]}']]) {
  const socket = dgram.createSocket(type);
  socket.on('message', () => process.stdout.write(type === 'udp4' ? '4' : '6'));
  socket.bind(5060, address);
}`;

const SENDER = `
const dgram = require('node:dgram');
const v4 = dgram.createSocket('udp4');
const v6 = dgram.createSocket('udp6');
setInterval(() => {
  v4.send('OPTIONS sip:probe SIP/2.0', 5060, '${SERVER[4]}');
  v6.send('OPTIONS sip:probe SIP/2.0', 5060, '${SERVER[6]}');
}, 20);`;

export class UdpProbe {
  readonly received = { 4: 0, 6: 0 };
  private readonly children: ChildProcess[] = [];

  constructor(private readonly attacker: Netns, private readonly server: Netns) {}

  start(): void {
    this.attacker.exec(['ip', 'link', 'add', 'swa', 'type', 'veth', 'peer', 'name', 'swb', 'netns', this.server.name]);
    for (const [ns, name, address] of [[this.attacker, 'swa', ATTACKER], [this.server, 'swb', SERVER]] as const) {
      ns.exec(['ip', 'addr', 'add', `${address[4]}/24`, 'dev', name]);
      // nodad: the address is usable at once instead of after duplicate detection (about a second).
      ns.exec(['ip', 'addr', 'add', `${address[6]}/64`, 'dev', name, 'nodad']);
      ns.exec(['ip', 'link', 'set', name, 'up']);
    }
    const receiver = this.run(this.server, RECEIVER);
    receiver.stdout?.on('data', (chunk: Buffer) => {
      for (const byte of chunk) {
        if (byte === 52 /* 4 */) this.received[4]++;
        else if (byte === 54 /* 6 */) this.received[6]++;
      }
    });
    this.run(this.attacker, SENDER);
  }

  /** Datagrams per family that arrive during `ms`, counted after `settleMs` for packets in flight. */
  async countDuring(ms: number, settleMs = 100): Promise<{ 4: number; 6: number }> {
    await sleep(settleMs);
    const before = { ...this.received };
    await sleep(ms);
    return { 4: this.received[4] - before[4], 6: this.received[6] - before[6] };
  }

  /** Polls until both families arrive, or throws after `timeoutMs`. */
  async waitForBoth(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const counts = await this.countDuring(200, 0);
      if (counts[4] > 0 && counts[6] > 0) return;
    }
    throw new Error(`traffic did not flow: ${JSON.stringify(this.received)}`);
  }

  stop(): void {
    for (const child of this.children) child.kill('SIGKILL');
  }

  private run(ns: Netns, script: string): ChildProcess {
    const [command, ...args] = ns.prefix as [string, ...string[]];
    const child = spawn(command, [...args, process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    this.children.push(child);
    return child;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
