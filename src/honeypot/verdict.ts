import { createHash } from 'node:crypto';
import type { SipRequest } from '../parsers/sip/types.js';
import type { HoneypotOutcome } from '../store/types.js';
import type { NonceState } from './nonce.js';
import { reasonPhrase } from './responses.js';

/** What the credentials of one request came to. `nonce` is absent when there were none. */
export interface AuthResult {
  nonce?: NonceState;
  username?: string;
  /** The user name is a bait account. */
  bait: boolean;
  /** The response matches the bait account's password. */
  ok: boolean;
  /** The password tried, when recovered (see passwords.ts). */
  password?: string;
}

/** What the honeypot answers, and what it makes of the request. */
export interface Verdict {
  outcome?: HoneypotOutcome;
  status?: number;
  /** Send a fresh challenge (401, or 407 for INVITE), marked stale when the nonce was ours but old. */
  challenge?: 'fresh' | 'stale';
  /** What the request proved about an account: a wrong or right bait password, or a user that is not bait. */
  authEvent?: 'auth-failure' | 'unknown-account' | 'auth-success';
  headers?: [string, string][];
}

export interface VerdictContext {
  reject: number;
  now: number;
  /** The user the request is about (credentials' user name, else REGISTER's To user, else the From user) is bait. */
  baitTarget: boolean;
}

/** Like Asterisk's chan_pjsip answer to OPTIONS. */
const OPTIONS_HEADERS: [string, string][] = [
  ['Allow', 'OPTIONS, REGISTER, SUBSCRIBE, NOTIFY, PUBLISH, INVITE, ACK, BYE, CANCEL, UPDATE, PRACK, MESSAGE, REFER'],
  ['Accept', 'application/sdp, application/simple-message-summary, application/pidf+xml, message/sipfrag;version=2.0'],
  ['Supported', '100rel, timer, replaces, norefersub'],
  ['Accept-Encoding', 'text/plain'],
  ['Accept-Language', 'en'],
];

const MAX_EXPIRES = 3600;
const MAX_CONTACTS = 5;

/**
 * The answer to one request. OPTIONS: 200. CANCEL, BYE: 481 (every INVITE already had its final answer).
 * ACK: nothing. A REGISTER (or SUBSCRIBE, MESSAGE...) for a user that is not bait: 404, as a PBX without
 * alwaysauthreject answers, the configuration enumerators look for: svwar then finds exactly the bait accounts
 * and crackers go for them. Everything else needs credentials: none or not ours -> challenge (INVITEs always
 * are, whoever the caller claims to be); ours but old -> stale challenge; a wrong password -> a new challenge;
 * a bait password -> REGISTER 200, INVITE the configured rejection, anything else 403. Nothing is ever
 * forwarded or called.
 */
export function verdictFor(request: SipRequest, method: string, auth: AuthResult, context: VerdictContext): Verdict {
  if (method === 'ACK') return {};
  if (method === 'OPTIONS') return { outcome: 'answered', status: 200, headers: OPTIONS_HEADERS };
  if (method === 'CANCEL' || method === 'BYE') return { outcome: 'ignored', status: 481 };
  if (method !== 'INVITE' && !context.baitTarget) {
    // Credentials never came from our nonce for a user we never challenged: a guess from elsewhere, still a probe.
    return { outcome: 'unknown-account', status: 404, authEvent: 'unknown-account' };
  }
  if (auth.nonce === undefined || auth.nonce === 'foreign') return { outcome: 'challenged', challenge: 'fresh' };
  if (auth.nonce === 'stale') return { outcome: 'stale', challenge: 'stale' };
  if (!auth.ok) {
    return auth.bait
      ? { outcome: 'wrong-password', challenge: 'fresh', authEvent: 'auth-failure' }
      : { outcome: 'unknown-account', challenge: 'fresh', authEvent: 'unknown-account' };
  }
  if (method === 'REGISTER') return { outcome: 'registered', status: 200, authEvent: 'auth-success', headers: registered(request, context.now) };
  if (method === 'INVITE') return { outcome: 'rejected', status: context.reject };
  return { outcome: 'rejected', status: 403 };
}

/** The 200 to a REGISTER: every binding echoed with its expiry, as a registrar that stored them would. */
function registered(request: SipRequest, now: number): [string, string][] {
  const asked = request.expires ?? Number(request.contact?.params.expires ?? MAX_EXPIRES);
  const expires = Number.isFinite(asked) ? Math.max(0, Math.min(MAX_EXPIRES, Math.floor(asked))) : MAX_EXPIRES;
  const headers: [string, string][] = [];
  if (expires > 0) {
    for (const contact of request.contacts.slice(0, MAX_CONTACTS)) {
      if (contact.uri !== '*' && contact.uri.length <= 256) headers.push(['Contact', `<${contact.uri}>;expires=${expires}`]);
    }
  }
  headers.push(['Expires', String(expires)], ['Date', new Date(now).toUTCString()]);
  return headers;
}

/** The challenge header, in the order Asterisk writes it (svcrack reads `algorithm=` only when a comma follows). */
export function challengeHeader(method: string, realm: string, nonce: string, stale: boolean, qop: boolean): { status: number; header: [string, string] } {
  const opaque = createHash('md5').update(nonce).digest('hex');
  const value = `Digest realm="${realm}",nonce="${nonce}",opaque="${opaque}",algorithm=md5${qop ? ',qop="auth"' : ''}${stale ? ',stale=true' : ''}`;
  return method === 'INVITE'
    ? { status: 407, header: ['Proxy-Authenticate', value] }
    : { status: 401, header: ['WWW-Authenticate', value] };
}

export function statusText(status: number): string {
  return `${status} ${reasonPhrase(status)}`;
}
