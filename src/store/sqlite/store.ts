import type Database from 'better-sqlite3';
import type { EventKind, SecurityEvent } from '../../core/event.js';
import { isSipwardenError, swError } from '../../core/errors.js';
import type { SourcePosition } from '../../sources/types.js';
import type {
  ApiToken,
  AuditEntry,
  DecisionQuery,
  EventStats,
  FeedState,
  Role,
  SharedAllowEntry,
  StoredAuditEntry,
  Decision,
  EventQuery,
  HoneypotAccount,
  HoneypotQuery,
  HoneypotRecords,
  HoneypotSource,
  HoneypotTally,
  HoneypotTallyField,
  HoneypotTotals,
  HotlistEntry,
  KnownGoodPair,
  NewDecision,
  RetentionPolicy,
  Store,
  StoredEvent,
  StoredHoneypotHit,
} from '../types.js';
import { ConsoleTables } from './console.js';
import { HoneypotTables } from './honeypot.js';
import * as rows from './rows.js';
import type { Incident } from '../../fraud/incidents.js';
import { decisionWhere, eventWhere } from './where.js';

const DEFAULT_LIMIT = 100;
const DEFAULT_AFTER_LIMIT = 1000;
/** Rows per prune statement: each chunk is its own short transaction, so the daemon's writes never wait long. */
const PRUNE_CHUNK = 2000;
/** Known-good pairs and hotlisted numbers unseen this long are dropped; far longer than any sensible `known-good.remember`. */
const KNOWN_GOOD_RETENTION_MS = 400 * 24 * 3600 * 1000;

/** Two subqueries, because SQLite only answers a lone min() or max() from the end of an index; both together scan. */
const SPAN_SQL = 'SELECT (SELECT min(id) FROM events) AS lo, (SELECT max(id) FROM events) AS hi';

export class SqliteStore implements Store {
  private readonly statements = new Map<string, Database.Statement>();
  /** Built on first use, so a read-only store never compiles write statements. */
  private appendTransaction?: (events: readonly SecurityEvent[], positions: readonly SourcePosition[]) => number[];

  private readonly honeypot: HoneypotTables;
  private readonly console: ConsoleTables;

  constructor(private readonly db: Database.Database) {
    this.honeypot = new HoneypotTables(db, (sql) => this.stmt(sql));
    this.console = new ConsoleTables(db, (sql) => this.stmt(sql));
  }

  /** Prepared statements are cached by their text; queries with optional filters have a handful of shapes. */
  private stmt(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  /** Runs one operation, wrapping driver errors; the message names the operation, never the values. */
  private guard<T>(operation: string, work: () => T): T {
    try {
      return work();
    } catch (error) {
      if (isSipwardenError(error)) throw error;
      const detail = error instanceof Error ? error.message : String(error);
      throw swError('SW_ERR_STORE', `store ${operation} failed: ${detail}`, error);
    }
  }

  async appendEvents(events: readonly SecurityEvent[], positions: readonly SourcePosition[] = []): Promise<number[]> {
    return this.guard('appendEvents', () => {
      this.appendTransaction ??= this.buildAppend();
      return this.appendTransaction(events, positions);
    });
  }

  private buildAppend(): (events: readonly SecurityEvent[], positions: readonly SourcePosition[]) => number[] {
    const insert = this.stmt(rows.INSERT_EVENT);
    const upsertPosition = this.stmt(`INSERT INTO positions (source_id, path, dev, ino, offset, head)
      VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (source_id) DO UPDATE SET path = excluded.path,
      dev = excluded.dev, ino = excluded.ino, offset = excluded.offset, head = excluded.head`);
    const write = this.db.transaction((events: readonly SecurityEvent[], positions: readonly SourcePosition[]) => {
      const ids = events.map((event) => Number(insert.run(...rows.eventParams(event)).lastInsertRowid));
      for (const p of positions) upsertPosition.run(p.sourceId, p.path, p.dev, p.ino, p.offset, p.head);
      return ids;
    });
    // IMMEDIATE takes the write lock up front, so a concurrent writer waits on busy_timeout instead of failing
    // with SQLITE_BUSY when a deferred read lock cannot be upgraded.
    return (events, positions) => write.immediate(events, positions);
  }

  async events(query: EventQuery): Promise<StoredEvent[]> {
    return this.guard('events', () => {
      const where = eventWhere(query);
      const sql = `SELECT * FROM events ${where.sql} ORDER BY at DESC, id DESC LIMIT ?`;
      const found = this.stmt(sql).all(...where.params, query.limit ?? DEFAULT_LIMIT) as rows.EventRow[];
      return found.map(rows.eventFromRow);
    });
  }

  async countEvents(query: EventQuery): Promise<Partial<Record<EventKind, number>>> {
    return this.guard('countEvents', () => {
      const where = eventWhere(query);
      const sql = `SELECT kind, count(*) AS n FROM events ${where.sql} GROUP BY kind`;
      const counts: Partial<Record<EventKind, number>> = {};
      for (const row of this.stmt(sql).all(...where.params) as { kind: EventKind; n: number }[]) counts[row.kind] = row.n;
      return counts;
    });
  }

  async addDecision(decision: NewDecision): Promise<Decision> {
    return this.guard('addDecision', () => {
      const id = Number(this.stmt(rows.INSERT_DECISION).run(...rows.decisionParams(decision)).lastInsertRowid);
      return this.decisionById(id) as Decision;
    });
  }

  async addDecisions(decisions: readonly NewDecision[]): Promise<Decision[]> {
    return this.guard('addDecisions', () =>
      this.db
        .transaction(() => {
          const insert = this.stmt(rows.INSERT_DECISION);
          return decisions.map((d) => this.decisionById(Number(insert.run(...rows.decisionParams(d)).lastInsertRowid)) as Decision);
        })
        .immediate(),
    );
  }

  private decisionById(id: number): Decision | undefined {
    const row = this.stmt('SELECT * FROM decisions WHERE id = ?').get(id) as rows.DecisionRow | undefined;
    return row && rows.decisionFromRow(row);
  }

  private decisions(sql: string, ...params: unknown[]): Decision[] {
    return (this.stmt(`SELECT * FROM decisions ${sql}`).all(...params) as rows.DecisionRow[]).map(rows.decisionFromRow);
  }

  async activeBans(now: number): Promise<Decision[]> {
    return this.guard('activeBans', () =>
      this.decisions(
        `WHERE action = 'ban' AND dry_run = 0 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)
         ORDER BY id`,
        now,
      ),
    );
  }

  async decisionsFor(target: { ip?: string; cidr?: string; account?: string }, limit = DEFAULT_LIMIT): Promise<Decision[]> {
    return this.guard('decisionsFor', () => {
      const where = decisionWhere(target);
      return this.decisions(`${where.sql} ORDER BY at DESC, id DESC LIMIT ?`, ...where.params, limit);
    });
  }

  async decisionsAfter(afterId: number, limit = DEFAULT_AFTER_LIMIT): Promise<Decision[]> {
    return this.guard('decisionsAfter', () => this.decisions('WHERE id > ? ORDER BY id LIMIT ?', afterId, limit));
  }

  async revokedSince(since: number): Promise<Decision[]> {
    return this.guard('revokedSince', () => this.decisions('WHERE revoked_at >= ? ORDER BY revoked_at, id', since));
  }

  async revokeDecision(id: number, by: string, reason: string, at: number): Promise<Decision> {
    return this.guard('revokeDecision', () =>
      this.db
        .transaction(() => {
          // `revoked_at IS NULL` keeps the first revocation: who lifted a ban, and why, is not overwritten.
          this.stmt(
            'UPDATE decisions SET revoked_at = ?, revoked_by = ?, revoke_reason = ? WHERE id = ? AND revoked_at IS NULL',
          ).run(at, by, reason, id);
          const decision = this.decisionById(id);
          if (!decision) throw swError('SW_ERR_NOT_FOUND', `decision ${id} does not exist`);
          return decision;
        })
        .immediate(),
    );
  }

  async countBans(target: string, since: number): Promise<number> {
    return this.guard('countBans', () => {
      // Revoked bans do not count: an operator who lifts a false positive must not make the next ban longer.
      const row = this.stmt(
        `SELECT count(*) AS n FROM decisions WHERE target = ? AND at >= ? AND action = 'ban'
         AND origin IN ('rule', 'manual') AND dry_run = 0 AND revoked_at IS NULL`,
      ).get(target, since) as { n: number };
      return row.n;
    });
  }

  async rememberSuccess(ip: string, account: string, at: number): Promise<void> {
    this.guard('rememberSuccess', () =>
      this.stmt(
        `INSERT INTO known_good (ip, account, first_seen, last_seen, count) VALUES (?, ?, ?, ?, 1)
         ON CONFLICT (ip, account) DO UPDATE SET count = count + 1,
         first_seen = min(first_seen, excluded.first_seen), last_seen = max(last_seen, excluded.last_seen)`,
      ).run(ip, account, at, at),
    );
  }

  async knownGood(query: { ip?: string; account?: string; since: number }): Promise<KnownGoodPair[]> {
    return this.guard('knownGood', () => {
      const clauses = ['last_seen >= ?'];
      const params: unknown[] = [query.since];
      if (query.ip !== undefined) {
        clauses.push('ip = ?');
        params.push(query.ip);
      }
      if (query.account !== undefined) {
        clauses.push('account = ?');
        params.push(query.account);
      }
      const sql = `SELECT * FROM known_good WHERE ${clauses.join(' AND ')} ORDER BY last_seen DESC, ip, account`;
      return (this.stmt(sql).all(...params) as rows.KnownGoodRow[]).map(rows.knownGoodFromRow);
    });
  }

  async audit(entry: AuditEntry): Promise<void> {
    this.guard('audit', () =>
      this.stmt('INSERT INTO audit (at, actor, action, target, reason, detail) VALUES (?, ?, ?, ?, ?, ?)').run(
        entry.at,
        entry.actor,
        entry.action,
        entry.target,
        entry.reason,
        entry.detail ?? null,
      ),
    );
  }

  async auditFor(target: string, limit = DEFAULT_LIMIT): Promise<AuditEntry[]> {
    return this.guard('auditFor', () => {
      const sql = 'SELECT * FROM audit WHERE target = ? ORDER BY at DESC, id DESC LIMIT ?';
      return (this.stmt(sql).all(target, limit) as rows.AuditRow[]).map(rows.auditFromRow);
    });
  }

  async position(sourceId: string): Promise<SourcePosition | undefined> {
    return this.guard('position', () => {
      const row = this.stmt('SELECT * FROM positions WHERE source_id = ?').get(sourceId) as rows.PositionRow | undefined;
      return row && rows.positionFromRow(row);
    });
  }

  async addHoneypotRecords(records: HoneypotRecords): Promise<void> {
    this.guard('addHoneypotRecords', () => this.honeypot.add(records));
  }

  async honeypotHits(query: HoneypotQuery): Promise<StoredHoneypotHit[]> {
    return this.guard('honeypotHits', () => this.honeypot.hits(query));
  }

  async honeypotTally(field: HoneypotTallyField, query: HoneypotQuery): Promise<HoneypotTally[]> {
    return this.guard('honeypotTally', () => this.honeypot.tally(field, query));
  }

  async honeypotSources(query: HoneypotQuery): Promise<HoneypotSource[]> {
    return this.guard('honeypotSources', () => this.honeypot.sources(query));
  }

  async honeypotAccounts(query: HoneypotQuery): Promise<HoneypotAccount[]> {
    return this.guard('honeypotAccounts', () => this.honeypot.accounts(query));
  }

  async honeypotTotals(since: number): Promise<HoneypotTotals> {
    return this.guard('honeypotTotals', () => this.honeypot.totals(since));
  }

  async hotlist(query: { since?: number; number?: string; limit?: number }): Promise<HotlistEntry[]> {
    return this.guard('hotlist', () => this.honeypot.hotlist(query));
  }

  async decision(id: number): Promise<Decision | undefined> {
    return this.guard('decision', () => this.decisionById(id));
  }

  async listDecisions(query: DecisionQuery): Promise<Decision[]> {
    return this.guard('listDecisions', () => this.console.decisions(query));
  }

  async countDecisions(since: number): Promise<Record<string, number>> {
    return this.guard('countDecisions', () => this.console.countDecisions(since));
  }

  async auditLog(query: { target?: string; since?: number; limit?: number }): Promise<StoredAuditEntry[]> {
    return this.guard('auditLog', () => this.console.audit(query));
  }

  async eventStats(query: { since: number; until: number; bucketMs: number; top?: number }): Promise<EventStats> {
    return this.guard('eventStats', () => this.console.eventStats(query));
  }

  async sharedAllow(): Promise<SharedAllowEntry[]> {
    return this.guard('sharedAllow', () => this.stmt('SELECT cidr, reason, actor, at FROM shared_allow ORDER BY cidr').all() as SharedAllowEntry[]);
  }

  async addSharedAllow(entry: SharedAllowEntry): Promise<void> {
    this.guard('addSharedAllow', () =>
      this.stmt('INSERT INTO shared_allow (cidr, reason, actor, at) VALUES (?, ?, ?, ?) ON CONFLICT (cidr) DO UPDATE SET reason = excluded.reason, actor = excluded.actor, at = excluded.at')
        .run(entry.cidr, entry.reason, entry.actor, entry.at),
    );
  }

  async removeSharedAllow(cidr: string): Promise<boolean> {
    return this.guard('removeSharedAllow', () => this.stmt('DELETE FROM shared_allow WHERE cidr = ?').run(cidr).changes > 0);
  }

  async feedStates(): Promise<FeedState[]> {
    return this.guard('feedStates', () =>
      (this.stmt('SELECT body FROM feed_state ORDER BY id').all() as { body: string }[]).map((row) => JSON.parse(row.body) as FeedState),
    );
  }

  async saveFeedState(state: FeedState): Promise<void> {
    this.guard('saveFeedState', () =>
      this.stmt('INSERT INTO feed_state (id, body) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET body = excluded.body').run(state.id, JSON.stringify(state)),
    );
  }

  async addToken(token: { name: string; role: Role; hash: string; createdAt: number; createdBy: string }): Promise<ApiToken> {
    return this.guard('addToken', () => this.console.addToken(token));
  }

  async tokenByHash(hash: string): Promise<ApiToken | undefined> {
    return this.guard('tokenByHash', () => this.console.tokenByHash(hash));
  }

  async tokens(): Promise<ApiToken[]> {
    return this.guard('tokens', () => this.console.tokens());
  }

  async touchToken(id: number, at: number): Promise<void> {
    this.guard('touchToken', () => this.console.touchToken(id, at));
  }

  async revokeToken(id: number, at: number): Promise<ApiToken | undefined> {
    return this.guard('revokeToken', () => this.console.revokeToken(id, at));
  }

  async saveIncident(incident: Incident): Promise<void> {
    this.guard('saveIncident', () => {
      this.stmt(`INSERT INTO fraud_incidents (id, account, opened_at, updated_at, severity, body) VALUES (?, ?, ?, ?, ?, ?)
        ON CONFLICT (id) DO UPDATE SET updated_at = excluded.updated_at, severity = excluded.severity, body = excluded.body`)
        .run(incident.id, incident.account, incident.openedAt, incident.updatedAt, incident.severity, JSON.stringify(incident));
    });
  }

  async incidents(query: { account?: string; since?: number; limit?: number }): Promise<Incident[]> {
    return this.guard('incidents', () => {
      const where: string[] = [];
      const params: unknown[] = [];
      if (query.account !== undefined) {
        where.push('account = ?');
        params.push(query.account);
      }
      if (query.since !== undefined) {
        where.push('updated_at >= ?');
        params.push(query.since);
      }
      const sql = `SELECT body FROM fraud_incidents ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY updated_at DESC, id LIMIT ?`;
      const found = this.stmt(sql).all(...params, query.limit ?? 100) as { body: string }[];
      return found.map((row) => JSON.parse(row.body) as Incident);
    });
  }

  /**
   * Removes events older than the age limit, then the oldest (by event time) beyond the count limit, in chunks
   * of PRUNE_CHUNK with the event loop released between them; honeypot hits the same way. The no-op path is
   * two index probes per table: the count is only taken when the id span says the table could be over the limit.
   */
  async prune(now: number, retention: RetentionPolicy): Promise<number> {
    const cutoff = now - retention.maxAgeMs;
    let removed = await this.deleteChunks('DELETE FROM events WHERE id IN (SELECT id FROM events WHERE at < ? ORDER BY at LIMIT ?)', cutoff);
    removed += await this.pruneOldest(SPAN_SQL, 'SELECT count(*) AS n FROM events',
      'DELETE FROM events WHERE id IN (SELECT id FROM events ORDER BY at, id LIMIT ?)', retention.maxEvents);
    for (const sql of HoneypotTables.PRUNE_BY_AGE) await this.deleteChunks(sql, cutoff);
    await this.pruneOldest(HoneypotTables.SPAN, HoneypotTables.COUNT, HoneypotTables.PRUNE_OLDEST, retention.maxEvents);
    await this.deleteChunks(
      'DELETE FROM known_good WHERE (ip, account) IN (SELECT ip, account FROM known_good WHERE last_seen < ? LIMIT ?)',
      now - KNOWN_GOOD_RETENTION_MS,
    );
    for (const sql of HoneypotTables.PRUNE_HOTLIST) await this.deleteChunks(sql, now - KNOWN_GOOD_RETENTION_MS);
    await this.deleteChunks('DELETE FROM fraud_incidents WHERE id IN (SELECT id FROM fraud_incidents WHERE updated_at < ? LIMIT ?)', cutoff);
    return removed;
  }

  /** Deletes the oldest rows of a table beyond `max`, in chunks. */
  private async pruneOldest(spanSql: string, countSql: string, deleteSql: string, max: number): Promise<number> {
    const span = this.guard('prune', () => this.stmt(spanSql).get()) as { lo: number | null; hi: number | null };
    if (span.lo === null || span.hi === null || span.hi - span.lo + 1 <= max) return 0;
    const total = this.guard('prune', () => (this.stmt(countSql).get() as { n: number }).n);
    let removed = 0;
    let excess = total - max;
    while (excess > 0) {
      const chunk = Math.min(excess, PRUNE_CHUNK);
      const changes = this.guard('prune', () => this.stmt(deleteSql).run(chunk).changes);
      removed += changes;
      excess -= chunk;
      if (changes < chunk) break;
      await releaseEventLoop();
    }
    return removed;
  }

  private async deleteChunks(sql: string, cutoff: number): Promise<number> {
    let removed = 0;
    for (;;) {
      const changes = this.guard('prune', () => this.stmt(sql).run(cutoff, PRUNE_CHUNK).changes);
      removed += changes;
      if (changes < PRUNE_CHUNK) return removed;
      await releaseEventLoop();
    }
  }

  async close(): Promise<void> {
    this.guard('close', () => {
      if (this.db.open) this.db.close();
    });
  }
}

function releaseEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
