import { createHash } from 'node:crypto';
import type { SipDigest } from '../parsers/sip/types.js';

/**
 * HTTP digest as SIP uses it (RFC 2617, RFC 7616 for SHA-256, RFC 3261 §22): the response a client computes
 * from the password, and the check of a response against a password. The honeypot challenges with MD5 and
 * qop=auth, as Asterisk does, and accepts MD5, MD5-sess, SHA-256 and SHA-256-sess, with or without qop.
 */

type HashName = 'md5' | 'sha256';

const ALGORITHMS: Record<string, { hash: HashName; session: boolean }> = {
  'md5': { hash: 'md5', session: false },
  'md5-sess': { hash: 'md5', session: true },
  'sha-256': { hash: 'sha256', session: false },
  'sha-256-sess': { hash: 'sha256', session: true },
};

function h(hash: HashName, text: string): string {
  return createHash(hash).update(text, 'utf8').digest('hex');
}

/** The digest parameters a response depends on, besides the password. */
export interface DigestInput {
  username: string;
  realm: string;
  nonce: string;
  uri: string;
  method: string;
  algorithm?: string;
  qop?: string;
  nc?: string;
  cnonce?: string;
}

/**
 * Precomputed parts of one response check, so that trying many passwords (what an attacker may have sent)
 * costs one HA1 and one response hash each. Null for an algorithm or qop this code does not know (auth-int).
 */
export interface DigestCheck {
  matches(password: string): boolean;
}

export function digestCheck(input: DigestInput, response: string): DigestCheck | null {
  const algorithm = ALGORITHMS[(input.algorithm ?? 'MD5').toLowerCase()];
  if (algorithm === undefined) return null;
  const qop = input.qop?.toLowerCase();
  if (qop !== undefined && qop !== 'auth') return null;
  const { hash, session } = algorithm;
  const ha2 = h(hash, `${input.method}:${input.uri}`);
  // svcrack writes qop=auth without cnonce and nc when the challenge had no qop, and hashes as if without qop
  // (formats reference §5.1); reading it that way still recovers the password it tried.
  const withQop = qop === 'auth' && input.nc !== undefined && input.cnonce !== undefined;
  if (session && input.cnonce === undefined) return null;
  const expected = response.toLowerCase();
  return {
    matches(password) {
      let ha1 = h(hash, `${input.username}:${input.realm}:${password}`);
      if (session) ha1 = h(hash, `${ha1}:${input.nonce}:${input.cnonce ?? ''}`);
      const tail = withQop ? `${input.nc}:${input.cnonce}:auth:${ha2}` : ha2;
      return h(hash, `${ha1}:${input.nonce}:${tail}`) === expected;
    },
  };
}

/** The check for credentials as parsed from a request, or null when a field the response needs is missing. */
export function credentialCheck(digest: SipDigest, method: string): DigestCheck | null {
  const { username, realm, nonce, uri, response } = digest;
  if (digest.scheme.toLowerCase() !== 'digest') return null;
  if (username === undefined || realm === undefined || nonce === undefined || uri === undefined || response === undefined) return null;
  const input: DigestInput = { username, realm, nonce, uri, method };
  if (digest.algorithm !== undefined) input.algorithm = digest.algorithm;
  if (digest.qop !== undefined) input.qop = digest.qop;
  if (digest.nc !== undefined) input.nc = digest.nc;
  if (digest.cnonce !== undefined) input.cnonce = digest.cnonce;
  return digestCheck(input, response);
}
