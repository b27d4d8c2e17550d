import type Database from 'better-sqlite3';
import type { Transport } from '../../core/event.js';
import { swError } from '../../core/errors.js';
import type {
  HoneypotAccount,
  HoneypotHit,
  HoneypotOutcome,
  HoneypotQuery,
  HoneypotRecords,
  HoneypotSource,
  HoneypotTally,
  HoneypotTallyField,
  HoneypotTotals,
  HotlistEntry,
  StoredHoneypotHit,
} from '../types.js';
import { HONEYPOT_TALLY_FIELDS } from '../types.js';
import { ipKey } from './keys.js';
import type { Where } from './where.js';

type Nullable<T> = T | null;
type Prepare = (sql: string) => Database.Statement;

const DEFAULT_LIMIT = 100;
const SOURCE_LISTS = 10;
const ACCOUNT_PASSWORDS = 50;

/** Field name -> column; the only way a tally's column gets into SQL, so no caller text is ever spliced in. */
const TALLY_COLUMNS: Record<HoneypotTallyField, string> = {
  userAgent: 'user_agent', tool: 'tool', username: 'username', password: 'password', method: 'method',
  outcome: 'outcome', destination: 'destination', number: 'number', transport: 'transport',
};

interface HitRow {
  id: number;
  at: number;
  ip: string;
  port: number;
  transport: string;
  method: string;
  user_agent: Nullable<string>;
  username: Nullable<string>;
  password: Nullable<string>;
  to_user: Nullable<string>;
  destination: Nullable<string>;
  number: Nullable<string>;
  outcome: string;
  verified: number;
  tool: Nullable<string>;
  sensor: Nullable<string>;
}

const INSERT_HIT = `INSERT INTO honeypot_hits (at, ip, ip_key, port, transport, method, user_agent, username, password,
  to_user, destination, number, outcome, verified, tool, sensor) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

function hitParams(hit: HoneypotHit): unknown[] {
  const key = ipKey(hit.ip);
  if (key === null) throw swError('SW_ERR_IP', 'honeypot hit: ip is not an IPv4 or IPv6 address');
  return [
    hit.at, hit.ip, key, hit.port, hit.transport, hit.method, hit.userAgent ?? null, hit.username ?? null,
    hit.password ?? null, hit.toUser ?? null, hit.destination ?? null, hit.number ?? null, hit.outcome,
    hit.verified ? 1 : 0, hit.tool ?? null, hit.sensor ?? null,
  ];
}

function hitFromRow(row: HitRow): StoredHoneypotHit {
  const hit: StoredHoneypotHit = {
    id: row.id, at: row.at, ip: row.ip, port: row.port, transport: row.transport as Transport, method: row.method,
    outcome: row.outcome as HoneypotOutcome, verified: row.verified === 1,
  };
  const optional: [keyof HoneypotHit, Nullable<string>][] = [
    ['userAgent', row.user_agent], ['username', row.username], ['password', row.password], ['toUser', row.to_user],
    ['destination', row.destination], ['number', row.number], ['tool', row.tool], ['sensor', row.sensor],
  ];
  for (const [field, value] of optional) if (value !== null) Object.assign(hit, { [field]: value });
  return hit;
}

function hitWhere(query: HoneypotQuery, extra: string[] = []): Where {
  const clauses = [...extra];
  const params: unknown[] = [];
  if (query.since !== undefined) {
    clauses.push('at >= ?');
    params.push(query.since);
  }
  if (query.ip !== undefined) {
    const key = ipKey(query.ip);
    if (key === null) throw swError('SW_ERR_IP', 'honeypot query: ip is not an IPv4 or IPv6 address');
    clauses.push('ip_key = ?');
    params.push(key);
  }
  if (query.outcome !== undefined) {
    clauses.push('outcome = ?');
    params.push(query.outcome);
  }
  return { sql: clauses.length ? `WHERE ${clauses.join(' AND ')}` : '', params };
}

/** A json_group_array(DISTINCT ...) column: its non-null strings, sorted, at most `max`. */
function distinctList(json: string, max: number): string[] {
  const values = (JSON.parse(json) as (string | null)[]).filter((v): v is string => v !== null);
  return values.sort().slice(0, max);
}

/** The honeypot's tables (migration 2). Synchronous; the store wraps each call in its error guard. */
export class HoneypotTables {
  private write?: (records: HoneypotRecords) => void;

  constructor(
    private readonly db: Database.Database,
    private readonly stmt: Prepare,
  ) {}

  add(records: HoneypotRecords): void {
    this.write ??= this.buildWrite();
    this.write(records);
  }

  private buildWrite(): (records: HoneypotRecords) => void {
    const insertHit = this.stmt(INSERT_HIT);
    const addSource = this.stmt('INSERT INTO hotlist_sources (number, ip, first_seen) VALUES (?, ?, ?) ON CONFLICT DO NOTHING');
    const addNumber = this.stmt(`INSERT INTO hotlist (number, first_seen, last_seen, hits, sources, verified_hits)
      VALUES (?, ?, ?, 1, ?, ?) ON CONFLICT (number) DO UPDATE SET hits = hits + 1, sources = sources + excluded.sources,
      verified_hits = verified_hits + excluded.verified_hits, first_seen = min(first_seen, excluded.first_seen),
      last_seen = max(last_seen, excluded.last_seen)`);
    const verifyRetry = this.stmt('UPDATE hotlist SET verified_hits = verified_hits + ?, last_seen = max(last_seen, ?) WHERE number = ?');
    const addSuppressed = this.stmt(`INSERT INTO honeypot_suppressed (minute, ip, count) VALUES (?, ?, ?)
      ON CONFLICT (minute, ip) DO UPDATE SET count = count + excluded.count`);
    const write = this.db.transaction((records: HoneypotRecords) => {
      for (const hit of records.hits) insertHit.run(...hitParams(hit));
      for (const seen of records.dialled ?? []) {
        if (seen.retry) {
          verifyRetry.run(seen.verified ? 1 : 0, seen.at, seen.number);
          continue;
        }
        const newSource = addSource.run(seen.number, seen.ip, seen.at).changes;
        addNumber.run(seen.number, seen.at, seen.at, newSource, seen.verified ? 1 : 0);
      }
      for (const s of records.suppressed ?? []) addSuppressed.run(s.minute, s.ip, s.count);
    });
    return (records) => write.immediate(records);
  }

  hits(query: HoneypotQuery): StoredHoneypotHit[] {
    const where = hitWhere(query);
    const sql = `SELECT * FROM honeypot_hits ${where.sql} ORDER BY at DESC, id DESC LIMIT ?`;
    return (this.stmt(sql).all(...where.params, query.limit ?? DEFAULT_LIMIT) as HitRow[]).map(hitFromRow);
  }

  tally(field: HoneypotTallyField, query: HoneypotQuery): HoneypotTally[] {
    if (!HONEYPOT_TALLY_FIELDS.includes(field)) throw swError('SW_ERR_ARGUMENT', `honeypot tally: unknown field ${String(field)}`);
    const column = TALLY_COLUMNS[field];
    const where = hitWhere(query, [`${column} IS NOT NULL`]);
    const sql = `SELECT ${column} AS value, count(*) AS hits, count(DISTINCT ip) AS sources, sum(verified) AS verifiedHits
      FROM honeypot_hits ${where.sql} GROUP BY ${column} ORDER BY hits DESC, value LIMIT ?`;
    return this.stmt(sql).all(...where.params, query.limit ?? DEFAULT_LIMIT) as HoneypotTally[];
  }

  sources(query: HoneypotQuery): HoneypotSource[] {
    const where = hitWhere(query);
    const sql = `SELECT ip, count(*) AS hits, min(at) AS firstSeen, max(at) AS lastSeen, max(verified) AS verified,
      json_group_array(DISTINCT tool) AS tools, json_group_array(DISTINCT user_agent) AS userAgents,
      count(DISTINCT username) AS usernames, max(outcome = 'registered') AS registered
      FROM honeypot_hits ${where.sql} GROUP BY ip ORDER BY hits DESC, ip LIMIT ?`;
    const rows = this.stmt(sql).all(...where.params, query.limit ?? DEFAULT_LIMIT) as (Omit<HoneypotSource, 'verified' | 'registered' | 'tools' | 'userAgents'> & {
      verified: number; registered: number; tools: string; userAgents: string;
    })[];
    return rows.map((r) => ({
      ...r, verified: r.verified === 1, registered: r.registered === 1,
      tools: distinctList(r.tools, SOURCE_LISTS), userAgents: distinctList(r.userAgents, SOURCE_LISTS),
    }));
  }

  accounts(query: HoneypotQuery): HoneypotAccount[] {
    const where = hitWhere(query, ['username IS NOT NULL']);
    const sql = `SELECT username, count(*) AS attempts, count(DISTINCT ip) AS sources,
      json_group_array(DISTINCT password) AS passwords, max(outcome = 'registered') AS registered
      FROM honeypot_hits ${where.sql} GROUP BY username ORDER BY attempts DESC, username LIMIT ?`;
    const rows = this.stmt(sql).all(...where.params, query.limit ?? DEFAULT_LIMIT) as {
      username: string; attempts: number; sources: number; passwords: string; registered: number;
    }[];
    return rows.map((r) => ({ ...r, passwords: distinctList(r.passwords, ACCOUNT_PASSWORDS), registered: r.registered === 1 }));
  }

  totals(since: number): HoneypotTotals {
    const row = this.stmt(`SELECT count(*) AS hits, count(DISTINCT ip) AS sources,
      count(DISTINCT CASE WHEN verified = 1 THEN ip END) AS verifiedSources,
      coalesce(sum(outcome = 'registered'), 0) AS registrations, min(at) AS firstSeen, max(at) AS lastSeen
      FROM honeypot_hits WHERE at >= ?`).get(since) as Omit<HoneypotTotals, 'suppressed' | 'firstSeen' | 'lastSeen'> & {
      firstSeen: number | null; lastSeen: number | null;
    };
    // A minute that ends after `since` overlaps the period.
    const suppressed = (this.stmt('SELECT coalesce(sum(count), 0) AS n FROM honeypot_suppressed WHERE minute > ?').get(since - 60_000) as { n: number }).n;
    const { firstSeen, lastSeen, ...counts } = row;
    return { ...counts, suppressed, ...(firstSeen === null ? {} : { firstSeen }), ...(lastSeen === null ? {} : { lastSeen }) };
  }

  hotlist(query: { since?: number; number?: string; limit?: number }): HotlistEntry[] {
    const clauses = ['last_seen >= ?'];
    const params: unknown[] = [query.since ?? Number.MIN_SAFE_INTEGER];
    if (query.number !== undefined) {
      clauses.push('number = ?');
      params.push(query.number);
    }
    const sql = `SELECT number, first_seen AS firstSeen, last_seen AS lastSeen, hits, sources, verified_hits AS verifiedHits
      FROM hotlist WHERE ${clauses.join(' AND ')} ORDER BY hits DESC, number LIMIT ?`;
    return this.stmt(sql).all(...params, query.limit ?? DEFAULT_LIMIT) as HotlistEntry[];
  }

  /** The delete statements of retention, each taking (cutoff, chunk) and removing at most `chunk` rows. */
  static readonly PRUNE_BY_AGE = [
    'DELETE FROM honeypot_hits WHERE id IN (SELECT id FROM honeypot_hits WHERE at < ? ORDER BY at LIMIT ?)',
    'DELETE FROM honeypot_suppressed WHERE (minute, ip) IN (SELECT minute, ip FROM honeypot_suppressed WHERE minute < ? LIMIT ?)',
  ];
  static readonly PRUNE_HOTLIST = [
    'DELETE FROM hotlist_sources WHERE (number, ip) IN (SELECT s.number, s.ip FROM hotlist_sources s JOIN hotlist h USING (number) WHERE h.last_seen < ? LIMIT ?)',
    'DELETE FROM hotlist WHERE number IN (SELECT number FROM hotlist WHERE last_seen < ? LIMIT ?)',
  ];
  static readonly SPAN = 'SELECT (SELECT min(id) FROM honeypot_hits) AS lo, (SELECT max(id) FROM honeypot_hits) AS hi';
  static readonly COUNT = 'SELECT count(*) AS n FROM honeypot_hits';
  static readonly PRUNE_OLDEST = 'DELETE FROM honeypot_hits WHERE id IN (SELECT id FROM honeypot_hits ORDER BY at, id LIMIT ?)';
}
