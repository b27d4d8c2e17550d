import type { EventKind } from '../../core/event.js';
import { tokenFromRow, type TokenRow } from '../rows.js';
import { swError } from '../../core/errors.js';
import type { ApiToken, Decision, DecisionQuery, EventStats, Role, StoredAuditEntry } from '../types.js';
import { Params, text, type Database, type Queryable } from './db.js';
import * as rows from './rows.js';
import { decisionListWhere } from './where.js';

const DEFAULT_LIMIT = 100;
const FAILURE_KINDS = ['auth-failure', 'unknown-account', 'acl-denied'];
const NOT_ATTACKS = ['auth-success', 'call-start', 'call-answer', 'call-end'];
/** PostgreSQL's code for a unique-constraint violation. */
const UNIQUE_VIOLATION = '23505';


async function oneToken(db: Queryable, sql: string, params: unknown[]): Promise<ApiToken | undefined> {
  const [row] = (await db.query<TokenRow>(sql, params)).rows;
  return row && tokenFromRow(row);
}

/** What the API and the console read: filtered decision lists, the audit trail, dashboard counts, tokens. */
export class ConsoleTables {
  constructor(private readonly db: Database) {}

  decisions(query: DecisionQuery, now: number): Promise<Decision[]> {
    return this.db.run('listDecisions', async (db) => {
      const params = new Params();
      const sql = `SELECT * FROM decisions ${decisionListWhere(query, now, params)} ORDER BY id DESC LIMIT ${params.add(query.limit ?? DEFAULT_LIMIT)}`;
      return (await db.query<rows.DecisionRow>(sql, params.values)).rows.map(rows.decisionFromRow);
    });
  }

  countDecisions(since: number): Promise<Record<string, number>> {
    return this.db.run('countDecisions', async (db) => {
      const counts: Record<string, number> = {};
      const found = await db.query<{ name: string; n: number }>(
        'SELECT coalesce(rule, origin) AS name, count(*) AS n FROM decisions WHERE at >= $1 GROUP BY 1 ORDER BY 2 DESC',
        [since],
      );
      for (const row of found.rows) counts[row.name] = row.n;
      return counts;
    });
  }

  audit(query: { target?: string; since?: number; limit?: number }): Promise<StoredAuditEntry[]> {
    return this.db.run('auditLog', async (db) => {
      const params = new Params();
      const clauses: string[] = [];
      if (query.target !== undefined) clauses.push(`target = ${params.add(query.target)}`);
      if (query.since !== undefined) clauses.push(`at >= ${params.add(query.since)}`);
      const where = clauses.length ? `WHERE ${clauses.join(' AND ')}` : '';
      const sql = `SELECT * FROM audit ${where} ORDER BY at DESC, id DESC LIMIT ${params.add(query.limit ?? DEFAULT_LIMIT)}`;
      return (await db.query<rows.AuditRow>(sql, params.values)).rows.map((row) => ({ id: row.id, ...rows.auditFromRow(row) }));
    });
  }

  /** One pass per question over the `at` index. */
  eventStats(query: { since: number; until: number; bucketMs: number; top?: number }): Promise<EventStats> {
    return this.db.run('eventStats', async (db) => {
      const { since, until, bucketMs } = query;
      const top = query.top ?? 10;
      if (!(bucketMs > 0)) throw swError('SW_ERR_ARGUMENT', 'eventStats: bucketMs must be positive');
      const buckets = new Map<number, Partial<Record<EventKind, number>>>();
      for (let t = since - (since % bucketMs); t < until; t += bucketMs) buckets.set(t, {});
      const byKind: Partial<Record<EventKind, number>> = {};
      const series = await db.query<{ t: number; kind: EventKind; n: number }>(
        'SELECT at - (at % $1::bigint) AS t, kind, count(*) AS n FROM events WHERE at >= $2 AND at < $3 GROUP BY 1, 2',
        [bucketMs, since, until],
      );
      for (const row of series.rows) {
        const counts = buckets.get(row.t) ?? {};
        counts[row.kind] = (counts[row.kind] ?? 0) + row.n;
        buckets.set(row.t, counts);
        byKind[row.kind] = (byKind[row.kind] ?? 0) + row.n;
      }
      const bySource: Record<string, number> = {};
      const sources = await db.query<{ s: string; n: number }>(
        'SELECT coalesce(sensor, server) AS s, count(*) AS n FROM events WHERE at >= $1 AND at < $2 GROUP BY 1 ORDER BY 2 DESC LIMIT 100',
        [since, until],
      );
      for (const row of sources.rows) bySource[row.s] = row.n;
      const topSources = await db.query<{ ip: string; events: number }>(
        `SELECT ip, count(*) AS events FROM events WHERE at >= $1 AND at < $2 AND ip IS NOT NULL AND NOT (kind = ANY($3::text[]))
         GROUP BY ip ORDER BY events DESC, ip COLLATE "C" LIMIT $4`,
        [since, until, NOT_ATTACKS, top],
      );
      const topAccounts = await db.query<{ account: string; events: number }>(
        `SELECT account, count(*) AS events FROM events WHERE at >= $1 AND at < $2 AND account IS NOT NULL AND kind = ANY($3::text[])
         GROUP BY account ORDER BY events DESC, account COLLATE "C" LIMIT $4`,
        [since, until, FAILURE_KINDS, top],
      );
      return {
        series: [...buckets.entries()].sort((a, b) => a[0] - b[0]).map(([t, counts]) => ({ t, counts })),
        byKind, bySource, topSources: topSources.rows, topAccounts: topAccounts.rows,
      };
    });
  }

  addToken(token: { name: string; role: Role; hash: string; createdAt: number; createdBy: string }): Promise<ApiToken> {
    return this.db.run('addToken', async (db) => {
      try {
        return (await oneToken(
          db,
          'INSERT INTO api_tokens (name, role, hash, created_at, created_by) VALUES ($1, $2, $3, $4, $5) RETURNING *',
          [text(token.name), token.role, token.hash, token.createdAt, text(token.createdBy)],
        )) as ApiToken;
      } catch (error) {
        if ((error as { code?: unknown }).code === UNIQUE_VIOLATION) {
          throw swError('SW_ERR_ARGUMENT', `a token named "${token.name}" already exists; revoke it first or pick another name`, error);
        }
        throw error;
      }
    });
  }

  tokenByHash(hash: string): Promise<ApiToken | undefined> {
    return this.db.run('tokenByHash', (db) => oneToken(db, 'SELECT * FROM api_tokens WHERE hash = $1', [hash]));
  }

  tokens(): Promise<ApiToken[]> {
    return this.db.run('tokens', async (db) => (await db.query<TokenRow>('SELECT * FROM api_tokens ORDER BY id')).rows.map(tokenFromRow));
  }

  async touchToken(id: number, at: number): Promise<void> {
    await this.db.run('touchToken', (db) => db.query('UPDATE api_tokens SET last_used_at = $1 WHERE id = $2', [at, id]));
  }

  revokeToken(id: number, at: number): Promise<ApiToken | undefined> {
    // The conditional update keeps the first revocation; the read after it sees the row either way.
    return this.db.run('revokeToken', async (db) => {
      await db.query('UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL', [at, id]);
      return oneToken(db, 'SELECT * FROM api_tokens WHERE id = $1', [id]);
    });
  }
}
