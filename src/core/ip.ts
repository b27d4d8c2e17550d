import { isIPv4, isIPv6 } from 'node:net';
import { swError } from './errors.js';

/**
 * Addresses are kept in one canonical text form: dotted IPv4, RFC 5952 IPv6 (lower case, longest zero run
 * compressed), and IPv4-mapped IPv6 (`::ffff:1.2.3.4`) folded to IPv4, as Asterisk prints it. Two spellings of
 * one address must never become two keys, or an attacker doubles their budget.
 */

export type Family = 4 | 6;

export function ipFamily(ip: string): Family | 0 {
  if (isIPv4(ip)) return 4;
  if (isIPv6(ip)) return 6;
  return 0;
}

function ipv6Groups(ip: string): number[] | null {
  let text = ip;
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  let tail: number[] = [];
  const lastColon = text.lastIndexOf(':');
  const maybeV4 = text.slice(lastColon + 1);
  if (maybeV4.includes('.')) {
    if (!isIPv4(maybeV4)) return null;
    const o = maybeV4.split('.').map(Number) as [number, number, number, number];
    tail = [(o[0] << 8) | o[1], (o[2] << 8) | o[3]];
    text = text.slice(0, lastColon + 1) + (text.endsWith('::' + maybeV4) ? '' : '0');
    if (text.endsWith(':0')) text = text.slice(0, -2);
    else if (text.endsWith(':') && !text.endsWith('::')) text = text.slice(0, -1);
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const parse = (part: string): number[] | null => {
    if (part === '') return [];
    const out: number[] = [];
    for (const group of part.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(group)) return null;
      out.push(parseInt(group, 16));
    }
    return out;
  };
  const head = parse(halves[0] as string);
  const rest = halves.length === 2 ? parse(halves[1] as string) : [];
  if (!head || !rest) return null;
  const known = head.length + rest.length + tail.length;
  if (halves.length === 1 && known !== 8) return null;
  if (halves.length === 2 && known > 7) return null;
  const zeros = new Array<number>(8 - known).fill(0);
  return [...head, ...zeros, ...rest, ...tail];
}

function formatIpv6(groups: number[]): string {
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** Dotted quad with octets 0-255 and no leading zeros (what isIPv4 accepts), without a regex. */
function isDottedQuad(text: string): boolean {
  const length = text.length;
  if (length < 7 || length > 15) return false;
  let dots = 0;
  let digits = 0;
  let value = 0;
  let leadingZero = false;
  for (let i = 0; i < length; i++) {
    const c = text.charCodeAt(i);
    if (c === 46 /* . */) {
      if (digits === 0 || ++dots > 3) return false;
      digits = 0;
      value = 0;
      continue;
    }
    if (c < 48 || c > 57) return false;
    if (digits === 0) leadingZero = c === 48;
    else if (leadingZero) return false;
    value = value * 10 + (c - 48);
    if (++digits > 3 || value > 255) return false;
  }
  return dots === 3 && digits > 0;
}

const v6Cache = new Map<string, string | null>();

/** Canonical form of an address, or null if the text is not exactly one IP address. */
export function normalizeIp(text: string): string | null {
  if (isDottedQuad(text)) return text;
  if (text.indexOf(':') < 0) return null;
  const cached = v6Cache.get(text);
  if (cached !== undefined) return cached;
  const canonical = canonicalIpv6(text);
  if (v6Cache.size >= 50_000) v6Cache.clear();
  v6Cache.set(text, canonical);
  return canonical;
}

function canonicalIpv6(text: string): string | null {
  if (!isIPv6(text)) return null;
  const groups = ipv6Groups(text);
  if (!groups) return null;
  if (groups[0] === 0 && groups[1] === 0 && groups[2] === 0 && groups[3] === 0 && groups[4] === 0 && groups[5] === 0xffff) {
    const a = groups[6] as number;
    const b = groups[7] as number;
    return `${a >> 8}.${a & 255}.${b >> 8}.${b & 255}`;
  }
  return formatIpv6(groups);
}

export interface Endpoint {
  ip: string;
  port?: number;
}

/**
 * Parses what servers print for a peer: `1.2.3.4`, `1.2.3.4:5060`, `[2001:db8::1]:5060`, `[2001:db8::1]`,
 * or a bare IPv6 address. Returns null for anything else.
 */
export function parseEndpoint(text: string): Endpoint | null {
  const length = text.length;
  if (length === 0 || length > 64) return null;
  if (text.charCodeAt(0) === 91 /* [ */) {
    const close = text.indexOf(']');
    if (close < 0) return null;
    const ip = normalizeIp(text.slice(1, close));
    if (!ip) return null;
    if (close + 1 === length) return { ip };
    if (text.charCodeAt(close + 1) !== 58 /* : */) return null;
    const port = portAt(text, close + 2);
    return port < 0 ? null : { ip, port };
  }
  const colon = text.indexOf(':');
  if (colon >= 0 && text.indexOf(':', colon + 1) < 0) {
    const ip = text.slice(0, colon);
    if (!isDottedQuad(ip)) return null;
    const port = portAt(text, colon + 1);
    return port < 0 ? null : { ip, port };
  }
  const ip = normalizeIp(text);
  return ip ? { ip } : null;
}

/** The decimal port from `start` to the end of `text` (1-5 digits, at most 65535), or -1. */
function portAt(text: string, start: number): number {
  const length = text.length;
  if (length === start || length - start > 5) return -1;
  let port = 0;
  for (let i = start; i < length; i++) {
    const c = text.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    port = port * 10 + c;
  }
  return port <= 65535 ? port : -1;
}

/** An address or prefix: `1.2.3.0/24`, `2001:db8::/32`, or a single address (full length). */
export interface Cidr {
  family: Family;
  /** Canonical network address (host bits cleared). */
  network: string;
  prefix: number;
}

export function parseCidr(text: string): Cidr {
  const slash = text.indexOf('/');
  const addrText = slash >= 0 ? text.slice(0, slash) : text;
  const ip = normalizeIp(addrText.trim());
  if (!ip) throw swError('SW_ERR_IP', `"${text}" is not an IPv4 or IPv6 address or prefix`);
  const family = ipFamily(ip) as Family;
  const max = family === 4 ? 32 : 128;
  let prefix = max;
  if (slash >= 0) {
    const p = text.slice(slash + 1).trim();
    if (!/^\d{1,3}$/.test(p) || Number(p) > max) {
      throw swError('SW_ERR_IP', `"${text}": prefix length must be 0-${max}`);
    }
    prefix = Number(p);
  }
  return { family, network: maskIp(ip, prefix), prefix };
}

export function formatCidr(cidr: Cidr): string {
  const max = cidr.family === 4 ? 32 : 128;
  return cidr.prefix === max ? cidr.network : `${cidr.network}/${cidr.prefix}`;
}

function ipv4ToInt(ip: string): number {
  const o = ip.split('.');
  return ((Number(o[0]) << 24) | (Number(o[1]) << 16) | (Number(o[2]) << 8) | Number(o[3])) >>> 0;
}

function intToIpv4(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/** Clears the host bits of a canonical address. */
export function maskIp(ip: string, prefix: number): string {
  if (ipFamily(ip) === 4) {
    if (prefix >= 32) return ip;
    const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
    return intToIpv4((ipv4ToInt(ip) & mask) >>> 0);
  }
  if (prefix >= 128) return ip;
  const groups = ipv6Groups(ip) as number[];
  const out = groups.map((g, i) => {
    const bits = Math.min(16, Math.max(0, prefix - i * 16));
    return bits === 0 ? 0 : g & ((0xffff << (16 - bits)) & 0xffff);
  });
  return formatIpv6(out);
}

/**
 * A set of prefixes with lookup cost bounded by the number of distinct prefix lengths (at most 33 + 129),
 * not by the number of entries, so a customer list of 100k addresses costs the same per event as ten.
 */
export class PrefixSet {
  private readonly byLength = new Map<number, Set<string>>();
  private lengths4: number[] = [];
  private lengths6: number[] = [];
  private count = 0;

  static of(entries: Iterable<string>): PrefixSet {
    const set = new PrefixSet();
    for (const entry of entries) set.add(parseCidr(entry));
    return set;
  }

  add(cidr: Cidr): void {
    const key = cidr.family * 1000 + cidr.prefix;
    let members = this.byLength.get(key);
    if (!members) {
      members = new Set();
      this.byLength.set(key, members);
      const list = cidr.family === 4 ? this.lengths4 : this.lengths6;
      list.push(cidr.prefix);
      list.sort((a, b) => b - a);
    }
    if (!members.has(cidr.network)) {
      members.add(cidr.network);
      this.count++;
    }
  }

  get size(): number {
    return this.count;
  }

  /** Every entry, as text (`10.0.0.0/8`, `192.0.2.7`). */
  *entries(): Generator<string> {
    for (const [key, members] of this.byLength) {
      const family = Math.floor(key / 1000) as Family;
      for (const network of members) yield formatCidr({ family, network, prefix: key % 1000 });
    }
  }

  /** The most specific matching prefix, as text, or null. `ip` must be canonical. */
  match(ip: string): string | null {
    const family = ipFamily(ip);
    if (family === 0) return null;
    for (const prefix of family === 4 ? this.lengths4 : this.lengths6) {
      const network = maskIp(ip, prefix);
      if (this.byLength.get(family * 1000 + prefix)?.has(network)) return formatCidr({ family, network, prefix });
    }
    return null;
  }

  has(ip: string): boolean {
    return this.match(ip) !== null;
  }
}

/** True if `ip` (canonical) lies inside `cidr`. */
export function cidrContains(cidr: Cidr, ip: string): boolean {
  const family = ipFamily(ip);
  return family === cidr.family && maskIp(ip, cidr.prefix) === cidr.network;
}

/**
 * Finds every IPv4 or IPv6 address-looking token in a text; used to list candidates of a tampered line.
 * A token may be glued to a prefix by a colon (`IP:1.2.3.4:5060`, `sip:2001:db8::1`), so each suffix after
 * a colon is tried too.
 */
export function findAddresses(text: string): string[] {
  const found = new Set<string>();
  const re = /\[?([0-9a-fA-F:.]{2,60})\]?/g;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const token = m[1] as string;
    const tries = [token];
    for (let i = token.indexOf(':'); i >= 0 && tries.length < 10; i = token.indexOf(':', i + 1)) tries.push(token.slice(i + 1));
    for (const attempt of tries) {
      const ip = normalizeIp(attempt) ?? parseEndpoint(attempt)?.ip;
      if (ip) {
        found.add(ip);
        break;
      }
    }
  }
  return [...found];
}
