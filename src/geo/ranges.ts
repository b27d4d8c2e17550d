import { ipFamily, normalizeIp } from '../core/ip.js';

/**
 * Address ranges mapped to a value (a country code, an ASN record), looked up by binary search. IPv4 ranges
 * live in Uint32Arrays, IPv6 ranges in BigUint64Arrays (high and low halves), so a full DB-IP or IP2Location
 * lite file (about 600k ranges) costs a few tens of MiB and a lookup costs about 20 comparisons.
 */

/** An address as numbers: IPv4 as an unsigned 32-bit value, IPv6 as two unsigned 64-bit halves. */
export type AddressValue = { family: 4; value: number } | { family: 6; hi: bigint; lo: bigint };

const MAX_V4 = 0xffff_ffffn;
const MASK64 = 0xffff_ffff_ffff_ffffn;
/** ::ffff:0:0/96, where IP2Location's IPv6 files keep every IPv4 range. */
const MAPPED_V4 = 0xffff_0000_0000n;

function v6(value: bigint): AddressValue {
  return { family: 6, hi: value >> 64n, lo: value & MASK64 };
}

/**
 * A range written as decimal numbers (IP2Location). The family follows from both ends together: the IPv6
 * files start with a row from 0 to ::fffe:ffff:ffff, which is IPv6 although its start fits in 32 bits.
 */
export function decimalRange(startText: string, endText: string): [AddressValue, AddressValue] | null {
  if (!/^\d{1,39}$/.test(startText) || !/^\d{1,39}$/.test(endText)) return null;
  const start = BigInt(startText);
  const end = BigInt(endText);
  if (end > (1n << 128n) - 1n) return null;
  if (end <= MAX_V4) return [{ family: 4, value: Number(start) }, { family: 4, value: Number(end) }];
  if (start >> 32n === 0xffffn && end >> 32n === 0xffffn) {
    return [{ family: 4, value: Number(start - MAPPED_V4) }, { family: 4, value: Number(end - MAPPED_V4) }];
  }
  return [v6(start), v6(end)];
}

/** A dotted or colon address; IPv4-mapped IPv6 folds to IPv4. */
export function addressValue(text: string): AddressValue | null {
  const canonical = normalizeIp(text);
  if (canonical === null) return null;
  if (ipFamily(canonical) === 4) {
    const octets = canonical.split('.').map(Number);
    return { family: 4, value: (((octets[0]! << 24) >>> 0) + (octets[1]! << 16) + (octets[2]! << 8) + octets[3]!) >>> 0 };
  }
  const halves = canonical.split('::');
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length > 1 && halves[1] ? halves[1].split(':') : [];
  const groups = [...head, ...new Array<string>(8 - head.length - tail.length).fill('0'), ...tail];
  return v6(BigInt(`0x${groups.map((g) => g.padStart(4, '0')).join('')}`));
}

function compare6(aHi: bigint, aLo: bigint, bHi: bigint, bLo: bigint): number {
  if (aHi !== bHi) return aHi < bHi ? -1 : 1;
  if (aLo !== bLo) return aLo < bLo ? -1 : 1;
  return 0;
}

/** Compares two addresses of one family. */
export function compareAddress(a: AddressValue, b: AddressValue): number {
  if (a.family === 4 && b.family === 4) return a.value - b.value;
  if (a.family === 6 && b.family === 6) return compare6(a.hi, a.lo, b.hi, b.lo);
  return a.family - b.family;
}

export interface Range<T> {
  start: AddressValue;
  end: AddressValue;
  value: T;
}

/** Addresses mapped to values, whatever the file they came from (CSV ranges, a MaxMind DB). */
export interface AddressMap<T> {
  /** How many ranges or networks carry a value. */
  readonly size: number;
  /** The value for `ip`, or undefined: no range holds it, the record lacks the value, or the text is no address. */
  lookup(ip: string): T | undefined;
}

/** Sorted, non-overlapping ranges of both families. Built once by RangeTable.from (the caller checks overlaps). */
export class RangeTable<T> implements AddressMap<T> {
  private constructor(
    private readonly v4: { starts: Uint32Array; ends: Uint32Array; values: T[] },
    private readonly v6: { startHi: BigUint64Array; startLo: BigUint64Array; endHi: BigUint64Array; endLo: BigUint64Array; values: T[] },
  ) {}

  /** `ranges` must be sorted by start within each family and must not overlap. */
  static from<T>(ranges: readonly Range<T>[]): RangeTable<T> {
    const v4 = ranges.filter((r) => r.start.family === 4);
    const v6 = ranges.filter((r) => r.start.family === 6);
    const num = (a: AddressValue): number => (a.family === 4 ? a.value : 0);
    const half = (a: AddressValue, high: boolean): bigint => (a.family === 6 ? (high ? a.hi : a.lo) : 0n);
    return new RangeTable(
      { starts: Uint32Array.from(v4, (r) => num(r.start)), ends: Uint32Array.from(v4, (r) => num(r.end)), values: v4.map((r) => r.value) },
      {
        startHi: BigUint64Array.from(v6, (r) => half(r.start, true)), startLo: BigUint64Array.from(v6, (r) => half(r.start, false)),
        endHi: BigUint64Array.from(v6, (r) => half(r.end, true)), endLo: BigUint64Array.from(v6, (r) => half(r.end, false)),
        values: v6.map((r) => r.value),
      },
    );
  }

  get size(): number {
    return this.v4.values.length + this.v6.values.length;
  }

  /** The value of the range holding `ip`, or undefined (also for text that is not an address). */
  lookup(ip: string): T | undefined {
    const address = addressValue(ip);
    if (address === null) return undefined;
    if (address.family === 4) {
      const { starts, ends, values } = this.v4;
      const at = lastAtOrBelow(starts.length, (i) => starts[i]! <= address.value);
      return at >= 0 && address.value <= ends[at]! ? values[at] : undefined;
    }
    const { startHi, startLo, endHi, endLo, values } = this.v6;
    const at = lastAtOrBelow(startHi.length, (i) => compare6(startHi[i]!, startLo[i]!, address.hi, address.lo) <= 0);
    return at >= 0 && compare6(address.hi, address.lo, endHi[at]!, endLo[at]!) <= 0 ? values[at] : undefined;
  }
}

/** The last index for which `atOrBelow` holds, on a sorted sequence where it holds for a prefix; -1 if none. */
function lastAtOrBelow(length: number, atOrBelow: (index: number) => boolean): number {
  let lo = 0;
  let hi = length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (atOrBelow(mid)) {
      found = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return found;
}
