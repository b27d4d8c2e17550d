import type { EventKind, SecurityEvent } from '../../core/event.js';
import type { Clock } from '../../core/clock.js';
import { swError } from '../../core/errors.js';
import type { Incident } from '../../fraud/incidents.js';
import type { SourcePosition } from '../../sources/types.js';
import type {
  ApiToken, AuditEntry, Decision, DecisionQuery, EventQuery, EventStats, FeedState, SharedAllowEntry, FleetIncrement, FleetTotal, HoneypotAccount, HoneypotQuery,
  HoneypotRecords, HoneypotSource, HoneypotTally, HoneypotTallyField, HoneypotTotals, HotlistEntry, KnownGoodPair,
  NewDecision, RetentionPolicy, Role, Store, StoredAuditEntry, StoredEvent, StoredHoneypotHit,
} from '../types.js';
import { ConsoleTables } from './console.js';
import { Params, text, type Database, type Queryable } from './db.js';
import { FleetTables } from './fleet.js';
import { HoneypotTables } from './honeypot.js';
import { pruneTables } from './prune.js';
import * as rows from './rows.js';
import { notifyDecision, watchDecisions, type DecisionChange } from './watch.js';
import { activeCondition, decisionTargetCondition, eventWhere } from './where.js';

const DEFAULT_LIMIT = 100;
const DEFAULT_AFTER_LIMIT = 1000;
/** Events per INSERT: bounds one statement's memory (raw records are up to 1 MB) while keeping round trips few. */
const INSERT_CHUNK = 5000;

/**
 * The Store on PostgreSQL, for fleets: every node and the CLI share one database through a pool. Each decision
 * added or revoked is notified on DECISIONS_CHANNEL in its own transaction, so `watchDecisions` on every node
 * hears of it at commit.
 */
export class PostgresStore implements Store {
  private readonly honeypot: HoneypotTables;
  private readonly console: ConsoleTables;
  private readonly fleet: FleetTables;
  private closed = false;

  constructor(
    readonly db: Database,
    private readonly clock: Clock,
  ) {
    this.honeypot = new HoneypotTables(db);
    this.console = new ConsoleTables(db);
    this.fleet = new FleetTables(db);
  }

  async appendEvents(events: readonly SecurityEvent[], positions: readonly SourcePosition[] = []): Promise<number[]> {
    if (events.length === 0 && positions.length === 0) return [];
    return this.db.transaction('appendEvents', async (tx) => {
      const ids: number[] = [];
      for (let start = 0; start < events.length; start += INSERT_CHUNK) {
        const chunk = events.slice(start, start + INSERT_CHUNK);
        const inserted = await tx.query<{ id: number }>(rows.INSERT_EVENTS, rows.eventColumns(chunk));
        // Ids are drawn in the order rows are produced, which is the order given; RETURNING itself has no order.
        ids.push(...inserted.rows.map((r) => r.id).sort((a, b) => a - b));
      }
      for (const p of positions) {
        await tx.query(
          `INSERT INTO positions (source_id, path, dev, ino, byte_offset, head) VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (source_id) DO UPDATE SET path = excluded.path, dev = excluded.dev, ino = excluded.ino,
           byte_offset = excluded.byte_offset, head = excluded.head`,
          [p.sourceId, text(p.path), p.dev, p.ino, p.offset, p.head],
        );
      }
      return ids;
    });
  }

  async events(query: EventQuery): Promise<StoredEvent[]> {
    return this.db.run('events', async (db) => {
      const params = new Params();
      const sql = `SELECT * FROM events ${eventWhere(query, params)} ORDER BY at DESC, id DESC LIMIT ${params.add(query.limit ?? DEFAULT_LIMIT)}`;
      return (await db.query<rows.EventRow>(sql, params.values)).rows.map(rows.eventFromRow);
    });
  }

  async countEvents(query: EventQuery): Promise<Partial<Record<EventKind, number>>> {
    return this.db.run('countEvents', async (db) => {
      const params = new Params();
      const found = await db.query<{ kind: EventKind; n: number }>(`SELECT kind, count(*) AS n FROM events ${eventWhere(query, params)} GROUP BY kind`, params.values);
      const counts: Partial<Record<EventKind, number>> = {};
      for (const row of found.rows) counts[row.kind] = row.n;
      return counts;
    });
  }

  async addDecision(decision: NewDecision): Promise<Decision> {
    return this.db.transaction('addDecision', async (tx) => {
      const row = (await tx.query<rows.DecisionRow>(rows.INSERT_DECISION, rows.decisionParams(decision))).rows[0] as rows.DecisionRow;
      await notifyDecision(tx, row.id);
      return rows.decisionFromRow(row);
    });
  }

  /** One commit (one fsync) for a burst of bans: the other nodes hear of each as the transaction commits. */
  async addDecisions(decisions: readonly NewDecision[]): Promise<Decision[]> {
    if (decisions.length === 0) return [];
    return this.db.transaction('addDecisions', async (tx) => {
      const stored: Decision[] = [];
      for (const decision of decisions) {
        const row = (await tx.query<rows.DecisionRow>(rows.INSERT_DECISION, rows.decisionParams(decision))).rows[0] as rows.DecisionRow;
        await notifyDecision(tx, row.id);
        stored.push(rows.decisionFromRow(row));
      }
      return stored;
    });
  }

  private async decisions(db: Queryable, sql: string, params: unknown[]): Promise<Decision[]> {
    return (await db.query<rows.DecisionRow>(`SELECT * FROM decisions ${sql}`, params)).rows.map(rows.decisionFromRow);
  }

  async activeBans(now: number): Promise<Decision[]> {
    return this.db.run('activeBans', (db) => {
      const params = new Params();
      return this.decisions(db, `WHERE ${activeCondition(now, params)} ORDER BY id`, params.values);
    });
  }

  async decisionsFor(target: { ip?: string; cidr?: string; account?: string }, limit = DEFAULT_LIMIT): Promise<Decision[]> {
    return this.db.run('decisionsFor', (db) => {
      const params = new Params();
      const condition = decisionTargetCondition(target, params);
      return this.decisions(db, `WHERE ${condition} ORDER BY at DESC, id DESC LIMIT ${params.add(limit)}`, params.values);
    });
  }

  async decisionsAfter(afterId: number, limit = DEFAULT_AFTER_LIMIT): Promise<Decision[]> {
    return this.db.run('decisionsAfter', (db) => this.decisions(db, 'WHERE id > $1 ORDER BY id LIMIT $2', [afterId, limit]));
  }

  async revokedSince(since: number): Promise<Decision[]> {
    return this.db.run('revokedSince', (db) => this.decisions(db, 'WHERE revoked_at >= $1 ORDER BY revoked_at, id', [since]));
  }

  async revokeDecision(id: number, by: string, reason: string, at: number): Promise<Decision> {
    return this.db.transaction('revokeDecision', async (tx) => {
      // `revoked_at IS NULL` keeps the first revocation: who lifted a ban, and why, is not overwritten.
      const updated = await tx.query('UPDATE decisions SET revoked_at = $1, revoked_by = $2, revoke_reason = $3 WHERE id = $4 AND revoked_at IS NULL', [
        at, text(by), text(reason), id,
      ]);
      const [decision] = await this.decisions(tx, 'WHERE id = $1', [id]);
      if (!decision) throw swError('SW_ERR_NOT_FOUND', `decision ${id} does not exist`);
      if (updated.rowCount === 1) await notifyDecision(tx, id);
      return decision;
    });
  }

  async countBans(target: string, since: number): Promise<number> {
    return this.db.run('countBans', async (db) => {
      // Revoked bans do not count: an operator who lifts a false positive must not make the next ban longer.
      const found = await db.query<{ n: number }>(
        `SELECT count(*) AS n FROM decisions WHERE target = $1 AND at >= $2 AND action = 'ban'
         AND origin IN ('rule', 'manual') AND NOT dry_run AND revoked_at IS NULL`,
        [target, since],
      );
      return found.rows[0]?.n ?? 0;
    });
  }

  async rememberSuccess(ip: string, account: string, at: number): Promise<void> {
    await this.db.run('rememberSuccess', (db) =>
      db.query(
        `INSERT INTO known_good AS k (ip, account, first_seen, last_seen, count) VALUES ($1, $2, $3, $3, 1)
         ON CONFLICT (ip, account) DO UPDATE SET count = k.count + 1,
         first_seen = least(k.first_seen, excluded.first_seen), last_seen = greatest(k.last_seen, excluded.last_seen)`,
        [text(ip), text(account), at],
      ),
    );
  }

  async knownGood(query: { ip?: string; account?: string; since: number }): Promise<KnownGoodPair[]> {
    return this.db.run('knownGood', async (db) => {
      const params = new Params();
      const clauses = [`last_seen >= ${params.add(query.since)}`];
      if (query.ip !== undefined) clauses.push(`ip = ${params.add(query.ip)}`);
      if (query.account !== undefined) clauses.push(`account = ${params.add(query.account)}`);
      const sql = `SELECT * FROM known_good WHERE ${clauses.join(' AND ')} ORDER BY last_seen DESC, ip COLLATE "C", account COLLATE "C"`;
      return (await db.query<rows.KnownGoodRow>(sql, params.values)).rows.map(rows.knownGoodFromRow);
    });
  }

  async audit(entry: AuditEntry): Promise<void> {
    await this.db.run('audit', (db) =>
      db.query('INSERT INTO audit (at, actor, action, target, reason, detail) VALUES ($1, $2, $3, $4, $5, $6)', [
        entry.at, text(entry.actor), text(entry.action), text(entry.target), text(entry.reason), text(entry.detail),
      ]),
    );
  }

  async auditFor(target: string, limit = DEFAULT_LIMIT): Promise<AuditEntry[]> {
    return this.db.run('auditFor', async (db) => {
      const found = await db.query<rows.AuditRow>('SELECT * FROM audit WHERE target = $1 ORDER BY at DESC, id DESC LIMIT $2', [target, limit]);
      return found.rows.map(rows.auditFromRow);
    });
  }

  async position(sourceId: string): Promise<SourcePosition | undefined> {
    return this.db.run('position', async (db) => {
      const [row] = (await db.query<rows.PositionRow>('SELECT * FROM positions WHERE source_id = $1', [sourceId])).rows;
      return row && rows.positionFromRow(row);
    });
  }

  addHoneypotRecords(records: HoneypotRecords): Promise<void> {
    return this.honeypot.add(records);
  }

  honeypotHits(query: HoneypotQuery): Promise<StoredHoneypotHit[]> {
    return this.honeypot.hits(query);
  }

  honeypotTally(field: HoneypotTallyField, query: HoneypotQuery): Promise<HoneypotTally[]> {
    return this.honeypot.tally(field, query);
  }

  honeypotSources(query: HoneypotQuery): Promise<HoneypotSource[]> {
    return this.honeypot.sources(query);
  }

  honeypotAccounts(query: HoneypotQuery): Promise<HoneypotAccount[]> {
    return this.honeypot.accounts(query);
  }

  honeypotTotals(since: number): Promise<HoneypotTotals> {
    return this.honeypot.totals(since);
  }

  hotlist(query: { since?: number; number?: string; limit?: number }): Promise<HotlistEntry[]> {
    return this.honeypot.hotlist(query);
  }

  async saveIncident(incident: Incident): Promise<void> {
    await this.db.run('saveIncident', (db) =>
      db.query(
        `INSERT INTO fraud_incidents (id, account, opened_at, updated_at, severity, body) VALUES ($1, $2, $3, $4, $5, $6::json)
         ON CONFLICT (id) DO UPDATE SET updated_at = excluded.updated_at, severity = excluded.severity, body = excluded.body`,
        [text(incident.id), text(incident.account), incident.openedAt, incident.updatedAt, incident.severity, JSON.stringify(incident)],
      ),
    );
  }

  async incidents(query: { account?: string; since?: number; limit?: number }): Promise<Incident[]> {
    return this.db.run('incidents', async (db) => {
      const params = new Params();
      const clauses: string[] = [];
      if (query.account !== undefined) clauses.push(`account = ${params.add(query.account)}`);
      if (query.since !== undefined) clauses.push(`updated_at >= ${params.add(query.since)}`);
      const where = clauses.length > 0 ? `WHERE ${clauses.join(' AND ')}` : '';
      const sql = `SELECT body FROM fraud_incidents ${where} ORDER BY updated_at DESC, id COLLATE "C" LIMIT ${params.add(query.limit ?? DEFAULT_LIMIT)}`;
      return (await db.query<{ body: Incident }>(sql, params.values)).rows.map((row) => row.body);
    });
  }

  decision(id: number): Promise<Decision | undefined> {
    return this.db.run('decision', async (db) => (await this.decisions(db, 'WHERE id = $1', [id]))[0]);
  }

  listDecisions(query: DecisionQuery): Promise<Decision[]> {
    return this.console.decisions(query, this.clock.now());
  }

  countDecisions(since: number): Promise<Record<string, number>> {
    return this.console.countDecisions(since);
  }

  auditLog(query: { target?: string; since?: number; limit?: number }): Promise<StoredAuditEntry[]> {
    return this.console.audit(query);
  }

  eventStats(query: { since: number; until: number; bucketMs: number; top?: number }): Promise<EventStats> {
    return this.console.eventStats(query);
  }

  sharedAllow(): Promise<SharedAllowEntry[]> {
    return this.db.run('sharedAllow', async (db) =>
      (await db.query<{ cidr: string; reason: string; actor: string; at: string }>('SELECT cidr, reason, actor, at FROM shared_allow ORDER BY cidr COLLATE "C"'))
        .rows.map((row) => ({ cidr: row.cidr, reason: row.reason, actor: row.actor, at: Number(row.at) })),
    );
  }

  async addSharedAllow(entry: SharedAllowEntry): Promise<void> {
    await this.db.run('addSharedAllow', (db) =>
      db.query('INSERT INTO shared_allow (cidr, reason, actor, at) VALUES ($1, $2, $3, $4) ON CONFLICT (cidr) DO UPDATE SET reason = excluded.reason, actor = excluded.actor, at = excluded.at', [
        text(entry.cidr), text(entry.reason), text(entry.actor), entry.at,
      ]),
    );
  }

  removeSharedAllow(cidr: string): Promise<boolean> {
    return this.db.run('removeSharedAllow', async (db) => ((await db.query('DELETE FROM shared_allow WHERE cidr = $1', [text(cidr)])).rowCount ?? 0) > 0);
  }

  feedStates(): Promise<FeedState[]> {
    return this.db.run('feedStates', async (db) =>
      (await db.query<{ body: FeedState }>('SELECT body FROM feed_state ORDER BY id COLLATE "C"')).rows.map((row) => row.body),
    );
  }

  async saveFeedState(state: FeedState): Promise<void> {
    await this.db.run('saveFeedState', (db) =>
      db.query('INSERT INTO feed_state (id, body) VALUES ($1, $2::json) ON CONFLICT (id) DO UPDATE SET body = excluded.body', [
        text(state.id), JSON.stringify(state),
      ]),
    );
  }

  addToken(token: { name: string; role: Role; hash: string; createdAt: number; createdBy: string }): Promise<ApiToken> {
    return this.console.addToken(token);
  }

  tokenByHash(hash: string): Promise<ApiToken | undefined> {
    return this.console.tokenByHash(hash);
  }

  tokens(): Promise<ApiToken[]> {
    return this.console.tokens();
  }

  touchToken(id: number, at: number): Promise<void> {
    return this.console.touchToken(id, at);
  }

  revokeToken(id: number, at: number): Promise<ApiToken | undefined> {
    return this.console.revokeToken(id, at);
  }

  /**
   * Reports decisions added or revoked anywhere in the fleet, and a full resync (every active ban) at the start
   * and after each reconnect, until `signal` aborts; see watch.ts for the contract.
   */
  watchDecisions(onChange: (change: DecisionChange) => void | Promise<void>, signal: AbortSignal, onError?: (error: Error) => void): Promise<void> {
    const deps = {
      client: () => this.db.client(),
      decisions: (ids: readonly number[]) => this.db.run('watchDecisions', (db) => this.decisions(db, 'WHERE id = ANY($1::bigint[])', [ids])),
      activeBans: (now: number) => this.activeBans(now),
      clock: this.clock,
    };
    return watchDecisions(deps, onChange, signal, onError);
  }

  addFleetCounts(node: string, increments: readonly FleetIncrement[]): Promise<FleetTotal[]> {
    return this.fleet.add(node, increments);
  }

  claimFleetFinding(claim: { rule: string; key: string; windowStart: number; windowMs: number; node: string; at: number }): Promise<boolean> {
    return this.fleet.claim(claim);
  }

  pruneFleetCounts(before: number): Promise<number> {
    return this.fleet.prune(before);
  }

  prune(now: number, retention: RetentionPolicy): Promise<number> {
    return pruneTables(this.db, now, retention);
  }

  async close(): Promise<void> {
    // pg refuses a second end(); closing twice is harmless for callers, as with the SQLite store.
    if (this.closed) return;
    this.closed = true;
    await this.db.run('close', () => this.db.close());
  }
}
