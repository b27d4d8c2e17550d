import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';
import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { systemClock, type Clock } from '../../core/clock.js';
import { BatchQueue } from '../batch-queue.js';
import { swError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { decodeHep, type HepFrame } from './decode.js';
import { HEP_MAX_BYTES } from './frame.js';
import { HepTcpFramer } from './tcp.js';

/** Rides out bursts that overflow the 208 KiB default; the kernel caps it at net.core.rmem_max. */
const UDP_RECEIVE_BUFFER = 4 << 20;
/** A dropped frame is logged at most this often per reason, with the count of the ones not logged. */
const DROP_LOG_INTERVAL_MS = 10_000;
/** Dead capture agents (a rebooted Kamailio) are found by the kernel and free their connection slot. */
const TCP_KEEPALIVE_MS = 60_000;

export interface HepEndpoint {
  host: string;
  port: number;
}

export interface HepListenerOptions {
  udp?: readonly HepEndpoint[];
  tcp?: readonly HepEndpoint[];
  /** Accept only HEPv3 frames carrying this key (chunk 0x000e); HEPv1/v2 frames, which have none, are refused. */
  authKey?: string;
  /** Open TCP connections at most, over all TCP endpoints; later ones are closed at once. */
  maxConnections: number;
  /** Largest datagram, TCP frame or inflated payload accepted (default and ceiling: 65535, the HEPv3 maximum). */
  maxBytes?: number;
  /** Source of `receivedAt` and of the log rate limit (default: the system clock). */
  clock?: Clock;
  /** Where dropped frames are reported, at most once per DROP_LOG_INTERVAL_MS per reason. */
  logger?: Logger;
}

/** One decoded frame as received. */
export interface HepReceived {
  frame: HepFrame;
  /** How the HEP frame itself arrived, not the traced SIP message (that is `frame.protocol`). */
  transport: 'udp' | 'tcp';
  /** `address:port` of the capture agent (`[address]:port` for IPv6). */
  peer: string;
  /** Epoch ms at which the listener read the frame. */
  receivedAt: number;
}

export type HepDropReason = 'malformed' | 'oversized' | 'unauthorized' | 'overflow';

export interface HepListenerStats {
  /** Frames decoded and queued. */
  received: number;
  /** Frames not delivered, by reason: undecodable, over maxBytes, missing or wrong auth key, or a full queue. */
  dropped: Record<HepDropReason, number>;
  /** TCP connections closed because their stream broke HEPv3 framing (bad magic, length out of range). */
  connectionsBroken: number;
  /** TCP connections closed on arrival because maxConnections were open. */
  connectionsRefused: number;
}

export interface HepListenerAddress {
  udp: number[];
  tcp: number[];
}

/**
 * Receives HEP from capture agents (Kamailio siptrace, OpenSIPS proto_hep, FreeSWITCH, Asterisk res_hep,
 * heplify): over UDP one datagram is one frame, HEPv3 or v1/v2; over TCP a HEPv3 stream (HepTcpFramer).
 *
 * Contract:
 * - `frames(signal)` binds every endpoint at once and yields batches of the frames decoded since the last
 *   batch, oldest first, at most MAX_BATCH each. It ends, without throwing, when `signal` aborts or the consumer
 *   stops iterating; either way every socket is closed before the iteration returns. One `frames` at a time.
 * - It throws SW_ERR_SOURCE, naming the address, when an endpoint cannot be bound (EADDRINUSE), or when a
 *   socket fails later. It never retries; the supervisor does.
 * - A bad frame never ends it: malformed, oversized and unauthenticated frames are dropped and counted in
 *   `stats()`, and a TCP stream that breaks framing closes that connection only. The auth key is never logged.
 * - `listening()` resolves with the bound ports, in the order given, once the current `frames` bound them.
 */
export interface HepListener {
  frames(signal: AbortSignal): AsyncIterable<HepReceived[]>;
  listening(): Promise<HepListenerAddress>;
  stats(): HepListenerStats;
}

/** Bounds a batch so one burst does not hand the consumer an array it chews on for seconds. */
export const MAX_BATCH = 4096;
/** Past this, TCP peers are paused (the kernel pushes back on them) and datagrams are dropped. */
const QUEUE_LIMIT = 16 * MAX_BATCH;

export function createHepListener(options: HepListenerOptions): HepListener {
  const stats: HepListenerStats = {
    received: 0,
    dropped: { malformed: 0, oversized: 0, unauthorized: 0, overflow: 0 },
    connectionsBroken: 0,
    connectionsRefused: 0,
  };
  let session: Session | undefined;
  return {
    frames(signal) {
      if (session && !session.closed) throw swError('SW_ERR_SOURCE', 'HEP listener: frames() is already running; abort it first');
      const current = new Session(options, stats, signal);
      session = current;
      return current.batches();
    },
    listening() {
      if (!session) return Promise.reject(swError('SW_ERR_SOURCE', 'HEP listener: frames() has not been called'));
      return session.bound;
    },
    stats: () => ({ ...stats, dropped: { ...stats.dropped } }),
  };
}

/**
 * Sorts a decoder error into a drop reason. The decoder reports errors as text; the wording it uses for size
 * and key faults is pinned by this listener's tests.
 */
export function dropReason(error: string): HepDropReason {
  if (/auth key/.test(error)) return 'unauthorized';
  if (/exceeds the|inflates beyond/.test(error)) return 'oversized';
  return 'malformed';
}

function peerOf(address: string | undefined, port: number | undefined): string {
  const host = address ?? '?';
  return host.includes(':') ? `[${host}]:${port ?? 0}` : `${host}:${port ?? 0}`;
}

function url(transport: 'udp' | 'tcp', { host, port }: HepEndpoint): string {
  return `${transport}://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** Reports drops per reason at most once per interval, with the count since the last report. */
class DropLog {
  private readonly last = new Map<HepDropReason, { at: number; unreported: number }>();

  constructor(private readonly logger: Logger | undefined, private readonly clock: Clock) {}

  note(reason: HepDropReason, peer: string, detail: string): void {
    if (!this.logger) return;
    const now = this.clock.now();
    const entry = this.last.get(reason);
    if (entry && now - entry.at < DROP_LOG_INTERVAL_MS) {
      entry.unreported++;
      return;
    }
    const dropped = (entry?.unreported ?? 0) + 1;
    this.last.set(reason, { at: now, unreported: 0 });
    // `detail` is the decoder's or framer's message: it names the fault, never the key that was sent or expected.
    this.logger.warn({ reason, peer, dropped, detail }, `HEP frame dropped (${reason}): ${detail}`);
  }
}

/** The sockets and queue of one `frames` call. */
class Session {
  closed = false;
  readonly bound: Promise<HepListenerAddress>;
  private closing: Promise<void> | undefined;
  private readonly queue = new BatchQueue<HepReceived>(QUEUE_LIMIT, MAX_BATCH);
  private fault: Error | undefined;
  private readonly udp: UdpSocket[] = [];
  private readonly servers: Server[] = [];
  private readonly connections = new Set<Socket>();
  private readonly maxBytes: number;
  private readonly clock: Clock;
  private readonly drops: DropLog;
  private readonly onAbort = (): void => void this.close();

  constructor(
    private readonly options: HepListenerOptions,
    private readonly stats: HepListenerStats,
    private readonly signal: AbortSignal,
  ) {
    this.maxBytes = Math.min(options.maxBytes ?? HEP_MAX_BYTES, HEP_MAX_BYTES);
    this.clock = options.clock ?? systemClock;
    this.drops = new DropLog(options.logger, this.clock);
    this.bound = this.bind();
    // Whoever iterates sees a bind failure; a caller that never awaits `listening()` must not crash the process.
    this.bound.catch(() => undefined);
    if (signal.aborted) void this.close();
    else signal.addEventListener('abort', this.onAbort, { once: true });
  }

  async *batches(): AsyncGenerator<HepReceived[]> {
    try {
      try {
        await this.bound;
      } catch (error) {
        if (this.signal.aborted) return;
        throw error;
      }
      for (;;) {
        if (this.signal.aborted || this.closed) return;
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
    this.fault ??= swError('SW_ERR_SOURCE', `HEP listener: ${what}: ${error.message}`, error);
    this.queue.notify();
  }

  private drop(reason: HepDropReason, peer: string, detail: string): void {
    this.stats.dropped[reason]++;
    this.drops.note(reason, peer, detail);
  }

  /** Decodes one datagram or TCP frame and queues it, or drops and counts it. */
  private deliver(packet: Buffer, peer: string, transport: 'udp' | 'tcp'): void {
    if (packet.length > this.maxBytes) {
      this.drop('oversized', peer, `${transport} frame of ${packet.length} bytes exceeds the ${this.maxBytes}-byte limit`);
      return;
    }
    const result = decodeHep(packet, { authKey: this.options.authKey, maxBytes: this.maxBytes });
    if (!result.ok) {
      this.drop(dropReason(result.error), peer, result.error);
      return;
    }
    if (this.queue.full) {
      this.drop('overflow', peer, `queue full (${QUEUE_LIMIT} frames): the consumer is behind`);
      return;
    }
    this.stats.received++;
    this.queue.push({ frame: result.frame, transport, peer, receivedAt: this.clock.now() });
  }

  private async bind(): Promise<HepListenerAddress> {
    for (const [transport, endpoints] of [['udp', this.options.udp ?? []], ['tcp', this.options.tcp ?? []]] as const) {
      for (const endpoint of endpoints) {
        if (this.closed) return { udp: [], tcp: [] };
        try {
          if (transport === 'udp') await this.bindUdp(endpoint);
          else await this.bindTcp(endpoint);
        } catch (error) {
          const code = (error as { code?: unknown }).code;
          const fault = swError(
            'SW_ERR_SOURCE',
            `HEP listener: cannot bind ${url(transport, endpoint)}${typeof code === 'string' ? ` (${code})` : ''}: ${(error as Error).message}`,
            error,
          );
          await this.close();
          throw fault;
        }
      }
    }
    if (this.closed) return { udp: [], tcp: [] };
    return {
      udp: this.udp.map((socket) => socket.address().port),
      tcp: this.servers.map((server) => {
        const address = server.address();
        return address && typeof address === 'object' ? address.port : 0;
      }),
    };
  }

  private async bindUdp({ host, port }: HepEndpoint): Promise<void> {
    const socket = createSocket({ type: host.includes(':') ? 'udp6' : 'udp4', recvBufferSize: UDP_RECEIVE_BUFFER });
    socket.on('message', (datagram: Buffer, from: RemoteInfo) => this.deliver(datagram, peerOf(from.address, from.port), 'udp'));
    const listening = once(socket, 'listening');
    socket.bind(port, host);
    try {
      await listening;
    } catch (error) {
      socket.close();
      throw error;
    }
    this.udp.push(socket);
    if (this.closed) socket.close();
    socket.on('error', (error) => this.fail(error, `UDP socket ${url('udp', { host, port })} failed`));
  }

  private async bindTcp({ host, port }: HepEndpoint): Promise<void> {
    const server = createServer((socket) => this.accept(socket));
    const listening = once(server, 'listening');
    server.listen(port, host);
    await listening;
    this.servers.push(server);
    if (this.closed) server.close();
    server.on('error', (error) => this.fail(error, `TCP server ${url('tcp', { host, port })} failed`));
  }

  private accept(socket: Socket): void {
    if (this.closed || this.connections.size >= this.options.maxConnections) {
      this.stats.connectionsRefused++;
      socket.destroy();
      return;
    }
    this.connections.add(socket);
    socket.setKeepAlive(true, TCP_KEEPALIVE_MS);
    const peer = peerOf(socket.remoteAddress, socket.remotePort);
    // The framer holds at most one frame in flight (≤ maxBytes) plus one read: the per-connection bound.
    const framer = new HepTcpFramer({ maxBytes: this.maxBytes });
    socket.on('data', (chunk: Buffer) => {
      for (const frame of framer.push(chunk)) this.deliver(frame, peer, 'tcp');
      if (framer.error) {
        // The stream cannot be resynchronised; the other connections carry on.
        this.stats.connectionsBroken++;
        const length = /frame length (\d+)/.exec(framer.error);
        this.drop(length && Number(length[1]) > this.maxBytes ? 'oversized' : 'malformed', peer, `TCP stream closed: ${framer.error}`);
        socket.destroy();
      } else {
        this.queue.holdIfFull(socket);
      }
    });
    socket.on('end', () => socket.end());
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
    for (const socket of this.udp) closing.push(new Promise<void>((resolve) => socket.close(() => resolve())));
    for (const server of this.servers) {
      if (server.listening) closing.push(new Promise<void>((resolve) => server.close(() => resolve())));
    }
    for (const socket of this.connections) socket.destroy();
    await Promise.all(closing);
  }
}
