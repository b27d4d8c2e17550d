import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';
import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import type { SecurityEvent } from '../core/event.js';
import type { ListenAddress } from '../core/listen.js';
import { swError } from '../core/errors.js';
import { parseSipMessage } from '../parsers/sip/message.js';
import { SipStreamDecoder } from '../parsers/sip/stream.js';
import type { HoneypotHit, HoneypotSuppressed, HotlistSighting } from '../store/types.js';
import type { HoneypotCore, HoneypotOutput } from './core.js';

/**
 * The honeypot's sockets: UDP and TCP listeners that feed each request to the core and send the core's answer
 * back to where the packet came from (the datagram's source, or the same TCP connection). They send nothing
 * else, to no one else: no request of their own, no forwarding, no answer to a Via, Contact or URI address.
 *
 * Contract (as the syslog listener's): `batches(signal)` binds at once and yields what arrived since the last
 * batch; it ends without throwing when `signal` aborts, closing every socket first; it throws SW_ERR_SOURCE
 * when a socket cannot be bound or fails, and never retries (the supervisor does). Bad input never ends it.
 */

export { parseListen, type ListenAddress } from '../core/listen.js';

export interface HoneypotServerOptions {
  listen: readonly ListenAddress[];
  core: HoneypotCore;
  /** TCP connections open at once; later ones are closed on arrival. */
  maxConnections: number;
  /** TCP connections from one address at once (default 16), so one source cannot take every slot. */
  maxConnectionsPerSource?: number;
  /** A TCP connection silent this long is closed (default 60 s). */
  idleTimeoutMs?: number;
}

export interface HoneypotBatch {
  events: SecurityEvent[];
  hits: HoneypotHit[];
  dialled: HotlistSighting[];
  suppressed: HoneypotSuppressed[];
}

export interface HoneypotCounters {
  /** Datagrams or TCP frames that are not SIP. */
  invalid: number;
  connectionsRefused: number;
  /** Outputs dropped because the consumer fell behind by QUEUE_LIMIT. */
  dropped: number;
}

const QUEUE_LIMIT = 100_000;
/** A TCP peer that does not read its answers gets no more than this queued before it is cut off. */
const WRITE_BUFFER_LIMIT = 64 * 1024;
/** Suppressed counts are handed over at least this often, traffic or not. */
const SUPPRESSED_EVERY_MS = 60_000;

export class HoneypotServer {
  readonly counters: HoneypotCounters = { invalid: 0, connectionsRefused: 0, dropped: 0 };
  private queue: HoneypotOutput[] = [];
  private fault: Error | undefined;
  private wake: (() => void) | undefined;
  private readonly udp: UdpSocket[] = [];
  private readonly tcp: Server[] = [];
  private readonly connections = new Map<Socket, string>();
  private readonly perSource = new Map<string, number>();
  private bound: Promise<ListenAddress[]> | undefined;
  private closed = false;

  constructor(private readonly options: HoneypotServerOptions) {}

  /** The bound addresses (ports filled in for port 0), once `batches` has bound them. */
  listening(): Promise<ListenAddress[]> {
    return this.bound ?? Promise.reject(swError('SW_ERR_SOURCE', 'honeypot: batches() has not been called'));
  }

  async *batches(signal: AbortSignal): AsyncGenerator<HoneypotBatch> {
    if (this.bound) throw swError('SW_ERR_SOURCE', 'honeypot: batches() runs once per server');
    const onAbort = (): void => this.notify();
    signal.addEventListener('abort', onAbort, { once: true });
    const timer = setInterval(() => this.notify(), SUPPRESSED_EVERY_MS);
    timer.unref();
    this.bound = this.bind();
    this.bound.catch(() => undefined);
    try {
      await this.bound;
      while (!signal.aborted) {
        if (this.fault) throw this.fault;
        const suppressed = this.options.core.takeSuppressed();
        if (this.queue.length === 0 && suppressed.length === 0) {
          await new Promise<void>((resolve) => (this.wake = resolve));
          continue;
        }
        yield this.take(suppressed);
      }
    } catch (error) {
      if (!signal.aborted) throw error;
    } finally {
      clearInterval(timer);
      signal.removeEventListener('abort', onAbort);
      await this.close();
    }
  }

  private take(suppressed: HoneypotSuppressed[]): HoneypotBatch {
    const batch: HoneypotBatch = { events: [], hits: [], dialled: [], suppressed };
    for (const output of this.queue) {
      for (const event of output.events) batch.events.push(event);
      if (output.hit) batch.hits.push(output.hit);
      if (output.dialled) batch.dialled.push(output.dialled);
    }
    this.queue = [];
    return batch;
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private deliver(output: HoneypotOutput): void {
    if (output.events.length === 0 && output.hit === undefined) return;
    if (this.queue.length >= QUEUE_LIMIT) {
      this.counters.dropped++;
      return;
    }
    this.queue.push(output);
    this.notify();
  }

  private async bind(): Promise<ListenAddress[]> {
    const addresses: ListenAddress[] = [];
    try {
      for (const listen of this.options.listen) {
        addresses.push(listen.transport === 'udp' ? await this.bindUdp(listen) : await this.bindTcp(listen));
      }
    } catch (error) {
      await this.close();
      throw swError('SW_ERR_SOURCE', `honeypot: cannot bind: ${(error as Error).message}`, error);
    }
    return addresses;
  }

  private async bindUdp(listen: ListenAddress): Promise<ListenAddress> {
    const socket = createSocket({ type: listen.host.includes(':') ? 'udp6' : 'udp4' });
    socket.on('message', (datagram: Buffer, from: RemoteInfo) => {
      const message = parseSipMessage(datagram);
      if (message === null) {
        this.counters.invalid++;
        return;
      }
      const output = this.options.core.handle({ ip: from.address, port: from.port, transport: 'udp', message });
      // The answer goes to the datagram's source, the only address the honeypot ever sends to.
      // A send that fails (an unreachable sender) is that sender's problem: the callback keeps it from failing the socket.
      if (output.reply !== null && from.port !== 0) socket.send(output.reply, from.port, from.address, () => undefined);
      this.deliver(output);
    });
    const listening = once(socket, 'listening');
    socket.bind(listen.port, listen.host);
    try {
      await listening;
    } catch (error) {
      socket.close();
      throw error;
    }
    this.udp.push(socket);
    socket.on('error', (error) => this.failWith(error, 'UDP socket failed'));
    return { ...listen, port: socket.address().port };
  }

  private async bindTcp(listen: ListenAddress): Promise<ListenAddress> {
    const server = createServer((socket) => this.accept(socket));
    const listening = once(server, 'listening');
    server.listen(listen.port, listen.host);
    await listening;
    this.tcp.push(server);
    server.on('error', (error) => this.failWith(error, 'TCP server failed'));
    const address = server.address();
    return { ...listen, port: typeof address === 'object' && address !== null ? address.port : listen.port };
  }

  private accept(socket: Socket): void {
    const ip = socket.remoteAddress ?? '';
    const fromIp = this.perSource.get(ip) ?? 0;
    if (this.closed || this.connections.size >= this.options.maxConnections || fromIp >= (this.options.maxConnectionsPerSource ?? 16)) {
      this.counters.connectionsRefused++;
      socket.destroy();
      return;
    }
    this.connections.set(socket, ip);
    this.perSource.set(ip, fromIp + 1);
    const port = socket.remotePort ?? 0;
    const decoder = new SipStreamDecoder();
    socket.setTimeout(this.options.idleTimeoutMs ?? 60_000, () => socket.destroy());
    socket.on('data', (chunk: Buffer) => {
      for (const message of decoder.push(chunk)) {
        const output = this.options.core.handle({ ip, port, transport: 'tcp', message });
        if (output.reply !== null) socket.write(output.reply);
        this.deliver(output);
      }
      // A stream that cannot be framed any more, or a peer that does not read what it is sent, is cut off.
      if (decoder.failed) this.counters.invalid++;
      if (decoder.failed || socket.writableLength > WRITE_BUFFER_LIMIT) socket.destroy();
    });
    socket.on('end', () => socket.end());
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      this.connections.delete(socket);
      const left = (this.perSource.get(ip) ?? 1) - 1;
      if (left <= 0) this.perSource.delete(ip);
      else this.perSource.set(ip, left);
    });
  }

  private failWith(error: Error, what: string): void {
    this.fault ??= swError('SW_ERR_SOURCE', `honeypot: ${what}: ${error.message}`, error);
    this.notify();
  }

  private async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const closing: Promise<void>[] = [];
    for (const socket of this.udp) closing.push(new Promise((resolve) => socket.close(() => resolve())));
    for (const server of this.tcp) closing.push(new Promise((resolve) => server.close(() => resolve())));
    for (const socket of this.connections.keys()) socket.destroy();
    await Promise.all(closing);
  }
}
