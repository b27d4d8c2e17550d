import type { Config } from '../../config/schema.js';
import { formatDuration, parseDuration } from '../../core/duration.js';
import { describeError, swError } from '../../core/errors.js';
import { loadGeo, type Geo } from '../../geo/index.js';
import { buildReport, type HoneypotReport } from '../../honeypot/report.js';
import type { HoneypotTally } from '../../store/types.js';
import { openStore, requireConfig } from '../context.js';
import { count, table, when } from '../format.js';

export interface HoneypotReportOptions {
  config?: string;
  since?: string;
  json?: boolean;
}

/** Rows shown per section on the terminal; --json has up to 100 each. */
const SHOWN = 20;

/** `sipwarden honeypot report`: what the bait saw in the period. */
export async function honeypotReportCommand(options: HoneypotReportOptions): Promise<void> {
  let periodMs: number;
  try {
    periodMs = parseDuration(options.since ?? '7d');
  } catch (error) {
    throw swError('SW_ERR_ARGUMENT', `--since "${options.since}" is not a duration such as 24h or 7d`, error);
  }
  const config = await requireConfig(options.config);
  const geo = openGeo(config);
  const store = await openStore(config);
  try {
    const now = Date.now();
    const report = await buildReport(store, {
      since: now - periodMs, until: now, ...(geo ? { geo } : {}),
      countries: config.geo?.country !== undefined, networks: config.geo?.asn !== undefined,
    });
    process.stdout.write(options.json ? `${JSON.stringify(report)}\n` : render(report, periodMs));
  } finally {
    await store.close();
  }
}

/** A broken geo file costs the report its countries, not the report itself; the warning names the file and line. */
function openGeo(config: Config): Geo | undefined {
  if (config.geo?.country === undefined && config.geo?.asn === undefined) return undefined;
  try {
    return loadGeo(config.geo);
  } catch (error) {
    process.stderr.write(`sipwarden: ${describeError(error)}; the report goes on without geo data\n`);
    return undefined;
  }
}

function section(title: string, header: string[], rows: string[][], total = rows.length): string {
  if (rows.length === 0) return '';
  const more = total > SHOWN ? `\n  ... and ${count(total - SHOWN)} more (--json lists up to 100)` : '';
  return `\n${title}\n${table([header, ...rows.slice(0, SHOWN)]).replace(/^/gm, '  ')}${more}\n`;
}

function tallyRows(tally: readonly HoneypotTally[]): string[][] {
  return tally.map((t) => [t.value, count(t.hits), count(t.sources), count(t.verifiedHits)]);
}

function render(report: HoneypotReport, periodMs: number): string {
  const t = report.totals;
  const out = [
    `Honeypot, last ${formatDuration(periodMs)} (since ${when(report.since)}): ${count(t.hits)} requests from ${count(t.sources)} sources ` +
      `(${count(t.verifiedSources)} verified), ${count(t.registrations)} bait registrations` +
      `${t.suppressed > 0 ? `, ${count(t.suppressed)} more requests counted but not stored (rate caps)` : ''}.\n`,
  ];
  if (t.hits === 0 && t.suppressed === 0) return `${out[0]}`;
  const geo = report.countries !== undefined || report.networks !== undefined;
  out.push(section('Sources', ['ADDRESS', ...(geo ? ['COUNTRY', 'NETWORK'] : []), 'REQUESTS', 'VERIFIED', 'TOOLS', 'USER AGENTS', 'LAST SEEN'],
    report.sources.map((s) => [
      s.ip, ...(geo ? [s.country ?? '', s.asn === undefined ? '' : `AS${s.asn}${s.org ? ` ${s.org}` : ''}`] : []),
      count(s.hits), s.verified ? 'yes' : 'no', s.tools.join(', '), s.userAgents.slice(0, 2).join(', '), when(s.lastSeen),
    ]), t.sources));
  if (report.countries) out.push(section('Countries', ['COUNTRY', 'SOURCES', 'REQUESTS'], report.countries.map((c) => [c.country, count(c.sources), count(c.hits)])));
  if (report.networks) {
    out.push(section('Networks', ['AS', 'ORGANISATION', 'SOURCES', 'REQUESTS'], report.networks.map((n) => [`AS${n.asn}`, n.org ?? '', count(n.sources), count(n.hits)])));
  }
  out.push(section('Tools', ['TOOL', 'REQUESTS', 'SOURCES', 'VERIFIED'], tallyRows(report.tools)));
  out.push(section('User agents', ['USER AGENT', 'REQUESTS', 'SOURCES', 'VERIFIED'], tallyRows(report.userAgents)));
  out.push(section('Accounts tried', ['USER', 'ATTEMPTS', 'SOURCES', 'REGISTERED', 'PASSWORDS TRIED'],
    report.accounts.map((a) => [a.username, count(a.attempts), count(a.sources), a.registered ? 'YES' : 'no', a.passwords.join(' ')])));
  out.push(section('Passwords tried', ['PASSWORD', 'TRIES', 'SOURCES', 'VERIFIED'], tallyRows(report.passwords)));
  out.push(section('Bait registrations', ['WHEN', 'ADDRESS', 'USER', 'USER AGENT'],
    report.registrations.map((r) => [when(r.at), `${r.ip}:${r.port}/${r.transport}`, r.username ?? '', r.userAgent ?? ''])));
  out.push(section('Numbers dialled (hotlist; counts since first seen)', ['NUMBER', 'CALLS', 'SOURCES', 'VERIFIED', 'FIRST SEEN', 'LAST SEEN'],
    report.numbers.map((n) => [n.number, count(n.hits), count(n.sources), count(n.verifiedHits), when(n.firstSeen), when(n.lastSeen)])));
  out.push(section('Dialled as written', ['DESTINATION', 'REQUESTS', 'SOURCES', 'VERIFIED'], tallyRows(report.destinations)));
  out.push(section('Methods', ['METHOD', 'REQUESTS', 'SOURCES', 'VERIFIED'], tallyRows(report.methods)));
  return out.filter((part) => part !== '').join('');
}
