import type { Transport } from '../../core/event.js';
import { swError } from '../../core/errors.js';
import { normalizeIp } from '../../core/ip.js';
import type {
  HoneypotAccount, HoneypotHit, HoneypotOutcome, HoneypotQuery, HoneypotRecords, HoneypotSource, HoneypotTally,
  HoneypotTallyField, HoneypotTotals, HotlistEntry, StoredHoneypotHit,
} from '../types.js';
import { HONEYPOT_TALLY_FIELDS } from '../types.js';
import { Params, text, type Database, type Queryable } from './db.js';
import { inetParam } from './where.js';

type Nullable<T> = T | null;

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
  verified: boolean;
  tool: Nullable<string>;
  sensor: Nullable<string>;
}

const HIT_COLUMNS = [
  ['at', 'bigint'], ['ip', 'text'], ['ip_net', 'inet'], ['port', 'integer'], ['transport', 'text'], ['method', 'text'],
  ['user_agent', 'text'], ['username', 'text'], ['password', 'text'], ['to_user', 'text'], ['destination', 'text'],
  ['number', 'text'], ['outcome', 'text'], ['verified', 'boolean'], ['tool', 'text'], ['sensor', 'text'],
] as const;

const INSERT_HITS = `INSERT INTO honeypot_hits (${HIT_COLUMNS.map(([name]) => name).join(', ')})
  SELECT * FROM unnest(${HIT_COLUMNS.map(([, type], i) => `$${i + 1}::${type}[]`).join(', ')})`;

function hitValues(hit: HoneypotHit): unknown[] {
  const ip = normalizeIp(hit.ip);
  if (ip === null) throw swError('SW_ERR_IP', 'honeypot hit: ip is not an IPv4 or IPv6 address');
  return [
    hit.at, text(hit.ip), ip, hit.port, hit.transport, text(hit.method), text(hit.userAgent), text(hit.username),
    text(hit.password), text(hit.toUser), text(hit.destination), text(hit.number), hit.outcome, hit.verified,
    text(hit.tool), text(hit.sensor),
  ];
}

function hitFromRow(row: HitRow): StoredHoneypotHit {
  const hit: StoredHoneypotHit = {
    id: row.id, at: row.at, ip: row.ip, port: row.port, transport: row.transport as Transport, method: row.method,
    outcome: row.outcome as HoneypotOutcome, verified: row.verified,
  };
  const optional: [keyof HoneypotHit, Nullable<string>][] = [
    ['userAgent', row.user_agent], ['username', row.username], ['password', row.password], ['toUser', row.to_user],
    ['destination', row.destination], ['number', row.number], ['tool', row.tool], ['sensor', row.sensor],
  ];
  for (const [field, value] of optional) if (value !== null) Object.assign(hit, { [field]: value });
  return hit;
}

function hitWhere(query: HoneypotQuery, params: Params, extra: string[] = []): string {
  const clauses = [...extra];
  if (query.since !== undefined) clauses.push(`at >= ${params.add(query.since)}`);
  if (query.ip !== undefined) clauses.push(`ip_net = ${params.add(inetParam(query.ip, 'honeypot query'), 'inet')}`);
  if (query.outcome !== undefined) clauses.push(`outcome = ${params.add(query.outcome)}`);
  return clauses.length ? `WHERE ${clauses.join(' AND ')}` : '';
}

/** Distinct non-null values of an array_agg, sorted by code unit like the SQLite store, at most `max`. */
function distinctList(values: Nullable<string[]>, max: number): string[] {
  return (values ?? []).sort().slice(0, max);
}

/** The honeypot's tables. */
export class HoneypotTables {
  constructor(private readonly db: Database) {}

  add(records: HoneypotRecords): Promise<void> {
    return this.db.transaction('addHoneypotRecords', async (tx) => {
      if (records.hits.length > 0) {
        const columns: unknown[][] = HIT_COLUMNS.map(() => []);
        for (const hit of records.hits) hitValues(hit).forEach((value, c) => (columns[c] as unknown[]).push(value));
        await tx.query(INSERT_HITS, columns);
      }
      for (const seen of records.dialled ?? []) await this.addSighting(tx, seen);
      for (const s of records.suppressed ?? []) {
        await tx.query(
          `INSERT INTO honeypot_suppressed AS s (minute, ip, count) VALUES ($1, $2, $3)
           ON CONFLICT (minute, ip) DO UPDATE SET count = s.count + excluded.count`,
          [s.minute, text(s.ip), s.count],
        );
      }
    });
  }

  private async addSighting(tx: Queryable, seen: NonNullable<HoneypotRecords['dialled']>[number]): Promise<void> {
    if (seen.retry) {
      await tx.query('UPDATE hotlist SET verified_hits = verified_hits + $1, last_seen = greatest(last_seen, $2) WHERE number = $3', [
        seen.verified ? 1 : 0, seen.at, text(seen.number),
      ]);
      return;
    }
    // The source row counts once per (number, address): a new one adds a source to the number.
    await tx.query(
      `WITH added AS (
         INSERT INTO hotlist_sources (number, ip, first_seen) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING 1
       )
       INSERT INTO hotlist AS h (number, first_seen, last_seen, hits, sources, verified_hits)
       VALUES ($1, $3, $3, 1, (SELECT count(*) FROM added), $4)
       ON CONFLICT (number) DO UPDATE SET hits = h.hits + 1, sources = h.sources + excluded.sources,
       verified_hits = h.verified_hits + excluded.verified_hits, first_seen = least(h.first_seen, excluded.first_seen),
       last_seen = greatest(h.last_seen, excluded.last_seen)`,
      [text(seen.number), text(seen.ip), seen.at, seen.verified ? 1 : 0],
    );
  }

  hits(query: HoneypotQuery): Promise<StoredHoneypotHit[]> {
    return this.db.run('honeypotHits', async (db) => {
      const params = new Params();
      const sql = `SELECT * FROM honeypot_hits ${hitWhere(query, params)} ORDER BY at DESC, id DESC LIMIT ${params.add(query.limit ?? DEFAULT_LIMIT)}`;
      return (await db.query<HitRow>(sql, params.values)).rows.map(hitFromRow);
    });
  }

  tally(field: HoneypotTallyField, query: HoneypotQuery): Promise<HoneypotTally[]> {
    return this.db.run('honeypotTally', async (db) => {
      if (!HONEYPOT_TALLY_FIELDS.includes(field)) throw swError('SW_ERR_ARGUMENT', `honeypot tally: unknown field ${String(field)}`);
      const column = TALLY_COLUMNS[field];
      const params = new Params();
      const where = hitWhere(query, params, [`${column} IS NOT NULL`]);
      const sql = `SELECT ${column} AS value, count(*) AS hits, count(DISTINCT ip) AS sources,
        count(*) FILTER (WHERE verified) AS "verifiedHits"
        FROM honeypot_hits ${where} GROUP BY ${column} ORDER BY hits DESC, ${column} COLLATE "C" LIMIT ${params.add(query.limit ?? DEFAULT_LIMIT)}`;
      return (await db.query<HoneypotTally>(sql, params.values)).rows;
    });
  }

  sources(query: HoneypotQuery): Promise<HoneypotSource[]> {
    return this.db.run('honeypotSources', async (db) => {
      const params = new Params();
      const sql = `SELECT ip, count(*) AS hits, min(at) AS "firstSeen", max(at) AS "lastSeen", bool_or(verified) AS verified,
        array_agg(DISTINCT tool) FILTER (WHERE tool IS NOT NULL) AS tools,
        array_agg(DISTINCT user_agent) FILTER (WHERE user_agent IS NOT NULL) AS "userAgents",
        count(DISTINCT username) AS usernames, bool_or(outcome = 'registered') AS registered
        FROM honeypot_hits ${hitWhere(query, params)} GROUP BY ip ORDER BY hits DESC, ip COLLATE "C" LIMIT ${params.add(query.limit ?? DEFAULT_LIMIT)}`;
      const found = await db.query<Omit<HoneypotSource, 'tools' | 'userAgents'> & { tools: Nullable<string[]>; userAgents: Nullable<string[]> }>(sql, params.values);
      return found.rows.map((r) => ({ ...r, tools: distinctList(r.tools, SOURCE_LISTS), userAgents: distinctList(r.userAgents, SOURCE_LISTS) }));
    });
  }

  accounts(query: HoneypotQuery): Promise<HoneypotAccount[]> {
    return this.db.run('honeypotAccounts', async (db) => {
      const params = new Params();
      const sql = `SELECT username, count(*) AS attempts, count(DISTINCT ip) AS sources,
        array_agg(DISTINCT password) FILTER (WHERE password IS NOT NULL) AS passwords, bool_or(outcome = 'registered') AS registered
        FROM honeypot_hits ${hitWhere(query, params, ['username IS NOT NULL'])} GROUP BY username
        ORDER BY attempts DESC, username COLLATE "C" LIMIT ${params.add(query.limit ?? DEFAULT_LIMIT)}`;
      const found = await db.query<Omit<HoneypotAccount, 'passwords'> & { passwords: Nullable<string[]> }>(sql, params.values);
      return found.rows.map((r) => ({ ...r, passwords: distinctList(r.passwords, ACCOUNT_PASSWORDS) }));
    });
  }

  totals(since: number): Promise<HoneypotTotals> {
    return this.db.run('honeypotTotals', async (db) => {
      const [row] = (
        await db.query<Omit<HoneypotTotals, 'suppressed' | 'firstSeen' | 'lastSeen'> & { firstSeen: Nullable<number>; lastSeen: Nullable<number> }>(
          `SELECT count(*) AS hits, count(DISTINCT ip) AS sources, count(DISTINCT ip) FILTER (WHERE verified) AS "verifiedSources",
           count(*) FILTER (WHERE outcome = 'registered') AS registrations, min(at) AS "firstSeen", max(at) AS "lastSeen"
           FROM honeypot_hits WHERE at >= $1`,
          [since],
        )
      ).rows;
      // A minute that ends after `since` overlaps the period.
      const [counted] = (await db.query<{ n: number }>('SELECT coalesce(sum(count), 0)::bigint AS n FROM honeypot_suppressed WHERE minute > $1', [since - 60_000])).rows;
      const { firstSeen, lastSeen, ...counts } = row as NonNullable<typeof row>;
      return { ...counts, suppressed: counted?.n ?? 0, ...(firstSeen === null ? {} : { firstSeen }), ...(lastSeen === null ? {} : { lastSeen }) };
    });
  }

  hotlist(query: { since?: number; number?: string; limit?: number }): Promise<HotlistEntry[]> {
    return this.db.run('hotlist', async (db) => {
      const params = new Params();
      const clauses: string[] = [];
      if (query.since !== undefined) clauses.push(`last_seen >= ${params.add(query.since)}`);
      if (query.number !== undefined) clauses.push(`number = ${params.add(query.number)}`);
      const sql = `SELECT number, first_seen AS "firstSeen", last_seen AS "lastSeen", hits, sources, verified_hits AS "verifiedHits"
        FROM hotlist ${clauses.length ? `WHERE ${clauses.join(' AND ')}` : ''} ORDER BY hits DESC, number COLLATE "C" LIMIT ${params.add(query.limit ?? DEFAULT_LIMIT)}`;
      return (await db.query<HotlistEntry>(sql, params.values)).rows;
    });
  }
}
