import { readFileSync } from 'node:fs';
import { swError } from '../core/errors.js';
import { splitCsvLine } from './csv.js';
import { addressValue, compareAddress, decimalRange, RangeTable, type Range } from './ranges.js';

/**
 * Local geo and ASN databases for reports (`geo.country`, `geo.asn` in the config). Nothing is looked up over
 * the network. The files are the CSV range layouts of the free DB-IP and IP2Location lite databases:
 *
 *   country: start,end,CC[,...]          e.g. 1.0.0.0,1.0.0.255,AU  or  "16777216","16777471","AU","Australia"
 *   asn:     start,end,asn,organisation  e.g. 1.0.0.0,1.0.0.255,13335,"Cloudflare, Inc."
 *            (IP2Location's ASN file has a CIDR third column, which is skipped)
 *
 * Addresses are IPv4 or IPv6 text, or decimal numbers; IPv4-mapped IPv6 ranges count as IPv4. A first line that
 * is not an address is a header. Rows for reserved space (`-`, `ZZ`) are skipped. A row that cannot be read,
 * or that overlaps another, is an error naming the file and the line: a silently wrong map is worse than none.
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

/** Reads a range file, one value per row. */
function loadRanges<T>(kind: string, path: string, minFields: number, readRow: RowReader<T>): RangeTable<T> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw swError('SW_ERR_CONFIG_READ', `geo ${kind} database ${path} cannot be read: ${(error as Error).message}`, error);
  }
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

export function loadCountryDatabase(path: string): RangeTable<string> {
  return loadRanges<string>('country', path, 3, (fields) => {
    const code = (fields[2] ?? '').trim().toUpperCase();
    if (UNKNOWN.has(code)) return null;
    return /^[A-Z]{2}$/.test(code) ? { value: code } : { problem: `"${clip(fields[2])}" is not a two-letter country code` };
  });
}

export function loadAsnDatabase(path: string): RangeTable<AsnRecord> {
  return loadRanges<AsnRecord>('asn', path, 3, (fields) => {
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
