import { parseListen as parseListenUrl } from '../core/listen.js';
import type { Config, HepSourceConfig } from '../config/schema.js';
import { systemClock, type Clock } from '../core/clock.js';
import { RAW_LIMIT, type SecurityEvent, type Transport } from '../core/event.js';
import { createLogger, type Logger } from '../core/logger.js';
import { WireAnalyzer } from '../detectors/wire/analyzer.js';
import type { WirePacket } from '../detectors/wire/types.js';
import { isProvisionalResponse, parseSipMessage } from '../parsers/sip/message.js';
import type { HepFrame } from '../sources/hep/decode.js';
import { createHepListener, type HepEndpoint, type HepListener, type HepReceived } from '../sources/hep/listener.js';
import type { EventSource } from './sources.js';

/** How often challenges that were never answered are turned into events while traffic is quiet. */
const FLUSH_MS = 1000;
/** A capture time further than this from the receive time is a sender's broken clock, not a capture delay. */
const MAX_SKEW_MS = 5 * 60_000;
/** Unparseable SIP payloads are logged at most this often, with the count since the last report. */
const LOG_INTERVAL_MS = 10_000;
/** HEP chunk 0x000b: only SIP goes to the SIP parser (100 is Kamailio's hlog, 5 RTCP JSON, ...). */
const PROTO_SIP = 1;

export interface HepSourceStats {
  /** Frames that carried something other than SIP (RTCP, logs, ...): counted and ignored. */
  notSip: number;
  /** SIP frames whose payload the SIP parser refused. */
  unparseable: number;
  /** SIP messages given to the wire detectors. */
  messages: number;
}

export interface HepEventSource extends EventSource {
  listener: HepListener;
  stats(): HepSourceStats;
}

/**
 * HEP collector: listener (sources/hep) -> decoder -> SIP parser -> wire detectors, composed here so the
 * listener never parses SIP and the detectors do no I/O. The detectors keep their state across supervisor
 * restarts of the listener; a challenge pending when a socket failed is still judged after the restart.
 *
 * `logger` is the daemon's; without one, drops go to a logger of this source's own on stdout.
 */
export function bindHepSource(spec: HepSourceConfig, config: Config, sensor: string, logger?: Logger, clock: Clock = systemClock): HepEventSource {
  const log = (logger ?? ownLogger(config)).child({ source: spec.id });
  const endpoints = { udp: [] as HepEndpoint[], tcp: [] as HepEndpoint[] };
  for (const url of spec.listen) {
    const { transport, endpoint } = parseListen(url);
    endpoints[transport].push(endpoint);
  }
  const listener = createHepListener({ ...endpoints, authKey: spec.authKey, maxConnections: spec.maxConnections, clock, logger: log });
  const analyzer = new WireAnalyzer({
    floodRate: config.wire.flood.rate,
    cooldownMs: config.wire.flood.cooldown,
    scanners: config.wire.scanners,
    challengeTimeoutMs: config.wire.challengeTimeout,
    servers: spec.servers,
  });
  const stats: HepSourceStats = { notSip: 0, unparseable: 0, messages: 0 };
  const time = new PacketTime();
  let unparseableLoggedAt = -Infinity;
  let unparseableUnlogged = 0;

  const observe = (received: HepReceived, out: SecurityEvent[]): void => {
    const { frame } = received;
    if (frame.protoType !== PROTO_SIP) {
      stats.notSip++;
      return;
    }
    // 100 Trying, 180 Ringing: nothing in them for a detector, so they are not parsed at all.
    if (isProvisionalResponse(frame.payload)) {
      stats.messages++;
      return;
    }
    const message = parseSipMessage(frame.payload);
    if (message === null) {
      stats.unparseable++;
      unparseableUnlogged++;
      if (received.receivedAt - unparseableLoggedAt >= LOG_INTERVAL_MS) {
        log.warn({ peer: received.peer, dropped: unparseableUnlogged, bytes: frame.payload.length }, 'HEP frame of type SIP carries no parseable SIP message');
        unparseableLoggedAt = received.receivedAt;
        unparseableUnlogged = 0;
      }
      return;
    }
    stats.messages++;
    const packet = wirePacket(frame, received.receivedAt);
    time.seen(packet.at, received.receivedAt);
    for (const event of analyzer.observe({ ...packet, message })) out.push(event);
  };

  return {
    kind: 'events', id: spec.id, format: 'hep', sensor, listener,
    stats: () => ({ ...stats }),
    async *events(signal) {
      // Our own signal as well, so a consumer that stops iterating also closes the sockets.
      const stop = new AbortController();
      const abort = (): void => stop.abort();
      signal.addEventListener('abort', abort, { once: true });
      const iterator = listener.frames(stop.signal)[Symbol.asyncIterator]();
      let pending = iterator.next();
      let flushedAt = clock.now();
      try {
        for (;;) {
          const result = await within(pending, Math.max(0, flushedAt + FLUSH_MS - clock.now()));
          const out: SecurityEvent[] = [];
          if (result !== undefined) {
            if (result.done) return;
            pending = iterator.next();
            for (const received of result.value) observe(received, out);
          }
          const now = clock.now();
          if (now - flushedAt >= FLUSH_MS) {
            flushedAt = now;
            for (const event of analyzer.flush(time.at(now))) out.push(event);
          }
          if (out.length === 0) continue;
          for (const event of out) event.sensor = sensor;
          yield out;
        }
      } finally {
        signal.removeEventListener('abort', abort);
        stop.abort();
        // Settles once the listener has closed its sockets, so a restart can bind the same ports.
        await pending.catch(() => undefined);
      }
    },
  };
}

/** A listen URL as the HEP listener takes it. */
export function parseListen(url: string): { transport: 'udp' | 'tcp'; endpoint: HepEndpoint } {
  const { transport, host, port } = parseListenUrl(url);
  return { transport, endpoint: { host, port } };
}

/** The IP protocol of the traced packet (HEP chunk 0x0002): what the wire detectors call its transport. */
export function wireTransport(protocol: number): Transport {
  switch (protocol) {
    case 6:
      return 'tcp';
    case 22: // FreeSWITCH's number for TLS
      return 'tls';
    case 132: // SCTP is a connection too: its source address is as proven as a TCP one
      return 'tcp';
    default:
      return 'udp'; // 17, and 0 (not sent): claiming less proof is the safe mistake
  }
}

/**
 * When a message crossed the wire. The HEPv3 capture time, unless the sender's clock is off by more than
 * MAX_SKEW_MS; HEPv1 has no time, and HEPv2 times are written in the sender's byte order (little-endian from
 * Kamailio, big-endian readers disagree), so both take the receive time.
 */
export function packetTime(frame: Pick<HepFrame, 'version' | 'timestampMs'>, receivedAt: number): number {
  if (frame.version < 3 || frame.timestampMs === undefined) return receivedAt;
  return Math.abs(frame.timestampMs - receivedAt) > MAX_SKEW_MS ? receivedAt : frame.timestampMs;
}

/** The packet for the wire detectors, with the frame's own addresses (never ones from inside the message). */
export function wirePacket(frame: HepFrame, receivedAt: number): Omit<WirePacket, 'message'> {
  return {
    at: packetTime(frame, receivedAt),
    srcIp: frame.srcIp,
    srcPort: frame.srcPort,
    dstIp: frame.dstIp,
    dstPort: frame.dstPort,
    transport: wireTransport(frame.protocol),
    // RAW_LIMIT bytes never decode to more than RAW_LIMIT characters; the rest would be cut anyway.
    raw: frame.payload.toString('utf8', 0, Math.min(frame.payload.length, RAW_LIMIT)),
  };
}

/**
 * The detectors run on packet time. While traffic is quiet, packet time goes on at the pace of the wall clock
 * from the newest packet, so a sender whose clock is a minute behind does not see every pending challenge
 * time out at once (as flushing with wall time would), and none waits for the next packet to time out.
 */
export class PacketTime {
  private newestAt = -Infinity;
  private receivedAt = 0;

  seen(at: number, receivedAt: number): void {
    if (at < this.newestAt) return;
    this.newestAt = at;
    this.receivedAt = receivedAt;
  }

  at(now: number): number {
    return this.newestAt === -Infinity ? now : this.newestAt + Math.max(0, now - this.receivedAt);
  }
}

/** The settled value of `promise`, or undefined if it takes longer than `ms`. */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(resolve, ms, undefined)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * process.stdout, not a second buffered writer on fd 1: it writes each line whole, so the lines of the two
 * loggers cannot split each other.
 */
function ownLogger(config: Config): Logger {
  return createLogger(config.log.level, config.node, process.stdout);
}
