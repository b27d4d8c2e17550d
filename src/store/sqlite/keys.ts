import { ipFamily, normalizeIp, parseCidr } from '../../core/ip.js';

/**
 * Sortable address keys, so that "every address inside a prefix" becomes an index range scan.
 *
 * A key is the family digit followed by the address as fixed-width hex: `4` + 8 digits for IPv4, `6` + 32 digits
 * for IPv6. Keys of one family have one length, so text order is numeric order, and the family digit keeps the
 * two families in disjoint ranges of one column.
 */

const HEX_DIGITS = { 4: 8, 6: 32 } as const;
const BITS = { 4: 32, 6: 128 } as const;

function hex(value: bigint | number, digits: number): string {
  return value.toString(16).padStart(digits, '0');
}

function ipv6Hex(canonical: string): string {
  const halves = canonical.split('::');
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length > 1 && halves[1] ? halves[1].split(':') : [];
  const groups = [...head, ...new Array<string>(8 - head.length - tail.length).fill('0'), ...tail];
  return groups.map((g) => g.padStart(4, '0')).join('');
}

/** The key of one address, or null when the text is not an address. Hot path of appendEvents: no BigInt. */
export function ipKey(ip: string): string | null {
  if (ipFamily(ip) === 4) {
    let out = '4';
    for (const octet of ip.split('.')) out += hex(Number(octet), 2);
    return out;
  }
  const canonical = normalizeIp(ip);
  if (canonical === null) return null;
  // IPv4-mapped IPv6 folds to IPv4, so both spellings share one key.
  if (ipFamily(canonical) === 4) return ipKey(canonical);
  return '6' + ipv6Hex(canonical);
}

/** The inclusive key range of an address or prefix, plus what is needed to find prefixes that contain it. */
export interface KeyRange {
  family: 4 | 6;
  prefix: number;
  start: string;
  end: string;
}

/** Parses an address or prefix (throws SW_ERR_IP) and returns the keys of its first and last address. */
export function cidrRange(text: string): KeyRange {
  const cidr = parseCidr(text);
  const family = cidr.family;
  const bits = BigInt(BITS[family]);
  const start = BigInt('0x' + (ipKey(cidr.network) as string).slice(1));
  const hostMask = (1n << (bits - BigInt(cidr.prefix))) - 1n;
  return {
    family,
    prefix: cidr.prefix,
    start: family + hex(start, HEX_DIGITS[family]),
    end: family + hex(start | hostMask, HEX_DIGITS[family]),
  };
}

/**
 * The start keys of every prefix that contains `range`, from /0 up to and including its own length. A prefix
 * containing an address must start at the address masked to that prefix's length, so these keys turn
 * "which stored prefixes contain this address" into at most 129 index lookups instead of a scan.
 */
export function containingStarts(range: KeyRange): string[] {
  const bits = BITS[range.family];
  const value = BigInt('0x' + range.start.slice(1));
  const starts = new Set<string>();
  for (let prefix = 0; prefix <= range.prefix; prefix++) {
    const hostBits = BigInt(bits - prefix);
    const masked = (value >> hostBits) << hostBits;
    starts.add(range.family + hex(masked, HEX_DIGITS[range.family]));
  }
  return [...starts];
}
