import { readFileSync } from 'node:fs';
import { swError } from '../core/errors.js';
import { splitCsvLine } from './csv.js';
import { isMaxMindDb, openMaxMindDb, type RecordShape } from './mmdb.js';
import { addressValue, compareAddress, decimalRange, RangeTable, type AddressMap, type Range } from './ranges.js';

export type { AddressMap } from './ranges.js';

/**
 * Local geo and ASN databases (`geo.country`, `geo.asn` in the config). Nothing is looked up over the network.
 * A file is either a MaxMind DB (.mmdb: GeoLite2-Country/City/ASN, DB-IP lite, IPtoASN converted), told by the
 * metadata marker at its end whatever its name, or one of the CSV range layouts of DB-IP and IP2Location lite:
 *
 *   country: start,end,CC[,...]          e.g. 1.0.0.0,1.0.0.255,AU  or  "16777216","16777471","AU","Australia"
 *   asn:     start,end,asn,organisation  e.g. 1.0.0.0,1.0.0.255,13335,"Cloudflare, Inc."
 *            (IP2Location's ASN file has a CIDR third column, which is skipped)
 *
 * Addresses are IPv4 or IPv6 text, or decimal numbers; IPv4-mapped IPv6 ranges count as IPv4. A first line that
 * is not an address is a header. Rows for reserved space (`-`, `ZZ`) are skipped. A row that cannot be read,
 * or that overlaps another, is an error naming the file and the line: a silently wrong map is worse than none.
 * A MaxMind DB gives `country.iso_code` (else `registered_country.iso_code`), or `autonomous_system_number` and
 * `autonomous_system_organization`; a corrupt one, or one of the wrong kind, is an error naming the file.
 */

export interface AsnRecord {
  asn: number;
  org: string;
}

export interface GeoInfo {
  /** ISO 3166 alpha-2, upper case. */
  country?: string;
  asn?: number;
  org?: string;
}

export interface Geo {
  lookup(ip: string): GeoInfo;
}

/** A row's value, null to skip the row, or what is wrong with it. */
type RowReader<T> = (fields: string[]) => { value: T } | { problem: string } | null;

function badRow(kind: string, path: string, line: number, problem: string): Error {
  return swError('SW_ERR_CONFIG', `geo ${kind} database ${path} line ${line}: ${problem}`);
}

function readDatabase(kind: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw swError('SW_ERR_CONFIG_READ', `geo ${kind} database ${path} cannot be read: ${(error as Error).message}`, error);
  }
}

/** The text of a CSV range file; binary content (which CSV never holds) is neither format, said plainly. */
function csvText(kind: string, path: string, bytes: Buffer): string {
  const fail = (problem: string) => swError('SW_ERR_CONFIG', `geo ${kind} database ${path}: ${problem}`);
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) throw fail('gzip-compressed; unpack the .mmdb or .csv inside it first');
  if (bytes.includes(0)) {
    throw fail('neither a CSV range file nor a MaxMind DB: binary, without the MaxMind metadata marker near its end (a truncated .mmdb loses it first)');
  }
  return bytes.toString('utf8');
}

/** Reads a range file, one value per row. */
function loadRanges<T>(kind: string, path: string, text: string, minFields: number, readRow: RowReader<T>): RangeTable<T> {
  const rows: (Range<T> & { line: number })[] = [];
  const lines = text.split('\n');
  let first = true;
  for (let index = 0; index < lines.length; index++) {
    const lineText = (lines[index] as string).replace(/\r$/, '');
    const line = index + 1;
    if (lineText.trim() === '' || lineText.startsWith('#')) continue;
    const fields = splitCsvLine(lineText);
    if (fields === null) throw badRow(kind, path, line, 'unbalanced quotes');
    const startText = (fields[0] ?? '').trim();
    const endText = (fields[1] ?? '').trim();
    const decimal = decimalRange(startText, endText);
    const start = decimal?.[0] ?? addressValue(startText);
    const header = first && start === null;
    first = false;
    if (header) continue;
    if (fields.length < minFields) throw badRow(kind, path, line, `expected at least ${minFields} fields, found ${fields.length}`);
    const end = decimal?.[1] ?? addressValue(endText);
    if (start === null) throw badRow(kind, path, line, `"${clip(startText)}" is not an IP address`);
    if (end === null) throw badRow(kind, path, line, `"${clip(endText)}" is not an IP address`);
    if (start.family !== end.family) throw badRow(kind, path, line, 'start and end are of different address families');
    if (compareAddress(start, end) > 0) throw badRow(kind, path, line, 'start is after end');
    const read = readRow(fields);
    if (read !== null && 'problem' in read) throw badRow(kind, path, line, read.problem);
    if (read !== null) rows.push({ start, end, value: read.value, line });
  }
  rows.sort((a, b) => a.start.family - b.start.family || compareAddress(a.start, b.start));
  for (let i = 1; i < rows.length; i++) {
    const previous = rows[i - 1]!;
    const row = rows[i]!;
    if (row.start.family === previous.start.family && compareAddress(row.start, previous.end) <= 0) {
      throw badRow(kind, path, row.line, `range overlaps the range on line ${previous.line}`);
    }
  }
  return RangeTable.from(rows);
}

function clip(text: string | undefined): string {
  const value = text ?? '';
  return value.length > 40 ? `${value.slice(0, 40)}...` : value;
}

const UNKNOWN = new Set(['-', 'ZZ', '']);

/** A two-letter code upper-cased, null for reserved space (`-`, `ZZ`), undefined for anything else. */
function countryCode(text: string): string | null | undefined {
  const code = text.trim().toUpperCase();
  if (UNKNOWN.has(code)) return null;
  return /^[A-Z]{2}$/.test(code) ? code : undefined;
}

/** `record.a.b...`, or undefined where any step is missing or not an object. */
function field(record: unknown, ...path: string[]): unknown {
  let value = record;
  for (const key of path) value = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
  return value;
}

const COUNTRY_RECORDS: RecordShape<string> = {
  kind: 'country',
  field: 'country.iso_code or registered_country.iso_code',
  expected: 'a country or city database (GeoLite2-Country, GeoLite2-City, DB-IP country or city lite)',
  has: (record) => typeof field(record, 'country', 'iso_code') === 'string' || typeof field(record, 'registered_country', 'iso_code') === 'string',
  read(record) {
    for (const holder of ['country', 'registered_country']) {
      const code = field(record, holder, 'iso_code');
      if (typeof code === 'string') return countryCode(code) ?? undefined;
    }
    return undefined;
  },
};

const ASN_RECORDS: RecordShape<AsnRecord> = {
  kind: 'asn',
  field: 'autonomous_system_number',
  expected: 'an ASN database (GeoLite2-ASN, DB-IP ASN lite, IPtoASN converted to .mmdb)',
  has: (record) => ['number', 'bigint'].includes(typeof field(record, 'autonomous_system_number')),
  read(record) {
    const number = field(record, 'autonomous_system_number');
    const asn = typeof number === 'bigint' && number <= 0xffff_ffffn ? Number(number) : number;
    // AS0 is reserved (RFC 7607): IPtoASN writes it for space that nobody announces.
    if (typeof asn !== 'number' || !Number.isInteger(asn) || asn <= 0 || asn > 0xffff_ffff) return undefined;
    const org = field(record, 'autonomous_system_organization');
    return { asn, org: typeof org === 'string' ? org.trim() : '' };
  },
};

/** A country database: a MaxMind DB or a CSV range file. */
export function loadCountryDatabase(path: string): AddressMap<string> {
  const bytes = readDatabase('country', path);
  if (isMaxMindDb(bytes)) return openMaxMindDb(path, bytes, COUNTRY_RECORDS);
  return loadRanges<string>('country', path, csvText('country', path, bytes), 3, (fields) => {
    const code = countryCode(fields[2] ?? '');
    if (code === null) return null;
    return code !== undefined ? { value: code } : { problem: `"${clip(fields[2])}" is not a two-letter country code` };
  });
}

/** An ASN database: a MaxMind DB or a CSV range file. */
export function loadAsnDatabase(path: string): AddressMap<AsnRecord> {
  const bytes = readDatabase('asn', path);
  if (isMaxMindDb(bytes)) return openMaxMindDb(path, bytes, ASN_RECORDS);
  return loadRanges<AsnRecord>('asn', path, csvText('asn', path, bytes), 3, (fields) => {
    // IP2Location: start, end, cidr, asn, organisation.
    const rest = (fields[2] ?? '').includes('/') ? fields.slice(3) : fields.slice(2);
    const asnText = (rest[0] ?? '').trim().replace(/^AS/i, '');
    if (asnText === '-' || asnText === '') return null;
    if (!/^\d{1,10}$/.test(asnText) || Number(asnText) > 0xffff_ffff) return { problem: `"${clip(rest[0])}" is not an AS number` };
    // DB-IP quotes an organisation with commas; an unquoted one arrives in pieces and is put back together.
    return { value: { asn: Number(asnText), org: rest.slice(1).join(',').trim() } };
  });
}

/** The lookups the config names (either, both or none); throws SW_ERR_CONFIG(_READ) as the loaders do. */
export function loadGeo(config: { country?: string; asn?: string } | undefined): Geo {
  const countries = config?.country === undefined ? undefined : loadCountryDatabase(config.country);
  const asns = config?.asn === undefined ? undefined : loadAsnDatabase(config.asn);
  return {
    lookup(ip) {
      const info: GeoInfo = {};
      const country = countries?.lookup(ip);
      if (country !== undefined) info.country = country;
      const asn = asns?.lookup(ip);
      if (asn !== undefined) {
        info.asn = asn.asn;
        if (asn.org !== '') info.org = asn.org;
      }
      return info;
    },
  };
}
