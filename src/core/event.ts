/**
 * The one record shape that flows from parsers to detectors, policy and the store.
 *
 * Parsers build these from server-written fields only. Anything a SIP peer controls (To, From, Call-ID,
 * user names) may be copied into `account`/`destination`/`callId`, never into `ip`.
 */

export const EVENT_KINDS = [
  'auth-failure',
  'unknown-account',
  'acl-denied',
  'dialplan-miss',
  'auth-success',
  'challenge',
  'flood',
  'scanner',
  'tampered',
  'call-start',
  'call-answer',
  'call-end',
  'request',
  'response',
] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

/**
 * `verified`: a handshake or a challenge round trip proves the source address (TCP, TLS, WS, or a digest
 * response to the server's nonce). `spoofable`: a single UDP request whose source could be forged.
 */
export const EVIDENCE_CLASSES = ['verified', 'spoofable'] as const;
export type Evidence = (typeof EVIDENCE_CLASSES)[number];

export const TRANSPORTS = ['udp', 'tcp', 'tls', 'ws', 'wss'] as const;
export type Transport = (typeof TRANSPORTS)[number];

/** `hep`: seen in SIP messages a server traced to us; `honeypot`: our own bait; `sipwarden`: our own guard. */
export const SERVERS = ['asterisk', 'freeswitch', 'kamailio', 'opensips', 'custom', 'sipwarden', 'hep', 'honeypot'] as const;
export type Server = (typeof SERVERS)[number];

/** Longest `raw` kept on an event; a flood of long lines must not fill memory or the store. */
export const RAW_LIMIT = 1024;

/** Q.850-free summary of how a call ended, as CDRs and channel events say it. */
export const DISPOSITIONS = ['answered', 'no-answer', 'busy', 'failed', 'congestion', 'cancel'] as const;
export type Disposition = (typeof DISPOSITIONS)[number];

/** What a call event knows about the call besides who and where (CDR, CEL, AMI, ESL, SIP dialogs). */
export interface CallFacts {
  /** Seconds from the start of the call to its end, when it ended. */
  durationSec?: number;
  /** Seconds it was answered (billable), when it ended. */
  billSec?: number;
  disposition?: Disposition;
  /** The server's own id of the call or channel (Asterisk uniqueid, FreeSWITCH uuid). */
  uniqueId?: string;
  /** The server's channel name, e.g. `PJSIP/1001-00000012`: where the account came from. */
  channel?: string;
}

export interface SecurityEvent {
  /** Epoch milliseconds, from the record itself (never wall time, so replays match live runs). */
  at: number;
  kind: EventKind;
  /** Canonical address (see core/ip.ts). Absent when the record has no trusted address (tampered). */
  ip?: string;
  port?: number;
  transport?: Transport;
  account?: string;
  domain?: string;
  destination?: string;
  userAgent?: string;
  callId?: string;
  server: Server;
  /** Source id and node that produced the record, e.g. `pbx1/ast`. Filled in by the pipeline. */
  sensor?: string;
  evidence: Evidence;
  /** Id of the parser pattern that produced the event, e.g. `chan_sip-register-failed`. */
  pattern?: string;
  /** The server's own reason text, e.g. `Wrong password`, `No matching endpoint found`. */
  reason?: string;
  /** Set when the line shows injection: `ip` is then absent and `candidates` lists every address seen. */
  tampered?: true;
  candidates?: string[];
  /** Call events (`call-start`, `call-answer`, `call-end`): the call's facts. */
  call?: CallFacts;
  /**
   * The line ended inside a caller-controlled field (a newline smuggled in, e.g. URL-decoded `%0A`): the rest
   * of the server's message, starting with whatever the caller wrote, is the next line.
   */
  cut?: true;
  /** The original record, cut to RAW_LIMIT characters. */
  raw: string;
}

export function boundRaw(raw: string): string {
  return raw.length > RAW_LIMIT ? raw.slice(0, RAW_LIMIT) : raw;
}

/** Failure kinds: the evidence that brute-force style rules count. */
export const FAILURE_KINDS: readonly EventKind[] = ['auth-failure', 'unknown-account', 'acl-denied', 'dialplan-miss'];
