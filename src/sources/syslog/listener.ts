import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';
import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { systemClock, type Clock } from '../../core/clock.js';
import { BatchQueue } from '../batch-queue.js';
import { swError } from '../../core/errors.js';
import { SyslogTcpFramer } from './framing.js';
import { parseSyslog, type SyslogMessage } from './message.js';

const UDP_RECEIVE_BUFFER = 4 << 20;

export interface SyslogListenerOptions {
  udp?: { host: string; port: number };
  tcp?: { host: string; port: number };
  /** Largest datagram or TCP frame accepted, in bytes (default 64 KiB). */
  maxMessageBytes?: number;
  /** Open TCP connections at most; later ones are closed at once (default 64). */
  maxConnections?: number;
  /** A TCP connection silent this long is closed (default: never), so dead peers do not hold a slot. */
  idleTimeoutMs?: number;
  /** Source of `receivedAt` (default: the system clock). */
  clock?: Clock;
}

/** One message as received. `receivedAt` stands in for the date a sender left out (see route.ts lineFor). */
export interface ReceivedSyslog {
  message: SyslogMessage;
  /** `address:port` of the sender (`[address]:port` for IPv6). */
  peer: string;
  transport: 'udp' | 'tcp';
  /** Epoch ms at which the listener read the message. */
  receivedAt: number;
}

export interface SyslogCounters {
  /** Messages parsed and queued. */
  received: number;
  /** Datagrams or frames not delivered: oversize, no valid `<PRI>`, a TCP framing failure, or a full queue. */
  dropped: number;
  /** TCP connections closed on arrival because maxConnections were open. */
  connectionsRefused: number;
}

export interface SyslogListenerAddress {
  udp?: number;
  tcp?: number;
}

/**
 * Receives syslog over UDP (one datagram, one message) and TCP (RFC 6587 framing).
 *
 * Contract:
 * - `messages(signal)` binds the sockets at once and yields batches of what arrived since the last batch,
 *   oldest first, at most MAX_BATCH each. It ends, without throwing, when `signal` aborts or the consumer stops
 *   iterating; either way every socket is closed before the iteration returns. One `messages` at a time.
 * - It throws (SW_ERR_SOURCE, cause kept) when a socket cannot be bound or fails later; it never retries, the
 *   supervisor does. A malformed message, or a peer that breaks framing, never ends it: the message is dropped
 *   and counted, and a framing failure closes that connection only.
 * - `listening()` resolves with the bound ports once the current `messages` has bound them (for port 0).
 */
export interface SyslogListener {
  messages(signal: AbortSignal): AsyncIterable<ReceivedSyslog[]>;
  listening(): Promise<SyslogListenerAddress>;
  address(): SyslogListenerAddress;
  counters(): SyslogCounters;
}

/** Bounds a batch so one burst does not hand the consumer an array it chews on for seconds. */
export const MAX_BATCH = 4096;
/**
 * Messages queued for a slow consumer at most. Past it TCP peers are paused (the kernel then pushes back on
 * them) and datagrams are dropped, since UDP has no way to push back.
 */
const QUEUE_LIMIT = 16 * MAX_BATCH;

export function createSyslogListener(options: SyslogListenerOptions): SyslogListener {
  const counters: SyslogCounters = { received: 0, dropped: 0, connectionsRefused: 0 };
  let session: Session | undefined;
  return {
    messages(signal) {
      if (session && !session.closed) {
        throw swError('SW_ERR_SOURCE', 'syslog listener: messages() is already running; abort it first');
      }
      const current = new Session(options, counters, signal);
      session = current;
      return current.batches();
    },
    listening() {
      if (!session) return Promise.reject(swError('SW_ERR_SOURCE', 'syslog listener: messages() has not been called'));
      return session.bound;
    },
    address: () => session?.address() ?? {},
    counters: () => ({ ...counters }),
  };
}

function peerOf(address: string | undefined, port: number | undefined): string {
  const host = address ?? '?';
  return host.includes(':') ? `[${host}]:${port ?? 0}` : `${host}:${port ?? 0}`;
}

/** The sockets and queue of one `messages` call. */
class Session {
  closed = false;
  private closing: Promise<void> | undefined;
  private udpBound = false;
  readonly bound: Promise<SyslogListenerAddress>;
  private readonly queue = new BatchQueue<ReceivedSyslog>(QUEUE_LIMIT, MAX_BATCH);
  private fault: Error | undefined;
  private udp: UdpSocket | undefined;
  private server: Server | undefined;
  private readonly connections = new Set<Socket>();
  private readonly maxBytes: number;
  private readonly clock: Clock;
  private readonly onAbort = (): void => void this.close();

  constructor(
    private readonly options: SyslogListenerOptions,
    private readonly counters: SyslogCounters,
    private readonly signal: AbortSignal,
  ) {
    this.maxBytes = options.maxMessageBytes ?? 64 * 1024;
    this.clock = options.clock ?? systemClock;
    this.bound = this.bind();
    // Whoever iterates sees a bind failure; a caller that never awaits `listening()` must not crash the process.
    this.bound.catch(() => undefined);
    if (signal.aborted) void this.close();
    else signal.addEventListener('abort', this.onAbort, { once: true });
  }

  address(): SyslogListenerAddress {
    const ports: SyslogListenerAddress = {};
    const tcp = this.server?.address();
    if (this.udp && this.udpBound && !this.closed) ports.udp = this.udp.address().port;
    if (tcp && typeof tcp === 'object') ports.tcp = tcp.port;
    return ports;
  }

  async *batches(): AsyncGenerator<ReceivedSyslog[]> {
    try {
      try {
        await this.bound;
      } catch (error) {
        if (this.signal.aborted) return;
        throw error;
      }
      for (;;) {
        if (this.signal.aborted) return;
        if (this.fault) throw this.fault;
        if (this.queue.length === 0) {
          await this.queue.wait();
          continue;
        }
        yield this.queue.take();
      }
    } finally {
      await this.close();
    }
  }

  private fail(error: Error, what: string): void {
    this.fault ??= swError('SW_ERR_SOURCE', `syslog listener: ${what}: ${error.message}`, error);
    this.queue.notify();
  }

  /** Queues one message text, or drops and counts it. */
  private deliver(text: string, peer: string, transport: 'udp' | 'tcp'): void {
    const message = parseSyslog(text);
    if (!message || this.queue.full) {
      this.counters.dropped++;
      return;
    }
    this.counters.received++;
    this.queue.push({ message, peer, transport, receivedAt: this.clock.now() });
  }

  private async bind(): Promise<SyslogListenerAddress> {
    const { udp, tcp } = this.options;
    try {
      if (udp) await this.bindUdp(udp.host, udp.port);
      if (tcp) await this.bindTcp(tcp.host, tcp.port);
    } catch (error) {
      const fault = swError('SW_ERR_SOURCE', `syslog listener: cannot bind: ${(error as Error).message}`, error);
      await this.close();
      throw fault;
    }
    return this.address();
  }

  private async bindUdp(host: string, port: number): Promise<void> {
    // A 4 MiB receive buffer (the kernel caps it at net.core.rmem_max) rides out bursts that overflow the
    // 208 KiB default; what still overflows is counted by the kernel (Udp InErrors), see bench/syslog.ts.
    const socket = createSocket({ type: host.includes(':') ? 'udp6' : 'udp4', recvBufferSize: UDP_RECEIVE_BUFFER });
    this.udp = socket;
    socket.on('message', (datagram: Buffer, from: RemoteInfo) => {
      if (datagram.length > this.maxBytes) {
        this.counters.dropped++;
        return;
      }
      this.deliver(datagram.toString('utf8'), peerOf(from.address, from.port), 'udp');
    });
    const listening = once(socket, 'listening');
    socket.bind(port, host);
    try {
      await listening;
    } catch (error) {
      socket.close();
      throw error;
    }
    this.udpBound = true;
    // Closed while binding: close() leaves a socket that is not bound yet to this point.
    if (this.closed) socket.close();
    socket.on('error', (error) => this.fail(error, 'UDP socket failed'));
  }

  private async bindTcp(host: string, port: number): Promise<void> {
    const server = createServer((socket) => this.accept(socket));
    this.server = server;
    const listening = once(server, 'listening');
    server.listen(port, host);
    await listening;
    if (this.closed) server.close();
    server.on('error', (error) => this.fail(error, 'TCP server failed'));
  }

  private accept(socket: Socket): void {
    if (this.closed || this.connections.size >= (this.options.maxConnections ?? 64)) {
      this.counters.connectionsRefused++;
      socket.destroy();
      return;
    }
    this.connections.add(socket);
    const peer = peerOf(socket.remoteAddress, socket.remotePort);
    const framer = new SyslogTcpFramer(this.maxBytes);
    if (this.options.idleTimeoutMs !== undefined) {
      socket.setTimeout(this.options.idleTimeoutMs, () => socket.destroy());
    }
    socket.on('data', (chunk: Buffer) => {
      for (const frame of framer.push(chunk)) this.deliver(frame, peer, 'tcp');
      if (framer.error) {
        // The stream cannot be resynchronised; the frame in flight is lost, the other connections carry on.
        this.counters.dropped++;
        socket.destroy();
      } else {
        this.queue.holdIfFull(socket);
      }
    });
    socket.on('end', () => {
      for (const frame of framer.flush()) this.deliver(frame, peer, 'tcp');
      socket.end();
    });
    // A peer that resets is its own problem; the listener keeps serving the others.
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      this.connections.delete(socket);
      this.queue.forget(socket);
    });
  }

  /** Idempotent; resolves once every socket is closed, so the ports are free for a restart. */
  private close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.closed = true;
    this.signal.removeEventListener('abort', this.onAbort);
    this.queue.notify();
    const closing: Promise<unknown>[] = [];
    if (this.udp && this.udpBound) {
      const udp = this.udp;
      closing.push(new Promise<void>((resolve) => udp.close(() => resolve())));
    }
    if (this.server?.listening) {
      const server = this.server;
      closing.push(new Promise<void>((resolve) => server.close(() => resolve())));
    }
    for (const socket of this.connections) socket.destroy();
    await Promise.all(closing);
  }
}
