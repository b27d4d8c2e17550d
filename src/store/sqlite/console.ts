import type Database from 'better-sqlite3';
import { tokenFromRow, type TokenRow } from '../rows.js';
import type { EventKind } from '../../core/event.js';
import { swError } from '../../core/errors.js';
import type { ApiToken, Decision, DecisionQuery, EventStats, Role, StoredAuditEntry } from '../types.js';
import * as rows from './rows.js';
import { decisionWhere } from './where.js';

type Prepare = (sql: string) => Database.Statement;

const DEFAULT_LIMIT = 100;
const FAILURE_KINDS = ['auth-failure', 'unknown-account', 'acl-denied'];


/** What the API and the console read: filtered decision lists, the audit trail, dashboard counts, tokens. */
export class ConsoleTables {
  constructor(
    private readonly db: Database.Database,
    private readonly stmt: Prepare,
  ) {}

  decisions(query: DecisionQuery): Decision[] {
    const clauses: string[] = [];
    const params: unknown[] = [];
    if (query.target !== undefined) {
      const where = decisionWhere(query.target.includes('/') ? { cidr: query.target } : { ip: query.target });
      clauses.push(`(${where.sql.replace(/^WHERE /, '')})`);
      params.push(...where.params);
    }
    if (query.account !== undefined) {
      clauses.push(`target = ? AND target_type = 'account'`);
      params.push(query.account);
    }
    if (query.active !== undefined) {
      const active = `(action = 'ban' AND dry_run = 0 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?))`;
      clauses.push(query.active ? active : `NOT ${active}`);
      params.push(query.now ?? Date.now());
    }
    for (const [column, value] of [['rule', query.rule], ['origin', query.origin], ['action', query.action]] as const) {
      if (value === undefined) continue;
      clauses.push(`${column} = ?`);
      params.push(value);
    }
    if (query.since !== undefined) {
      clauses.push('at >= ?');
      params.push(query.since);
    }
    if (query.until !== undefined) {
      clauses.push('at < ?');
      params.push(query.until);
    }
    if (query.beforeId !== undefined) {
      clauses.push('id < ?');
      params.push(query.beforeId);
    }
    const where = clauses.length > 0 ? `WHERE ${clauses.join(' AND ')}` : '';
    const sql = `SELECT * FROM decisions ${where} ORDER BY id DESC LIMIT ?`;
    return (this.stmt(sql).all(...params, query.limit ?? DEFAULT_LIMIT) as rows.DecisionRow[]).map(rows.decisionFromRow);
  }

  countDecisions(since: number): Record<string, number> {
    const counts: Record<string, number> = {};
    const sql = `SELECT coalesce(rule, origin) AS name, count(*) AS n FROM decisions WHERE at >= ? GROUP BY 1 ORDER BY 2 DESC`;
    for (const row of this.stmt(sql).all(since) as { name: string; n: number }[]) counts[row.name] = row.n;
    return counts;
  }

  audit(query: { target?: string; since?: number; limit?: number }): StoredAuditEntry[] {
    const clauses: string[] = [];
    const params: unknown[] = [];
    if (query.target !== undefined) {
      clauses.push('target = ?');
      params.push(query.target);
    }
    if (query.since !== undefined) {
      clauses.push('at >= ?');
      params.push(query.since);
    }
    const sql = `SELECT * FROM audit ${clauses.length ? `WHERE ${clauses.join(' AND ')}` : ''} ORDER BY at DESC, id DESC LIMIT ?`;
    return (this.stmt(sql).all(...params, query.limit ?? DEFAULT_LIMIT) as rows.AuditRow[]).map((row) => ({
      id: row.id, ...rows.auditFromRow(row),
    }));
  }

  /** One pass per question over the `at` index; a day of a busy PBX is a few hundred thousand rows. */
  eventStats(query: { since: number; until: number; bucketMs: number; top?: number }): EventStats {
    const { since, until, bucketMs } = query;
    const top = query.top ?? 10;
    if (!(bucketMs > 0)) throw swError('SW_ERR_ARGUMENT', 'eventStats: bucketMs must be positive');
    const buckets = new Map<number, Partial<Record<EventKind, number>>>();
    for (let t = since - (since % bucketMs); t < until; t += bucketMs) buckets.set(t, {});
    const byKind: Partial<Record<EventKind, number>> = {};
    const seriesSql = `SELECT (at - (at % ?)) AS t, kind, count(*) AS n FROM events WHERE at >= ? AND at < ? GROUP BY t, kind`;
    for (const row of this.stmt(seriesSql).all(bucketMs, since, until) as { t: number; kind: EventKind; n: number }[]) {
      const counts = buckets.get(row.t) ?? {};
      counts[row.kind] = (counts[row.kind] ?? 0) + row.n;
      buckets.set(row.t, counts);
      byKind[row.kind] = (byKind[row.kind] ?? 0) + row.n;
    }
    const bySource: Record<string, number> = {};
    const sourceSql = `SELECT coalesce(sensor, server) AS s, count(*) AS n FROM events WHERE at >= ? AND at < ? GROUP BY 1 ORDER BY 2 DESC LIMIT 100`;
    for (const row of this.stmt(sourceSql).all(since, until) as { s: string; n: number }[]) bySource[row.s] = row.n;
    const topSources = this.stmt(
      `SELECT ip, count(*) AS events FROM events WHERE at >= ? AND at < ? AND ip IS NOT NULL AND kind NOT IN ('auth-success', 'call-start', 'call-answer', 'call-end')
       GROUP BY ip ORDER BY events DESC, ip LIMIT ?`,
    ).all(since, until, top) as { ip: string; events: number }[];
    const topAccounts = this.stmt(
      `SELECT account, count(*) AS events FROM events WHERE at >= ? AND at < ? AND account IS NOT NULL
       AND kind IN (${FAILURE_KINDS.map(() => '?').join(',')}) GROUP BY account ORDER BY events DESC, account LIMIT ?`,
    ).all(since, until, ...FAILURE_KINDS, top) as { account: string; events: number }[];
    const series = [...buckets.entries()].sort((a, b) => a[0] - b[0]).map(([t, counts]) => ({ t, counts }));
    return { series, byKind, bySource, topSources, topAccounts };
  }

  addToken(token: { name: string; role: Role; hash: string; createdAt: number; createdBy: string }): ApiToken {
    try {
      const id = Number(
        this.stmt('INSERT INTO api_tokens (name, role, hash, created_at, created_by) VALUES (?, ?, ?, ?, ?)').run(
          token.name, token.role, token.hash, token.createdAt, token.createdBy,
        ).lastInsertRowid,
      );
      return this.tokenById(id) as ApiToken;
    } catch (error) {
      if (error instanceof Error && /UNIQUE/.test(error.message)) {
        throw swError('SW_ERR_ARGUMENT', `a token named "${token.name}" already exists; revoke it first or pick another name`, error);
      }
      throw error;
    }
  }

  tokenById(id: number): ApiToken | undefined {
    const row = this.stmt('SELECT * FROM api_tokens WHERE id = ?').get(id) as TokenRow | undefined;
    return row && tokenFromRow(row);
  }

  tokenByHash(hash: string): ApiToken | undefined {
    const row = this.stmt('SELECT * FROM api_tokens WHERE hash = ?').get(hash) as TokenRow | undefined;
    return row && tokenFromRow(row);
  }

  tokens(): ApiToken[] {
    return (this.stmt('SELECT * FROM api_tokens ORDER BY id').all() as TokenRow[]).map(tokenFromRow);
  }

  touchToken(id: number, at: number): void {
    this.stmt('UPDATE api_tokens SET last_used_at = ? WHERE id = ?').run(at, id);
  }

  revokeToken(id: number, at: number): ApiToken | undefined {
    return this.db
      .transaction(() => {
        this.stmt('UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(at, id);
        return this.tokenById(id);
      })
      .immediate();
  }
}
