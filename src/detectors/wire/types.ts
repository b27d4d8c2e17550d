import type { Transport } from '../../core/event.js';
import type { SipMessage } from '../../parsers/sip/types.js';

/** One SIP message as it crossed the wire, with the packet's own addresses (never ones from inside the message). */
export interface WirePacket {
  /** Capture time, epoch ms (HEP timestamp, else receive time). */
  at: number;
  srcIp: string;
  srcPort: number;
  dstIp: string;
  dstPort: number;
  /** From the packet (HEP ip protocol), not from the Via the sender wrote. */
  transport: Transport;
  message: SipMessage;
  /** Text for `raw` on events, cut to RAW_LIMIT by the analyzer; default the message's start line and headers. */
  raw?: string;
}

export interface WireOptions {
  /** Requests per second from one source before a `flood` event. */
  floodRate: number;
  /** At most one flood (and one scanner) event per source in this period. */
  cooldownMs: number;
  /** Extra User-Agent substrings (case-insensitive) that mark a scanner. */
  scanners: readonly string[];
  /** A 401/407 not answered with credentials inside this period is a probe of that account (`unknown-account`). */
  challengeTimeoutMs: number;
  /** Addresses or prefixes of our own SIP servers: transactions they start are never blamed on them. */
  servers: readonly string[];
  /** Upper bounds on tracked state (defaults: 200k transactions, 2M sources). */
  maxTransactions?: number;
  maxSources?: number;
}
