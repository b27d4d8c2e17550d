/**
 * Dialled numbers to E.164, country, number type and risk tier (toll-fraud rule model, reference fraud-rules.md).
 * PBXs and attackers write one destination many ways: `+`, `++`, `0+`, `00`, `000`, `011`, `9011`, `90`, a
 * national number with or without its trunk prefix. A plan tries the readings in a fixed order and keeps the
 * first one libphonenumber calls valid, so an outside-line `9` is only stripped when the rest is a real number.
 * Pure and I/O-free; the daemon builds one plan from the `fraud:` config at start-up.
 */
import {
  Metadata, getCountries, getCountryCallingCode, isSupportedCountry, parsePhoneNumberFromString, type CountryCode, type PhoneNumber,
} from 'libphonenumber-js/max';
import { swError } from '../core/errors.js';
import { BoundedCache } from './bounded-cache.js';

export type NumberKind = 'number' | 'extension' | 'feature-code' | 'invalid';

/** One dialled string as read under a plan. `e164` is set for every digit string libphonenumber could place,
 * valid or not, so an unallocated number can still be shown and hotlisted. */
export interface DialledNumber {
  readonly raw: string;
  readonly e164?: string;
  /** ISO 3166 alpha-2; absent for non-geographic codes (+800, +870, +881, +882, +883, …). */
  readonly country?: string;
  readonly callingCode?: string;
  /** libphonenumber's type: PREMIUM_RATE, SHARED_COST, VOIP, MOBILE, FIXED_LINE, …; valid numbers only. */
  readonly type?: string;
  readonly valid: boolean;
  /** Outside the home country: another calling code, or another country under the home calling code. */
  readonly international: boolean;
  readonly kind: NumberKind;
}

/** Shaped like the `fraud:` config block so the schema can feed it as it is. */
export interface NumberPlanOptions {
  /** ISO 3166 alpha-2 country the PBX dials from. */
  homeCountry: string;
  /** Outside-line digits (`9`); stripped first, but kept when only the unstripped digits form a valid number. */
  outsideLine?: readonly string[];
  /** Replaces the default: the home country's IDD prefix from libphonenumber's metadata plus `00` and `011`. */
  internationalPrefixes?: readonly string[];
  /** Digit strings of at most this many digits and no `+` are internal extensions. Default 6. */
  extensionDigits?: number;
  /** Distinct dialled strings remembered (least recently used go first). Default 10 000; 0 turns it off. */
  cacheSize?: number;
}

export interface NumberPlan {
  readonly homeCountry: string;
  readonly homeCallingCode: string;
  /** Never throws: anything that is not a number comes back as `kind: 'invalid'`. */
  normalize(raw: string): DialledNumber;
}

/** Longer than any dialled string a PBX sends (9011 + 15 digits + separators); refused before any parsing. */
export const RAW_LIMIT = 64;
/** E.164's 15 digits plus room for the prefixes in front of them (`9` `011` `0`). */
const DIGITS_LIMIT = 24;
/** Shorter digit runs are service codes or local numbers, never an international number without its prefix. */
const BARE_E164_MIN = 8;
const DEFAULT_EXTENSION_DIGITS = 6;
const DEFAULT_CACHE_SIZE = 10_000;
/** Prefixes toll-fraud probes use whatever the home country's own IDD is. */
const COMMON_IDD = ['00', '011'];

const metadata = new Metadata();

export function createNumberPlan(options: NumberPlanOptions): NumberPlan {
  const home = checkCountry(options.homeCountry, 'fraud.homeCountry');
  const homeCallingCode = getCountryCallingCode(home);
  const outsideLine = checkPrefixes(options.outsideLine ?? [], 'fraud.outsideLine');
  const idd = options.internationalPrefixes === undefined
    ? [...COMMON_IDD.map(literal), homeIDD(home)]
    : checkPrefixes(options.internationalPrefixes, 'fraud.internationalPrefixes').map(literal);
  const extensionDigits = options.extensionDigits ?? DEFAULT_EXTENSION_DIGITS;
  if (!Number.isInteger(extensionDigits) || extensionDigits < 0 || extensionDigits > 15) {
    throw swError('SW_ERR_CONFIG', `fraud.extensionDigits: ${String(extensionDigits)} is not a whole number from 0 to 15`);
  }
  const cache = new BoundedCache<string, DialledNumber>(options.cacheSize ?? DEFAULT_CACHE_SIZE);

  const describe = (raw: string, number: PhoneNumber): DialledNumber => {
    const valid = number.isValid();
    const callingCode = number.countryCallingCode;
    // For an invalid number libphonenumber guesses a country even under a shared code (+1 800 123… → DO);
    // only a calling code with a single country says where an invalid number would go.
    const country = valid ? number.country : soleCountry(callingCode);
    const type = valid ? number.getType() : undefined;
    const international = callingCode !== homeCallingCode || (country !== undefined && country !== home);
    return {
      raw, e164: number.number, ...(country === undefined ? {} : { country }), callingCode,
      ...(type === undefined ? {} : { type }), valid, international, kind: 'number',
    };
  };

  const read = (raw: string): DialledNumber => {
    const dialled = readDialled(raw);
    if (dialled === 'feature-code') return { raw, valid: false, international: false, kind: 'feature-code' };
    if (dialled === undefined) return { raw, valid: false, international: false, kind: 'invalid' };
    const { digits, plus } = dialled;
    if (!plus && digits.length <= extensionDigits) return { raw, valid: false, international: false, kind: 'extension' };
    let fallback: PhoneNumber | undefined;
    for (const text of readings(digits, plus, outsideLine, idd)) {
      const number = parse(text, home);
      if (number === undefined) continue;
      if (number.isValid()) return describe(raw, number);
      fallback ??= number;
    }
    return fallback === undefined ? { raw, valid: false, international: false, kind: 'invalid' } : describe(raw, fallback);
  };

  // The first parses compile libphonenumber's patterns and warm the JIT (1–3 ms each, measured); pay that at
  // start-up rather than in the first call-authorisation request, which has a 2 ms budget.
  for (const sample of ['+442079460000', `00${homeCallingCode}12345678`, '0123456789']) read(sample);

  return {
    homeCountry: home,
    homeCallingCode,
    normalize(raw: string): DialledNumber {
      if (typeof raw !== 'string' || raw.length > RAW_LIMIT) return Object.freeze({ raw: String(raw), valid: false, international: false, kind: 'invalid' });
      const cached = cache.get(raw);
      if (cached !== undefined) return cached;
      const result = Object.freeze(read(raw));
      cache.set(raw, result);
      return result;
    },
  };
}

type PrefixMatcher = (digits: string) => number;

function literal(prefix: string): PrefixMatcher {
  return (digits) => (digits.startsWith(prefix) ? prefix.length : 0);
}

/** The metadata holds the IDD as a pattern: AU `0011` and `0014`–`0019` carrier codes, BR `00` + carrier. */
function homeIDD(home: CountryCode): PrefixMatcher {
  metadata.selectNumberingPlan(home);
  const pattern = new RegExp(`^(?:${metadata.numberingPlan?.IDDPrefix() ?? '00'})`);
  return (digits) => pattern.exec(digits)?.[0].length ?? 0;
}

/**
 * The texts to hand libphonenumber, most specific reading first: after an international prefix (zeros after it
 * dropped: `000` is `00` plus a stray `0`, and no calling code starts with 0), then as a national number of the
 * home country (libphonenumber strips the trunk prefix `0` or `1`), then as E.164 without its `+` (trunks that
 * take `442079460000`). Each reading is tried with any outside-line prefix stripped before it is tried without.
 */
function* readings(digits: string, plus: boolean, outsideLine: readonly string[], idd: readonly PrefixMatcher[]): Generator<string> {
  if (plus) {
    yield `+${digits}`;
    return;
  }
  const bases = outsideLine.filter((p) => digits.startsWith(p) && digits.length > p.length).map((p) => digits.slice(p.length));
  bases.push(digits);
  for (const base of bases) {
    const lengths = [...new Set(idd.map((match) => match(base)))].filter((n) => n > 0).sort((a, b) => b - a);
    for (const length of lengths) {
      const rest = base.slice(length).replace(/^0+/, '');
      if (rest !== '') yield `+${rest}`;
    }
  }
  for (const base of bases) yield base;
  for (const base of bases) {
    const rest = base.replace(/^0+/, '');
    if (rest.length >= BARE_E164_MIN) yield `+${rest}`;
  }
}

function parse(text: string, home: CountryCode): PhoneNumber | undefined {
  try {
    return parsePhoneNumberFromString(text, home);
  } catch {
    // parsePhoneNumberFromString is documented not to throw; a metadata bug must not take a call event down.
    return undefined;
  }
}

/**
 * The user part as a digit string, whether a `+` led it, or why not. Percent escapes and URI parameters are
 * read as the honeypot reads them (src/honeypot/numbers.ts), so both key a destination the same way.
 */
function readDialled(raw: string): { digits: string; plus: boolean } | 'feature-code' | undefined {
  let text = raw;
  const semicolon = text.indexOf(';');
  if (semicolon >= 0) text = text.slice(0, semicolon);
  if (text.includes('%')) {
    try {
      text = decodeURIComponent(text);
    } catch {
      return undefined;
    }
  }
  text = text.replace(/[-.() \t]/g, '');
  if (/^[0-9*#]+$/.test(text) && /[*#]/.test(text)) return 'feature-code';
  // Up to four digits may precede the `+`: `0+`, `9011+` are dial prefixes written in front of an E.164 number.
  const international = /^\d{0,4}\+{1,2}(\d+)$/.exec(text);
  const digits = international?.[1] ?? (/^\d+$/.test(text) ? text : undefined);
  if (digits === undefined || digits.length > DIGITS_LIMIT) return undefined;
  return { digits, plus: international !== null };
}

/** Each calling code's countries, e.g. `1` → US, CA, DO, JM, …; non-geographic codes have none. */
export const COUNTRIES_BY_CALLING_CODE: ReadonlyMap<string, readonly string[]> = (() => {
  const byCode = new Map<string, string[]>();
  for (const country of getCountries()) {
    const code = getCountryCallingCode(country);
    byCode.set(code, [...(byCode.get(code) ?? []), country]);
  }
  return byCode;
})();

function soleCountry(callingCode: string): string | undefined {
  const countries = COUNTRIES_BY_CALLING_CODE.get(callingCode);
  return countries?.length === 1 ? countries[0] : undefined;
}

function checkCountry(value: string, path: string): CountryCode {
  const upper = typeof value === 'string' ? value.toUpperCase() : '';
  if (!isSupportedCountry(upper)) throw swError('SW_ERR_CONFIG', `${path}: ${JSON.stringify(value)} is not an ISO 3166 alpha-2 country libphonenumber knows`);
  return upper;
}

function checkPrefixes(prefixes: readonly string[], path: string): string[] {
  for (const prefix of prefixes) {
    if (!/^\d{1,6}$/.test(prefix)) throw swError('SW_ERR_CONFIG', `${path}: ${JSON.stringify(prefix)} is not 1 to 6 digits`);
  }
  return [...prefixes].sort((a, b) => b.length - a.length);
}
