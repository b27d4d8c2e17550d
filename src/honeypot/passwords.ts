import type { DigestCheck } from './digest.js';

/**
 * Recovering the password a digest response was computed with. Digest never sends the password, so the
 * honeypot tries the candidates an attacker is likely to have used: what svcrack wrote in its From tag, the
 * bait passwords, variations of the user name, and the passwords SIP crackers try first. Each candidate is
 * checked against the response, so a claim in a tag is recorded only when it is the password actually used.
 */

/** The first guesses of SIP crackers' wordlists (numeric ranges, keyboard walks, PBX defaults). */
const COMMON: readonly string[] = [
  '1234', '12345', '123456', '1234567', '12345678', '123456789', '1234567890', '0000', '00000', '000000', '1111', '11111',
  '111111', '2222', '3333', '4444', '5555', '6666', '7777', '8888', '9999', '123', '1212', '4321', '54321', '654321',
  '147258', '123123', '112233', '121212', '696969', '987654321', '100', '101', '1000', '1001', '2000', '200', 'password',
  'Password', 'password1', 'passw0rd', 'pass', 'pass123', 'secret', 'admin', 'admin123', 'administrator', 'root', 'toor',
  'test', 'test123', 'guest', 'user', 'qwerty', 'qwerty123', 'abc123', 'letmein', 'welcome', 'changeme', 'default',
  'voip', 'voip123', 'sip', 'sip123', 'phone', 'asterisk', 'freepbx', 'elastix', 'trixbox', 'pbx', 'fop', 'amp111',
  'passw0rd1', 'iloveyou', 'monkey', 'dragon', 'master', 'support', 'service', 'cisco', 'polycom', 'yealink', 'snom',
];

/** At most this many candidates are tried per request: about 0.2 ms of hashing. */
const MAX_CANDIDATES = 160;

/**
 * svcrack's From tag is hex(`user:password` 0x01 random digits). Returns the password it claims, or undefined.
 * The tag is the sender's text: the caller only trusts it once the digest response confirms it.
 */
export function svcrackTagPassword(tag: string | undefined): string | undefined {
  if (tag === undefined || tag.length > 512 || !/^(?:[0-9a-f]{2})+$/i.test(tag)) return undefined;
  const bytes = Buffer.from(tag, 'hex');
  const end = bytes.indexOf(0x01);
  if (end <= 0) return undefined;
  const data = bytes.subarray(0, end).toString('utf8');
  const colon = data.indexOf(':');
  return colon < 0 ? undefined : data.slice(colon + 1);
}

function* candidates(username: string, claimed: string | undefined, bait: readonly string[]): Iterable<string> {
  if (claimed !== undefined) yield claimed;
  yield* bait;
  yield username;
  yield `${username}${username}`;
  yield [...username].reverse().join('');
  yield `${username}123`;
  yield `123${username}`;
  yield `${username}1234`;
  yield* COMMON;
}

/** The password among the likely candidates that produced `check`'s response, or undefined. */
export function recoverPassword(check: DigestCheck, username: string, claimed: string | undefined, bait: readonly string[]): string | undefined {
  const tried = new Set<string>();
  for (const candidate of candidates(username, claimed, bait)) {
    if (tried.size >= MAX_CANDIDATES) return undefined;
    if (tried.has(candidate)) continue;
    tried.add(candidate);
    if (check.matches(candidate)) return candidate;
  }
  return undefined;
}
