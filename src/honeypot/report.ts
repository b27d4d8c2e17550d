import type { Geo, GeoInfo } from '../geo/index.js';
import type { HoneypotAccount, HoneypotSource, HoneypotTally, HoneypotTotals, HotlistEntry, StoredHoneypotHit, Store } from '../store/types.js';

/**
 * What `sipwarden honeypot report` says: who knocked (sources, countries and networks when a local geo/ASN
 * database is configured), with what (tools, user agents), which accounts and passwords they tried, which
 * registrations succeeded, and which numbers they dialled. Built from the store alone.
 */

export interface ReportSource extends HoneypotSource, GeoInfo {}

export interface CountryCount {
  country: string;
  sources: number;
  hits: number;
}

export interface NetworkCount {
  asn: number;
  org?: string;
  sources: number;
  hits: number;
}

export interface HoneypotReport {
  since: number;
  until: number;
  totals: HoneypotTotals;
  sources: ReportSource[];
  /** Absent without a country database; sources it does not place are counted under `??`. */
  countries?: CountryCount[];
  networks?: NetworkCount[];
  tools: HoneypotTally[];
  userAgents: HoneypotTally[];
  accounts: HoneypotAccount[];
  passwords: HoneypotTally[];
  registrations: StoredHoneypotHit[];
  /** Hotlisted numbers dialled in the period (their counts are all-time). */
  numbers: HotlistEntry[];
  /** What was dialled as written, numbers and extensions alike. */
  destinations: HoneypotTally[];
  methods: HoneypotTally[];
}

export interface ReportOptions {
  since: number;
  until: number;
  geo?: Geo;
  /** Whether the geo lookups include countries and networks (which databases are configured). */
  countries?: boolean;
  networks?: boolean;
  /** Rows per list (default 100); countries and networks are counted over up to 10,000 sources. */
  limit?: number;
}

const GEO_SOURCES = 10_000;

export async function buildReport(store: Store, options: ReportOptions): Promise<HoneypotReport> {
  const { since, until } = options;
  const limit = options.limit ?? 100;
  const query = { since, limit };
  const [totals, located, tools, userAgents, accounts, passwords, registrations, numbers, destinations, methods] = await Promise.all([
    store.honeypotTotals(since),
    store.honeypotSources({ since, limit: Math.max(limit, options.geo ? GEO_SOURCES : 0) }),
    store.honeypotTally('tool', query),
    store.honeypotTally('userAgent', query),
    store.honeypotAccounts(query),
    store.honeypotTally('password', query),
    store.honeypotHits({ since, outcome: 'registered', limit }),
    store.hotlist({ since, limit }),
    store.honeypotTally('destination', query),
    store.honeypotTally('method', query),
  ]);
  const sources: ReportSource[] = located.map((s) => ({ ...s, ...options.geo?.lookup(s.ip) }));
  const report: HoneypotReport = {
    since, until, totals, sources: sources.slice(0, limit), tools, userAgents, accounts, passwords, registrations, numbers, destinations, methods,
  };
  if (options.geo && options.countries) report.countries = countByCountry(sources);
  if (options.geo && options.networks) report.networks = countByNetwork(sources).slice(0, limit);
  return report;
}

function countByCountry(sources: readonly ReportSource[]): CountryCount[] {
  const counts = new Map<string, CountryCount>();
  for (const s of sources) {
    const country = s.country ?? '??';
    const entry = counts.get(country) ?? { country, sources: 0, hits: 0 };
    entry.sources++;
    entry.hits += s.hits;
    counts.set(country, entry);
  }
  return [...counts.values()].sort((a, b) => b.hits - a.hits || a.country.localeCompare(b.country));
}

function countByNetwork(sources: readonly ReportSource[]): NetworkCount[] {
  const counts = new Map<number, NetworkCount>();
  for (const s of sources) {
    if (s.asn === undefined) continue;
    const entry = counts.get(s.asn) ?? { asn: s.asn, ...(s.org === undefined ? {} : { org: s.org }), sources: 0, hits: 0 };
    entry.sources++;
    entry.hits += s.hits;
    counts.set(s.asn, entry);
  }
  return [...counts.values()].sort((a, b) => b.hits - a.hits || a.asn - b.asn);
}
