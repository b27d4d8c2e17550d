/**
 * The record every HEP version decodes to. The decoders are pure: no sockets, no clock. A frame without a
 * capture time has no `timestampMs`, and the caller stamps it with its receive time.
 */
export interface HepFrame {
  version: 1 | 2 | 3;
  family: 4 | 6;
  /** IP protocol number (6 TCP, 17 UDP, 132 SCTP; FreeSWITCH sends 22 for TLS); 0 if the sender left it out. */
  protocol: number;
  /** Canonical text (see core/ip.ts), so the same peer is one key whatever the sender printed. */
  srcIp: string;
  dstIp: string;
  srcPort: number;
  dstPort: number;
  /** seconds * 1000 + floor(usec / 1000); absent when the sender sent no time or a zero time. */
  timestampMs?: number;
  /** HEP chunk 0x000b: 1 SIP, 5 RTCP JSON, 100 LOG (Kamailio hlog), ...; 0 if absent. */
  protoType: number;
  captureId: number;
  /** Chunk 0x0011: the Call-ID for Kamailio and Asterisk (Asterisk calls it "UUID"). */
  correlationId?: string;
  nodeName?: string;
  vlan?: number;
  /** The captured packet, inflated if it came compressed. A view into the input when it was not. */
  payload: Buffer;
  /** Chunks skipped: vendor-specific ones and generic types this decoder does not read. */
  unknownChunks: number;
}

export type HepResult = { ok: true; frame: HepFrame } | { ok: false; error: string };

export interface HepDecodeOptions {
  /** When set, only frames carrying this key in chunk 0x000e are accepted: a HEP sender can get any IP banned. */
  authKey?: string;
  /** Upper bound on the packet and on an inflated payload; defaults to 65535, the largest HEPv3 frame. */
  maxBytes?: number;
}

export const HEP_MAX_BYTES = 65535;

export function fail(error: string): HepResult {
  return { ok: false, error };
}

/** A zero time means "unknown" (rule 6 of the reference): the caller stamps the frame with its receive time. */
export function toMillis(seconds: number | undefined, micros: number | undefined): number | undefined {
  if (seconds === undefined || (seconds === 0 && !micros)) return undefined;
  return seconds * 1000 + Math.floor((micros ?? 0) / 1000);
}
