import { boundRaw, type Disposition, type EventKind, type Evidence, type SecurityEvent, type Transport } from '../../core/event.js';
import { PrefixSet } from '../../core/ip.js';
import type { SipRequest, SipResponse } from '../../parsers/sip/types.js';
import { parseUri } from '../../parsers/sip/fields.js';
import { scannerFingerprint } from './fingerprint.js';
import { TimedMap } from './timed-map.js';
import type { WireOptions, WirePacket } from './types.js';

/**
 * Turns SIP messages seen on the wire (HEP copies of a server's traffic) into the same events the log parsers
 * produce, so one set of rules and one policy judge both.
 *
 * - Each response is paired with its request by transaction (top Via branch, Call-ID, CSeq), so the verdict
 *   knows whether credentials were sent: `401 -> REGISTER with credentials -> 403` is an auth failure, a 200
 *   to REGISTER an auth success, a 404 to INVITE a dialplan miss.
 * - A 401/407 is not an event (every registration gets one); one that the client never answers with credentials is a probe of that account (svwar against a
 *   server that challenges every user): `unknown-account` once the challenge timed out.
 * - Requests are checked for scanner fingerprints and counted per source for floods; each initial INVITE is a
 *   `call-start` with its destination (the invite-spray rule counts distinct destinations).
 * - Evidence is `verified` when the message came over a connection (TCP, TLS) or the credentials carried a
 *   nonce the server had sent to that same address; otherwise `spoofable`.
 *
 * It runs on the packets' own time, holds no timers and no sockets, and bounds every table, so a million
 * one-packet sources cost a fixed amount each and then age out. Not safe for concurrent use.
 */

/** What a transaction's request told us, kept until its final response (or Timer B, 32 s). */
interface Transaction {
  at: number;
  ip: string;
  port: number;
  transport: Transport;
  method: string;
  /** The request line, a detached copy: nothing here may pin the whole message text for 32 s. */
  line: string;
  userAgent?: string;
  /** The credentials' username, when the request carried Authorization/Proxy-Authorization. */
  authUser?: string;
  /** The credentials answered a challenge this analyzer saw sent to the same address. */
  answered: boolean;
  /** The request had a To tag: it belongs to a dialog (re-INVITE, BYE...). */
  inDialog: boolean;
}

/** A 401/407 sent to a client that sent no credentials; removed when they come. */
interface Challenge {
  at: number;
  ip: string;
  port: number;
  transport: Transport;
  method: string;
  account?: string;
  destination?: string;
  userAgent?: string;
  callId?: string;
  nonce?: string;
  /** The request line (shared with its transaction) and the status, for the probe event's `raw`. */
  line?: string;
  status: number;
}

/** An initial INVITE from a client, until its final answer; then, if answered, a dialog until its BYE. */
interface Call {
  /** Start time while pending; answer time once it is a dialog (the tables age entries by `at`). */
  at: number;
  startedAt: number;
  ip: string;
  port: number;
  transport: Transport;
  account?: string;
  destination?: string;
  callId: string;
  verified: boolean;
}

/** How long an INVITE may ring (RFC 3261 Timer C is 3 min) and how long a call may last before we forget it. */
const RINGING_MS = 300_000;
const DIALOG_MS = 86_400_000;

/** Final answers to an INVITE, as a CDR would say them. */
function dispositionOf(status: number): Disposition {
  if (status < 300) return 'answered';
  if (status === 486 || status === 600) return 'busy';
  if (status === 487) return 'cancel';
  if (status === 408 || status === 480) return 'no-answer';
  if (status === 502 || status === 503 || status === 504) return 'congestion';
  return 'failed';
}

/** RFC 3261 Timer B / F: a transaction with no final response after this is gone. */
const TRANSACTION_MS = 32_000;
/** A source silent this long has no flood window or cooldown worth keeping. */
const SOURCE_IDLE_MS = 120_000;
const SWEEP_EVERY = 65_536;
/** How long a nonce the server sent can come back (Kamailio's nonce_expire default is 300 s). */
const NONCE_MS = 300_000;

const INVITE_MISS = new Set([404, 484, 604]);
/** Requests that only exist inside a dialog or a transaction: their failures are not about an account. */
const IN_DIALOG = new Set(['ACK', 'BYE', 'CANCEL', 'PRACK', 'UPDATE', 'INFO', 'NOTIFY', 'REFER']);
const NOTHING: readonly SecurityEvent[] = Object.freeze([]);

export interface WireStats {
  requests: number;
  responses: number;
  /** Responses whose request was never seen (one-way capture, or it aged out). */
  unpaired: number;
  /** Packets sent by a configured server to another party: never blamed on it. */
  fromServers: number;
  events: number;
  sources: number;
  transactions: number;
  challenges: number;
}

export class WireAnalyzer {
  private readonly servers: PrefixSet;
  private readonly anyServers: boolean;
  private readonly extraAgents: readonly string[];
  private readonly maxTransactions: number;
  private readonly maxSources: number;

  private readonly transactions = new TimedMap<Transaction>();
  private readonly challenges = new TimedMap<Challenge>();
  /** ip|nonce of challenges that were answered, and of re-challenges to credentials: later guesses on them are proven. */
  private readonly issued = new TimedMap<{ at: number }>();
  /** ip|Call-ID of INVITEs already counted as a call start (a challenged INVITE is sent twice). */
  private readonly calls = new TimedMap<Call>();
  /** Answered calls by the same key, until a BYE ends them: each becomes a `call-end` with its duration. */
  private readonly dialogs = new TimedMap<Call>();

  /** Per-source flood and throttle state in flat arrays: a slot per address, found through `slots`. */
  private readonly slots = new Map<string, number>();
  private free: number[] = [];
  private capacity = 0;
  private windowStart = new Float64Array(0);
  private windowCount = new Uint32Array(0);
  private floodUntil = new Float64Array(0);
  private scannerUntil = new Float64Array(0);
  private lastSeen = new Float64Array(0);

  private latest = 0;
  private sinceSweep = 0;
  readonly stats: WireStats = { requests: 0, responses: 0, unpaired: 0, fromServers: 0, events: 0, sources: 0, transactions: 0, challenges: 0 };

  constructor(private readonly options: WireOptions) {
    this.servers = PrefixSet.of(options.servers);
    this.anyServers = this.servers.size > 0;
    this.extraAgents = options.scanners.map((agent) => agent.toLowerCase());
    this.maxTransactions = options.maxTransactions ?? 200_000;
    this.maxSources = options.maxSources ?? 2_000_000;
  }

  /** Events for one message; never throws on any parsed message. */
  observe(packet: WirePacket): SecurityEvent[] {
    if (packet.at > this.latest) this.latest = packet.at;
    const out: SecurityEvent[] = [];
    this.expire(this.latest, out);
    if (packet.message.kind === 'request') this.request(packet, packet.message, out);
    else this.response(packet, packet.message, out);
    if (++this.sinceSweep >= SWEEP_EVERY) this.sweepSources();
    this.stats.events += out.length;
    return out;
  }

  /** Challenges that timed out by `now` (call about once a second while traffic is quiet). */
  flush(now: number): SecurityEvent[] {
    if (now > this.latest) this.latest = now;
    const out: SecurityEvent[] = [];
    this.expire(this.latest, out);
    this.stats.events += out.length;
    return out.length === 0 ? (NOTHING as SecurityEvent[]) : out;
  }

  private request(packet: WirePacket, message: SipRequest, out: SecurityEvent[]): void {
    this.stats.requests++;
    // Either side may hang up, the server included: a BYE ends the dialog before anything else is judged.
    if (message.method === 'BYE' && message.callId !== undefined && this.dialogs.size > 0) this.hangup(packet, message.callId, out);
    if (this.anyServers && this.servers.has(packet.srcIp)) {
      this.stats.fromServers++;
      return;
    }
    const method = canonicalMethod(message.method);
    if (method === 'ACK') return;
    const slot = this.slot(packet.srcIp, packet.at);
    if (slot >= 0) this.countRequest(slot, packet, message, out);

    const callId = message.callId;
    const credentials = message.authorization;
    const authUser = credentials?.username;
    let answered = false;
    if (credentials) answered = this.answer(packet.srcIp, callId, credentials.nonce, packet.at);

    const account = method === 'REGISTER' ? (message.to?.user ?? message.from?.user) : (message.from?.user ?? message.to?.user);
    const destination = method === 'INVITE' ? (parseUri(message.requestUri).user ?? message.to?.user) : undefined;
    const userAgent = message.userAgent;

    if (method === 'INVITE' && message.to?.tag === undefined && callId !== undefined) {
      const callKey = detach(`${packet.srcIp}|${callId}`);
      const pending = this.calls.get(callKey);
      if (pending !== undefined) {
        // The same call retried with credentials: from now on it is the authenticated account's call.
        if (authUser !== undefined) pending.account = this.intern(this.accounts, authUser, 64);
        pending.verified ||= answered;
      } else if (!this.dialogs.has(callKey)) {
        const call: Call = {
          at: packet.at, startedAt: packet.at, ip: packet.srcIp, port: packet.srcPort, transport: packet.transport,
          callId: detach(callId.length > 128 ? callId.slice(0, 128) : callId), verified: this.evidence(packet.transport, answered) === 'verified',
        };
        const caller = authUser ?? account;
        if (caller !== undefined) call.account = this.intern(this.accounts, caller, 64);
        if (destination !== undefined) call.destination = this.intern(this.accounts, destination, 64);
        this.calls.set(callKey, call);
        if (this.calls.size > this.maxTransactions) this.calls.shift();
        out.push(this.event(packet, 'call-start', {
          account: authUser ?? account, destination, userAgent, callId, raw: boundRaw(packet.raw ?? message.head),
          evidence: this.evidence(packet.transport, answered), pattern: 'wire-invite', reason: 'initial INVITE',
        }));
      }
    }

    const found = transactionKey(message.via?.branch, callId, message.cseq?.seq, message.cseq?.method ?? method);
    if (found === undefined || this.transactions.has(found)) return; // retransmission: the first copy stands
    const key = detach(found);
    const inDialog = message.to?.tag !== undefined;
    const line = detach(`${method} ${message.requestUri.length > 200 ? message.requestUri.slice(0, 200) : message.requestUri}`);
    const transaction: Transaction = { at: packet.at, ip: packet.srcIp, port: packet.srcPort, transport: packet.transport, method, line, answered, inDialog };
    if (userAgent !== undefined) transaction.userAgent = this.intern(this.agents, userAgent, 256);
    if (authUser !== undefined) transaction.authUser = detach(authUser);
    this.transactions.set(key, transaction);
    if (this.transactions.size > this.maxTransactions) this.transactions.shift();
    this.stats.transactions = this.transactions.size;
  }

  /** Flood counting and the scanner check, both throttled per source to one event per cooldown. */
  private countRequest(slot: number, packet: WirePacket, message: SipRequest, out: SecurityEvent[]): void {
    const second = Math.floor(packet.at / 1000) * 1000;
    if (this.windowStart[slot] !== second) {
      this.windowStart[slot] = second;
      this.windowCount[slot] = 0;
    }
    const count = ++this.windowCount[slot]!;
    if (count > this.options.floodRate && packet.at >= this.floodUntil[slot]!) {
      this.floodUntil[slot] = packet.at + this.options.cooldownMs;
      out.push(this.event(packet, 'flood', {
        userAgent: message.userAgent, callId: message.callId, raw: boundRaw(packet.raw ?? packet.message.head),
        evidence: this.evidence(packet.transport, false), pattern: 'wire-flood',
        reason: `more than ${this.options.floodRate} SIP requests in one second`,
      }));
    }
    if (packet.at < this.scannerUntil[slot]!) return;
    const match = scannerFingerprint(message, this.extraAgents);
    if (match === undefined || match.confidence !== 'high') return;
    this.scannerUntil[slot] = packet.at + this.options.cooldownMs;
    out.push(this.event(packet, 'scanner', {
      account: message.from?.user, userAgent: message.userAgent, callId: message.callId, raw: boundRaw(packet.raw ?? packet.message.head),
      evidence: this.evidence(packet.transport, false), pattern: `wire-scanner-${match.tool}`, reason: match.reason,
    }));
  }

  private response(packet: WirePacket, message: SipResponse, out: SecurityEvent[]): void {
    this.stats.responses++;
    const status = message.status;
    if (status < 200) return;
    const method = message.cseq?.method ?? message.method ?? '';
    const key = transactionKey(message.via?.branch, message.callId, message.cseq?.seq, method);
    const transaction = key === undefined ? undefined : this.transactions.get(key);
    if (transaction !== undefined) this.transactions.delete(key!);
    else this.stats.unpaired++;

    // The client: whoever sent the request, else whoever this response goes to.
    const ip = transaction?.ip ?? packet.dstIp;
    if (this.anyServers && this.servers.has(ip)) {
      this.stats.fromServers++;
      return;
    }
    if (method === 'INVITE' && transaction !== undefined && !transaction.inDialog && status !== 401 && status !== 407) {
      this.settle(packet, `${ip}|${message.callId ?? ''}`, status, out);
    }
    const port = transaction?.port ?? packet.dstPort;
    const transport = transaction?.transport ?? packet.transport;
    const credentials = transaction?.authUser !== undefined;
    // The response repeats From, To and Call-ID: account and destination come from it, not from a kept request.
    const account = transaction?.authUser ?? (method === 'REGISTER' ? (message.to?.user ?? message.from?.user) : (message.from?.user ?? message.to?.user));
    const destination = method === 'INVITE' ? message.to?.user : undefined;

    // Decide first, build once: most responses (200 to OPTIONS, 180, 486...) yield nothing.
    let kind: EventKind;
    let pattern: string;
    let why: string;
    if (status < 300) {
      if (method === 'REGISTER') [kind, pattern, why] = ['auth-success', 'wire-register-ok', credentials ? 'registered with credentials' : 'registered'];
      else if (method === 'INVITE') [kind, pattern, why] = ['call-answer', 'wire-invite-ok', 'call answered'];
      else return;
    } else if (IN_DIALOG.has(method) || transaction?.inDialog === true) {
      // BYE, CANCEL, a re-INVITE: failures inside a dialog (481, a 403 to a stray BYE) say nothing about an account.
      return;
    } else if (status === 401 || status === 407) {
      if (credentials && message.wwwAuthenticate?.stale?.toLowerCase() === 'true') return; // an old nonce, not a wrong password
      if (!credentials) {
        // Not an event of its own (every registration is challenged); only a challenge left unanswered is one.
        this.remember(packet.at, ip, port, transport, method, account, destination, transaction, message, packet);
        return;
      }
      this.issue(ip, message.wwwAuthenticate?.nonce, packet.at);
      [kind, pattern, why] = ['auth-failure', 'wire-auth-rejected', 'credentials rejected with a new challenge'];
    } else if (status === 403) {
      if (credentials) [kind, pattern, why] = ['auth-failure', 'wire-auth-forbidden', 'credentials refused'];
      // A registration refused before any challenge: the server will not have that account from there. One
      // source collecting such refusals for many accounts is enumerating (the enumeration rule counts them).
      else if (method === 'REGISTER') [kind, pattern, why] = ['unknown-account', 'wire-register-forbidden', 'account refused without a challenge'];
      else [kind, pattern, why] = ['acl-denied', 'wire-forbidden', 'refused without credentials'];
    } else if (method === 'INVITE' && INVITE_MISS.has(status)) {
      [kind, pattern, why] = ['dialplan-miss', 'wire-invite-miss', 'no such destination'];
    } else if (status === 404 && method !== 'INVITE') {
      [kind, pattern, why] = ['unknown-account', 'wire-not-found', 'no such account'];
    } else {
      return;
    }
    out.push(build({
      at: packet.at, kind, ip, port, transport, account, destination, userAgent: transaction?.userAgent, callId: message.callId,
      raw: boundRaw(transaction === undefined ? (packet.raw ?? message.head) : `${transaction.line}\n${packet.raw ?? message.head}`),
      evidence: this.evidence(transport, transaction?.answered ?? false),
      pattern, reason: `${status} ${clip(message.reason)} to ${method}: ${why}`,
    }));
  }

  /** A final answer to an initial INVITE: an answered call becomes a dialog; any other answer ends the call. */
  private settle(packet: WirePacket, key: string, status: number, out: SecurityEvent[]): void {
    const call = this.calls.get(key);
    if (call === undefined) return;
    this.calls.delete(key);
    if (status < 300) {
      this.dialogs.set(key, { ...call, at: packet.at });
      if (this.dialogs.size > this.maxTransactions) this.dialogs.shift();
      return;
    }
    out.push(this.callEnd(call, packet.at, 0, dispositionOf(status), `${status} to INVITE`));
  }

  /** A BYE from either side of an answered call we saw start. */
  private hangup(packet: WirePacket, callId: string, out: SecurityEvent[]): void {
    for (const ip of [packet.srcIp, packet.dstIp]) {
      const key = `${ip}|${callId}`;
      const dialog = this.dialogs.get(key);
      if (dialog === undefined) continue;
      this.dialogs.delete(key);
      out.push(this.callEnd(dialog, packet.at, Math.max(0, Math.round((packet.at - dialog.at) / 1000)), 'answered', `BYE from ${ip === packet.srcIp ? 'the caller' : 'the called side'}`));
      return;
    }
  }

  private callEnd(call: Call, at: number, billSec: number, disposition: Disposition, why: string): SecurityEvent {
    const event = build({
      at, kind: 'call-end', ip: call.ip, port: call.port, transport: call.transport, account: call.account, destination: call.destination,
      callId: call.callId, evidence: call.verified ? 'verified' : 'spoofable', pattern: 'wire-call-end', reason: why,
      raw: `call ${call.callId} from ${call.account ?? '?'} to ${call.destination ?? '?'}: ${disposition}, ${why}`,
    });
    event.call = { durationSec: Math.max(0, Math.round((at - call.startedAt) / 1000)), billSec, disposition };
    return event;
  }

  /** Records a nonce the server sent to this address, so credentials carrying it prove the address. */
  private issue(ip: string, nonce: string | undefined, at: number): void {
    if (nonce === undefined || nonce === '') return;
    const key = detach(`${ip}|${nonce}`);
    this.issued.set(key, { at });
    if (this.issued.size > this.maxTransactions) this.issued.shift();
  }

  /** Records a challenge sent to a client that offered no credentials. */
  private remember(
    at: number, ip: string, port: number, transport: Transport, method: string, account: string | undefined,
    destination: string | undefined, transaction: Transaction | undefined, message: SipResponse, packet: WirePacket,
  ): void {
    const callId = message.callId;
    // One pending challenge per client and Call-ID (svwar and friends use a Call-ID per account they try).
    const key = detach(`${ip}|${callId ?? account ?? ''}`);
    if (this.challenges.has(key)) return;
    // Kept up to the challenge timeout: detached or shared copies, so the 401's text is not pinned with them.
    // The nonce stays with its challenge; only once answered does it move to `issued` (a million unanswered
    // challenges must not fill both tables).
    const entry: Challenge = { at, ip, port, transport, method, status: message.status };
    if (transaction !== undefined) entry.line = transaction.line;
    if (account !== undefined) entry.account = this.intern(this.accounts, account, 64);
    if (destination !== undefined) entry.destination = this.intern(this.accounts, destination, 64);
    if (transaction?.userAgent !== undefined) entry.userAgent = transaction.userAgent;
    if (callId !== undefined) entry.callId = detach(callId.length > 128 ? callId.slice(0, 128) : callId);
    const nonce = message.wwwAuthenticate?.nonce;
    if (nonce !== undefined && nonce !== '') entry.nonce = detach(nonce.length > 128 ? nonce.slice(0, 128) : nonce);
    this.challenges.set(key, entry);
    if (this.challenges.size > this.maxTransactions) {
      this.challenges.shift();
    }
    this.stats.challenges = this.challenges.size;
  }

  /**
   * A request with credentials: clears the challenge it answers. True when its nonce is one the server sent
   * to this same address, which proves the address (a forged source never sees the challenge).
   */
  private answer(ip: string, callId: string | undefined, nonce: string | undefined, at: number): boolean {
    let proven = nonce !== undefined && this.issued.has(`${ip}|${nonce}`);
    if (callId !== undefined) {
      // Same client, same Call-ID: this answers its pending challenge (a client on a new Call-ID leaves it to
      // time out as a probe: RFC 3261 has REGISTER and INVITE retries keep the Call-ID).
      const key = `${ip}|${callId}`;
      const challenge = this.challenges.get(key);
      if (challenge !== undefined) {
        if (nonce !== undefined && challenge.nonce === nonce) {
          proven = true;
          this.issue(ip, nonce, at); // later guesses on the same nonce stay proven
        }
        this.dropChallenge(key);
      }
    }
    return proven;
  }

  private dropChallenge(key: string): void {
    if (this.challenges.delete(key)) this.stats.challenges = this.challenges.size;
  }

  /** Ages out transactions, call starts and challenges; an unanswered challenge becomes an account probe. */
  private expire(now: number, out: SecurityEvent[]): void {
    this.transactions.expire(now - TRANSACTION_MS);
    this.stats.transactions = this.transactions.size;
    this.calls.expire(now - RINGING_MS);
    this.dialogs.expire(now - DIALOG_MS);
    this.issued.expire(now - NONCE_MS);
    this.challenges.expire(now - this.options.challengeTimeoutMs, (_key, challenge) => {
      out.push(build({
        at: challenge.at, kind: 'unknown-account', ip: challenge.ip, port: challenge.port, transport: challenge.transport,
        account: challenge.account, destination: challenge.destination, userAgent: challenge.userAgent, callId: challenge.callId,
        evidence: this.evidence(challenge.transport, false), pattern: 'wire-challenge-unanswered',
        raw: `${challenge.line ?? challenge.method} -> ${challenge.status}, never answered with credentials`,
        reason: `${challenge.method} challenged and never answered with credentials: a probe of the account`,
      }));
    });
    this.stats.challenges = this.challenges.size;
  }

  /** One shared copy per distinct User-Agent (a network has few) and per account name tried; bounded. */
  private readonly agents = new Map<string, string>();
  private readonly accounts = new Map<string, string>();
  private intern(table: Map<string, string>, text: string, max: number): string {
    const known = table.get(text);
    if (known !== undefined) return known;
    if (table.size >= 4096) table.clear();
    const copy = detach(text.length > max ? text.slice(0, max) : text);
    table.set(copy, copy);
    return copy;
  }

  private evidence(transport: Transport, answered: boolean): Evidence {
    return transport !== 'udp' || answered ? 'verified' : 'spoofable';
  }

  private event(
    packet: WirePacket,
    kind: EventKind,
    fields: {
      account?: string | undefined; destination?: string | undefined; userAgent?: string | undefined; callId?: string | undefined;
      raw: string; evidence: Evidence; pattern: string; reason: string;
    },
  ): SecurityEvent {
    return build({ at: packet.at, kind, ip: packet.srcIp, port: packet.srcPort, transport: packet.transport, ...fields });
  }

  /** The slot of a source, allocating one; -1 when the table is full of sources active in the last minutes. */
  private slot(ip: string, at: number): number {
    let slot = this.slots.get(ip);
    if (slot === undefined) {
      if (this.slots.size >= this.maxSources) {
        this.sweepSources();
        if (this.slots.size >= this.maxSources) return -1;
      }
      slot = this.free.pop() ?? this.grow();
      this.slots.set(ip, slot);
      this.windowStart[slot] = 0;
      this.windowCount[slot] = 0;
      this.floodUntil[slot] = 0;
      this.scannerUntil[slot] = 0;
      this.stats.sources = this.slots.size;
    }
    this.lastSeen[slot] = at;
    return slot;
  }

  private grow(): number {
    const next = this.capacity;
    if (next >= this.windowStart.length) {
      const size = Math.max(1024, this.windowStart.length * 2);
      this.windowStart = resize(this.windowStart, new Float64Array(size));
      this.windowCount = resize(this.windowCount, new Uint32Array(size));
      this.floodUntil = resize(this.floodUntil, new Float64Array(size));
      this.scannerUntil = resize(this.scannerUntil, new Float64Array(size));
      this.lastSeen = resize(this.lastSeen, new Float64Array(size));
    }
    this.capacity++;
    return next;
  }

  /** Frees the slots of sources idle for SOURCE_IDLE_MS and past their cooldowns. */
  private sweepSources(): void {
    this.sinceSweep = 0;
    const idleBefore = this.latest - SOURCE_IDLE_MS;
    for (const [ip, slot] of this.slots) {
      if (this.lastSeen[slot]! < idleBefore && this.floodUntil[slot]! < this.latest && this.scannerUntil[slot]! < this.latest) {
        this.slots.delete(ip);
        this.free.push(slot);
      }
    }
    this.stats.sources = this.slots.size;
  }
}

const METHODS = new Map(
  ['REGISTER', 'INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS', 'SUBSCRIBE', 'NOTIFY', 'MESSAGE', 'INFO', 'PRACK', 'UPDATE', 'REFER', 'PUBLISH']
    .map((method) => [method, method]),
);

/** The shared constant for a known method (a request's own text would pin the message), else a short copy. */
function canonicalMethod(method: string): string {
  return METHODS.get(method) ?? detach(method.length > 32 ? method.slice(0, 32) : method);
}

/**
 * A flat copy of a string. Substrings share their parent's memory in V8, so a user name sliced out of a 600-byte
 * message pins all of it; concatenating then slicing forces a copy.
 */
function detach(text: string): string {
  return (` ${text}`).slice(1);
}

function resize<T extends Float64Array | Uint32Array>(old: T, grown: T): T {
  grown.set(old);
  return grown;
}

/** Top Via branch (RFC 3261 §17.1.3) with CSeq, else Call-ID and CSeq for RFC 2543 clients. */
function transactionKey(branch: string | undefined, callId: string | undefined, seq: number | undefined, method: string): string | undefined {
  if (branch !== undefined && branch.startsWith('z9hG4bK')) return `${branch}|${method}|${callId ?? ''}`;
  if (callId === undefined || seq === undefined) return undefined;
  return `${callId}|${seq}|${method}`;
}


function clip(text: string): string {
  if (text.length <= 48 && isPrintable(text)) return text;
  const printable = text.replace(/[^\x20-\x7e]/g, '?');
  return printable.length > 48 ? `${printable.slice(0, 48)}...` : printable;
}

function isPrintable(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code > 0x7e) return false;
  }
  return true;
}

/** An event with only the fields that have values (the store and `why` treat absent and undefined alike). */
function build(fields: {
  at: number; kind: EventKind; ip: string; port: number; transport: Transport; evidence: Evidence; raw: string;
  account?: string | undefined; destination?: string | undefined; userAgent?: string | undefined; callId?: string | undefined;
  pattern: string; reason: string;
}): SecurityEvent {
  const event: SecurityEvent = {
    at: fields.at, kind: fields.kind, ip: fields.ip, port: fields.port, transport: fields.transport,
    server: 'hep', evidence: fields.evidence, pattern: fields.pattern, reason: fields.reason, raw: fields.raw,
  };
  if (fields.account !== undefined) event.account = fields.account;
  if (fields.destination !== undefined) event.destination = fields.destination;
  if (fields.userAgent !== undefined) event.userAgent = fields.userAgent;
  if (fields.callId !== undefined) event.callId = fields.callId;
  return event;
}
