import type { Evidence, EventKind, SecurityEvent, Transport } from '../../core/event.js';
import { boundRaw } from '../../core/event.js';
import { findAddresses } from '../../core/ip.js';

/** Event building shared by the `asterisk` and `asterisk-security` parsers. */

export interface Finding {
  kind: EventKind;
  pattern: string;
  evidence: Evidence;
  reason?: string;
  ip?: string;
  port?: number;
  transport?: Transport;
  account?: string;
  domain?: string;
  destination?: string;
  callId?: string;
}

/** Attacker-chosen text copied into an event is cut, so one request cannot make a large event. */
const FIELD_LIMIT = 256;

function bound(text: string): string {
  return text.length > FIELD_LIMIT ? text.slice(0, FIELD_LIMIT) : text;
}

/**
 * Every event gets the same keys in the same order (absent ones undefined), so all events share one hidden
 * class and the detectors' property reads stay monomorphic; JSON output drops the undefined keys.
 */
export function makeEvent(at: number, line: string, f: Finding): SecurityEvent {
  return {
    at,
    kind: f.kind,
    ip: f.ip,
    port: f.port,
    transport: f.transport,
    account: f.account ? bound(f.account) : undefined,
    domain: f.domain ? bound(f.domain) : undefined,
    destination: f.destination ? bound(f.destination) : undefined,
    userAgent: undefined,
    callId: f.callId ? bound(f.callId) : undefined,
    server: 'asterisk',
    evidence: f.evidence,
    pattern: f.pattern,
    reason: f.reason ? bound(f.reason) : undefined,
    raw: boundRaw(line),
  };
}

/**
 * The line shows injection: an anchor of the address appears more than once, so no position can be trusted.
 * `candidates` lists every address in `text` (the message, not the prefix) for the operator; there is no `ip`.
 */
export function makeTampered(at: number, line: string, pattern: string, text: string, reason: string): SecurityEvent {
  return {
    at,
    kind: 'tampered',
    server: 'asterisk',
    evidence: 'spoofable',
    pattern,
    reason,
    tampered: true,
    candidates: findAddresses(text.length > 4096 ? text.slice(0, 4096) : text),
    raw: boundRaw(line),
  };
}

/** A connection-oriented transport proves the source address by its handshake. */
export function evidenceFor(transport: Transport | undefined, roundTrip: boolean): Evidence {
  return roundTrip || (transport !== undefined && transport !== 'udp') ? 'verified' : 'spoofable';
}

/**
 * Transport names as Asterisk prints them: `UDP`, `TLS`, and PJSIP's IPv6 type names `UDP6`, `TCP6`, `TLS6`.
 * Unknown names (SCTP, LOOP) give undefined.
 */
export function parseTransport(text: string): Transport | undefined {
  switch (text.toLowerCase()) {
    case 'udp':
    case 'udp6':
      return 'udp';
    case 'tcp':
    case 'tcp6':
      return 'tcp';
    case 'tls':
    case 'tls6':
      return 'tls';
    case 'ws':
      return 'ws';
    case 'wss':
      return 'wss';
    default:
      return undefined;
  }
}

/** True when `needle` occurs more than once in `line` from `from` on. */
export function repeats(line: string, needle: string, from: number): boolean {
  const first = line.indexOf(needle, from);
  return first >= 0 && line.indexOf(needle, first + 1) >= 0;
}

/** Index after the last character that is not a space or CR. */
export function contentEnd(line: string): number {
  let end = line.length;
  while (end > 0) {
    const c = line.charCodeAt(end - 1);
    if (c !== 32 && c !== 13 && c !== 10 && c !== 9) break;
    end--;
  }
  return end;
}
