import { createHash } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import { boundRaw, type EventKind, type Evidence, type SecurityEvent } from '../core/event.js';
import { normalizeIp } from '../core/ip.js';
import { scannerFingerprint, type ScannerMatch } from '../detectors/wire/fingerprint.js';
import { parseUri } from '../parsers/sip/fields.js';
import type { SipMessage, SipRequest } from '../parsers/sip/types.js';
import type { HoneypotHit, HoneypotSuppressed, HotlistSighting } from '../store/types.js';
import { credentialCheck } from './digest.js';
import { DEFAULT_LIMITS, SourceTable, type HoneypotLimits, type SourceState } from './limits.js';
import { NonceIssuer, type NonceOptions, type NonceSource } from './nonce.js';
import { normalizeDialled } from './numbers.js';
import { recoverPassword, svcrackTagPassword } from './passwords.js';
import { buildResponse } from './responses.js';
import { challengeHeader, statusText, verdictFor, type AuthResult, type Verdict } from './verdict.js';

/**
 * The honeypot's protocol core: one request in; the response for its sender, the events and the records out.
 * No I/O, and time only from the injected clock, so every exchange can be tested byte for byte.
 *
 * Contract:
 * - `handle` never throws on what a sender wrote and never builds a request: its only output on the wire is
 *   a response, which the transport sends to the packet's own source address and port.
 * - Memory is bounded (limits.ts, nonce.ts): per-source state in a fixed-size table, nonces without state.
 * - Passwords tried go into `hit.password`, never into an event.
 */

export interface BaitAccount {
  user: string;
  password: string;
}

export interface HoneypotCoreOptions {
  clock: Clock;
  /** Sent as Server (the PBX the honeypot pretends to be). */
  userAgent: string;
  realm: string;
  accounts: readonly BaitAccount[];
  /** Final status for every INVITE, after it is recorded. */
  reject: number;
  /** Extra scanner User-Agent substrings (config wire.scanners). */
  scanners?: readonly string[];
  /** At most one scanner event per source in this period (default 10 s). */
  scannerCooldownMs?: number;
  /** Challenge with qop="auth" (default) or in the RFC 2069 form without qop. */
  qop?: boolean;
  nonces?: NonceOptions;
  limits?: Partial<HoneypotLimits>;
}

export interface HoneypotPacket {
  /** The packet's source, from the socket: never from inside the message. */
  ip: string;
  port: number;
  transport: 'udp' | 'tcp';
  message: SipMessage;
}

export interface HoneypotOutput {
  /** The response for the packet's source, or null when it gets none. */
  reply: Buffer | null;
  events: SecurityEvent[];
  hit?: HoneypotHit;
  dialled?: HotlistSighting;
}

export interface HoneypotStats {
  requests: number;
  replies: number;
  /** UDP answers withheld by the reply budgets. */
  silenced: number;
  recorded: number;
  suppressed: number;
  retransmissions: number;
  /** Responses and other messages that are not requests: never answered. */
  ignored: number;
}

const NOTHING: HoneypotOutput = Object.freeze({ reply: null, events: [] }) as unknown as HoneypotOutput;
const FIELD_LIMIT = 128;
const UA_LIMIT = 256;

function clip(text: string | undefined, limit = FIELD_LIMIT): string | undefined {
  if (text === undefined || text === '') return undefined;
  return text.length > limit ? text.slice(0, limit) : text;
}

export class HoneypotCore {
  readonly stats: HoneypotStats = { requests: 0, replies: 0, silenced: 0, recorded: 0, suppressed: 0, retransmissions: 0, ignored: 0 };
  private readonly nonces: NonceIssuer;
  private readonly sources: SourceTable;
  private readonly accounts: Map<string, string>;
  private readonly baitPasswords: string[];
  private readonly realm: string;
  private readonly server: string;

  constructor(private readonly options: HoneypotCoreOptions) {
    this.nonces = new NonceIssuer(options.nonces);
    this.sources = new SourceTable({ ...DEFAULT_LIMITS, ...options.limits });
    this.accounts = new Map(options.accounts.map((a) => [a.user, a.password]));
    this.baitPasswords = [...new Set(options.accounts.map((a) => a.password))];
    // Configured text goes into header values: no quotes, backslashes or line breaks can break out of them.
    this.realm = options.realm.replace(/["\\\r\n]/g, '');
    this.server = options.userAgent.replace(/[\r\n]/g, '');
  }

  handle(packet: HoneypotPacket): HoneypotOutput {
    const { message } = packet;
    if (message.kind !== 'request') {
      this.stats.ignored++;
      return NOTHING;
    }
    this.stats.requests++;
    const now = this.options.clock.now();
    const ip = normalizeIp(packet.ip) ?? packet.ip;
    const source: NonceSource = { transport: packet.transport, ip, port: packet.port };
    const state = this.sources.state(ip);
    const method = message.method.toUpperCase();
    const fresh = state.firstTransaction(
      `${packet.transport}|${packet.port}|${method}|${message.vias[0]?.branch ?? ''}|${message.callId ?? ''}|${message.cseq?.seq ?? ''}`,
    );
    if (!fresh) this.stats.retransmissions++;
    const admitted = fresh && method !== 'ACK' && this.admit(ip, state, now);
    const auth = this.authenticate(message, method, source, now, admitted);
    const username = clip(auth.username ?? (method === 'REGISTER' ? message.to?.user : message.from?.user));
    const baitTarget = username !== undefined && this.accounts.has(username);
    const verdict = verdictFor(message, method, auth, { reject: this.options.reject, now, baitTarget });
    const reply = this.respond(message, method, verdict, source, state, now);
    if (!fresh) return { reply, events: [] };

    const evidence: Evidence = packet.transport === 'tcp' || auth.nonce === 'fresh' || auth.nonce === 'stale' ? 'verified' : 'spoofable';
    const match = scannerFingerprint(message, this.options.scanners);
    const destination = method === 'INVITE' ? clip(requestUser(message) ?? message.to?.user) : undefined;
    const events = this.events(packet, message, method, { now, ip, evidence, match, username, destination, verdict, state });
    if (!admitted || verdict.outcome === undefined) return { reply, events };

    const number = destination === undefined ? undefined : normalizeDialled(destination);
    const hit: HoneypotHit = {
      at: now, ip, port: packet.port, transport: packet.transport, method: clip(method, 32) as string,
      outcome: verdict.outcome, verified: evidence === 'verified',
    };
    const optional = {
      userAgent: clip(message.userAgent, UA_LIMIT), username, password: clip(auth.password), toUser: clip(message.to?.user),
      destination, number, tool: match?.tool,
    };
    for (const [key, value] of Object.entries(optional)) if (value !== undefined) Object.assign(hit, { [key]: value });
    const output: HoneypotOutput = { reply, events, hit };
    const call = number === undefined ? 'seen' : state.dialled(message.callId ?? `${packet.port}|${message.vias[0]?.branch ?? ''}`, hit.verified);
    if (number !== undefined && call !== 'seen') {
      output.dialled = { number, ip, at: now, verified: hit.verified, ...(call === 'verified' ? { retry: true as const } : {}) };
    }
    return output;
  }

  /** Suppressed counts of the minutes that are over, or of all minutes (at shutdown); each is handed out once. */
  takeSuppressed(all = false): HoneypotSuppressed[] {
    return this.sources.takeSuppressed(all ? undefined : this.options.clock.now());
  }

  private admit(ip: string, state: SourceState, now: number): boolean {
    const admitted = this.sources.admit(ip, state, now);
    if (admitted) this.stats.recorded++;
    else this.stats.suppressed++;
    return admitted;
  }

  private authenticate(message: SipRequest, method: string, source: NonceSource, now: number, recover: boolean): AuthResult {
    const digest = message.authorization;
    if (digest?.nonce === undefined) return { bait: false, ok: false };
    const result: AuthResult = { nonce: this.nonces.check(digest.nonce, source, now), bait: false, ok: false };
    const username = digest.username;
    if (username === undefined) return result;
    result.username = username;
    const password = this.accounts.get(username);
    result.bait = password !== undefined;
    const check = credentialCheck(digest, message.method);
    if (check === null) return result;
    if (password !== undefined && check.matches(password)) {
      result.ok = true;
      result.password = password;
    } else if (recover) {
      const recovered = recoverPassword(check, username, svcrackTagPassword(message.from?.tag), this.baitPasswords);
      if (recovered !== undefined) result.password = recovered;
    }
    return result;
  }

  private respond(message: SipRequest, method: string, verdict: Verdict, source: NonceSource, state: SourceState, now: number): Buffer | null {
    let status = verdict.status;
    const headers = [...(verdict.headers ?? [])];
    if (verdict.challenge !== undefined) {
      const nonce = this.nonces.issue(source, now);
      const challenge = challengeHeader(method, this.realm, nonce, verdict.challenge === 'stale', this.options.qop ?? true);
      status = challenge.status;
      headers.push(challenge.header);
    }
    if (status === undefined) return null;
    const toTag = createHash('md5').update(`${message.callId ?? ''}|${message.from?.tag ?? ''}`).digest('hex').replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, '$1-$2-$3-$4-$5');
    const reply = buildResponse(message, { status, headers }, { ip: source.ip, port: source.port, server: this.server, toTag });
    if (reply === null) return null;
    // UDP answers are budgeted: a forged source must not turn the honeypot into a reflector. TCP cannot be forged.
    if (source.transport === 'udp' && !(state.replies.take(now) && this.sources.replies.take(now))) {
      this.stats.silenced++;
      return null;
    }
    this.stats.replies++;
    return reply;
  }

  private events(packet: HoneypotPacket, message: SipRequest, method: string, seen: {
    now: number; ip: string; evidence: Evidence; match: ScannerMatch | undefined; username: string | undefined;
    destination: string | undefined; verdict: Verdict; state: SourceState;
  }): SecurityEvent[] {
    const { verdict, match, state } = seen;
    const base: SecurityEvent = {
      at: seen.now, kind: 'request', ip: seen.ip, port: packet.port, transport: packet.transport, server: 'honeypot',
      evidence: seen.evidence, raw: summary(message, method),
    };
    const optional = { account: seen.username, userAgent: clip(message.userAgent, UA_LIMIT), callId: clip(message.callId, 256) };
    for (const [key, value] of Object.entries(optional)) if (value !== undefined) Object.assign(base, { [key]: value });
    const make = (kind: EventKind, reason?: string, extra: Partial<SecurityEvent> = {}): SecurityEvent => ({
      ...base, kind, pattern: `honeypot-${kind}`, ...(reason === undefined ? {} : { reason }), ...extra,
    });
    const withDestination = seen.destination === undefined ? {} : { destination: seen.destination };
    const events = [make('request', undefined, withDestination)];
    if (match?.confidence === 'high' && seen.now - state.scannerAt >= (this.options.scannerCooldownMs ?? 10_000)) {
      state.scannerAt = seen.now;
      events.push(make('scanner', `${match.tool}: ${match.reason}`));
    }
    if (verdict.challenge !== undefined) {
      events.push(make('challenge', `${statusText(method === 'INVITE' ? 407 : 401)}${verdict.challenge === 'stale' ? ' (stale nonce)' : ''}`));
    }
    if (verdict.authEvent === 'auth-failure') events.push(make('auth-failure', 'wrong password for a bait account'));
    if (verdict.authEvent === 'unknown-account') events.push(make('unknown-account', 'credentials for a user that is not a bait account'));
    if (verdict.authEvent === 'auth-success') events.push(make('auth-success', 'bait account registered'));
    if (method === 'INVITE') {
      const answer = verdict.challenge !== undefined ? 'challenged' : `rejected with ${statusText(verdict.status ?? 0)}`;
      events.push(make('dialplan-miss', `call attempt through the honeypot, ${answer}`, withDestination));
    }
    return events;
  }
}

/** The user part of the Request-URI (the number an INVITE dials), or a tel: URI's number. */
function requestUser(message: SipRequest): string | undefined {
  return parseUri(message.requestUri).user;
}

/** A URI without the password of a `sip:user:password@host` userinfo. */
function withoutPassword(uri: string): string {
  return uri.replace(/^((?:sips?|tel):[^:@;?]*):[^@]*@/i, '$1@');
}

/**
 * `raw` for events: the request line and addresses, without tags (svcrack writes a password guess in its tag)
 * and without URI passwords.
 */
function summary(message: SipRequest, method: string): string {
  const parts = [`${method} ${withoutPassword(message.requestUri)}`];
  if (message.from) parts.push(`From: ${withoutPassword(message.from.uri)}`);
  if (message.to) parts.push(`To: ${withoutPassword(message.to.uri)}`);
  if (message.userAgent) parts.push(`User-Agent: ${message.userAgent}`);
  return boundRaw(parts.join(' | '));
}
