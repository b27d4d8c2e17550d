import type { Clock } from '../../core/clock.js';
import type { EventKind, SecurityEvent } from '../../core/event.js';
import { swError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { Incident } from '../../fraud/incidents.js';
import type { SourcePosition } from '../../sources/types.js';
import type {
  ApiToken, AuditEntry, Decision, DecisionChange, DecisionQuery, EventQuery, EventStats, FeedState, SharedAllowEntry, HoneypotAccount, HoneypotQuery,
  HoneypotRecords, HoneypotSource, HoneypotTally, HoneypotTallyField, HoneypotTotals, HotlistEntry, KnownGoodPair, NewDecision,
  RetentionPolicy, Role, Store, StoredAuditEntry, StoredEvent, StoredHoneypotHit,
} from '../types.js';
import { isConnectionError } from './connection-error.js';
import { CatchUp } from './catch-up.js';
import type { QueuedWrite } from './replay.js';
import type { Spool, SpoolContents, SpooledWrite } from './spool.js';

export interface ResilientStoreOptions {
  logger: Logger;
  clock: Clock;
  /** Events and honeypot hits held in memory while PostgreSQL is down (default 100,000); past it they are dropped and counted. */
  maxQueuedEvents?: number;
  /** Backoff between attempts to reach PostgreSQL again (defaults 100 ms to 2 s). */
  retryMinMs?: number;
  retryMaxMs?: number;
}

/**
 * The fleet store with PostgreSQL outages taken out of the daemon's way. It delegates to `inner` while
 * PostgreSQL answers. When a call fails because the server cannot be reached (not because a write was refused):
 * - writes are queued in order and stored, in that order, once it answers again (CatchUp retries with backoff);
 *   decisions, revocations, audit entries and known-good pairs also go to the spool on disk, so a restart
 *   during the outage replays them; events and honeypot hits wait in memory up to a bound, then are counted
 *   as dropped; fraud incidents and feed states wait in memory;
 * - `addDecision` answers at once with a provisional, negative id; `onReplayed` listeners learn the stored id;
 * - reads fail at once (SW_ERR_STORE_OFFLINE) instead of waiting on a connection attempt, so nothing the daemon does
 *   in order behind them (a ban) waits either; the provisional decisions are the exception, by `decision(id)`;
 * - the decision watch holds a resync back until the queue is stored, then resyncs from PostgreSQL, so a
 *   reconcile never lifts a ban this node made while offline.
 * Writes made while writes are queued are queued behind them, so order holds across the outage.
 */
export class ResilientStore implements Store {
  readonly watchDecisions?: Store['watchDecisions'];
  /** Fleet counters are never queued: counts sent late would land in the wrong window, so offline they fail at once. */
  readonly addFleetCounts?: Store['addFleetCounts'];
  readonly claimFleetFinding?: Store['claimFleetFinding'];
  readonly pruneFleetCounts?: Store['pruneFleetCounts'];
  private readonly catchUp: CatchUp;
  private nextId: number;
  /** Decisions made while offline and not yet stored, by provisional id. */
  private readonly provisional = new Map<number, Decision>();

  constructor(
    private readonly inner: Store,
    private readonly spool: Spool,
    contents: SpoolContents,
    private readonly options: ResilientStoreOptions,
  ) {
    this.nextId = Math.min(contents.lowestId, 0) - 1;
    this.catchUp = new CatchUp(inner, spool, contents.replayed, options, (id) => this.provisional.delete(id));
    for (const record of contents.pending) {
      const { seq, ...write } = record;
      if (write.op === 'decision') this.provisional.set(write.id, { ...write.decision, id: write.id });
      this.catchUp.enqueue({ kind: 'spooled', seq, write });
    }
    const { addFleetCounts, claimFleetFinding, pruneFleetCounts } = inner;
    if (addFleetCounts && claimFleetFinding && pruneFleetCounts) {
      this.addFleetCounts = (node, increments) => this.read(() => addFleetCounts.call(inner, node, increments));
      this.claimFleetFinding = (claim) => this.read(() => claimFleetFinding.call(inner, claim));
      this.pruneFleetCounts = (before) => this.read(() => pruneFleetCounts.call(inner, before));
    }
    const watch = inner.watchDecisions?.bind(inner);
    if (watch) {
      this.watchDecisions = (onChange, signal, onError) => watch(async (change: DecisionChange) => {
        if (change.type !== 'resync' || this.catchUp.idle) return onChange(change);
        // The resync was read before this node's queued decisions were stored: read it again once they are.
        if (!(await this.catchUp.settled(signal))) return;
        return onChange({ type: 'resync', active: await this.inner.activeBans(this.options.clock.now()) });
      }, signal, onError);
    }
  }

  /** Resolves true once the writes the spool held (the last run ended during an outage) are stored; false if `signal` aborts first. */
  replaySpool(signal: AbortSignal): Promise<boolean> {
    return this.catchUp.idle ? Promise.resolve(true) : this.catchUp.settled(signal);
  }

  /** Calls `listener(provisionalId, storedId)` as each decision made offline is stored. */
  onReplayed(listener: (provisionalId: number, id: number) => void): void {
    this.catchUp.listeners.push(listener);
  }

  /** Writes waiting for PostgreSQL, and events dropped since the start because too many waited. */
  backlog(): { queued: number; droppedEvents: number } {
    return { queued: this.catchUp.length, droppedEvents: this.catchUp.droppedEvents };
  }

  private async write<T>(direct: () => Promise<T>, queued: () => T): Promise<T> {
    if (this.catchUp.idle) {
      try {
        return await direct();
      } catch (error) {
        if (!isConnectionError(error)) throw error;
        this.catchUp.wentOffline(error);
      }
    }
    return queued();
  }

  private async read<T>(read: () => Promise<T>): Promise<T> {
    if (!this.catchUp.idle) throw this.offlineError();
    try {
      return await read();
    } catch (error) {
      if (!isConnectionError(error)) throw error;
      this.catchUp.wentOffline(error);
      throw this.offlineError(error);
    }
  }

  /** SW_ERR_STORE_OFFLINE: the outage is logged once here, so callers that poll need not log each failure. */
  private offlineError(cause?: unknown): Error {
    return swError('SW_ERR_STORE_OFFLINE', `PostgreSQL is unreachable; ${this.catchUp.length} writes wait to be stored when it is back`, cause);
  }

  private spooled(write: SpooledWrite): void {
    // A known-good pair comes with every registration: waiting on a disk flush for each would stall the daemon.
    this.catchUp.enqueue({ kind: 'spooled', seq: this.spool.append(write, write.op !== 'known-good'), write });
  }

  appendEvents(events: readonly SecurityEvent[], positions: readonly SourcePosition[] = []): Promise<number[]> {
    // Ids are unknown until stored; the daemon's writer does not use them.
    return this.write(() => this.inner.appendEvents(events, positions), () => (this.catchUp.enqueueEvents(events, positions), []));
  }

  addDecision(decision: NewDecision): Promise<Decision> {
    return this.write(() => this.inner.addDecision(decision), () => {
      const id = this.nextId--;
      this.spooled({ op: 'decision', id, decision });
      const provisional = { ...decision, id };
      this.provisional.set(id, provisional);
      this.options.logger.warn({ decision: id, target: decision.target }, 'fleet: PostgreSQL is down; decision spooled under a provisional id until it is back');
      return provisional;
    });
  }

  addDecisions(decisions: readonly NewDecision[]): Promise<Decision[]> {
    return this.write(() => this.inner.addDecisions(decisions), () => decisions.map((decision) => {
      const id = this.nextId--;
      this.spooled({ op: 'decision', id, decision });
      const provisional = { ...decision, id };
      this.provisional.set(id, provisional);
      return provisional;
    })).then((stored) => {
      if (stored.some((d) => d.id < 0)) this.options.logger.warn({ decisions: stored.length }, 'fleet: PostgreSQL is down; decisions spooled under provisional ids until it is back');
      return stored;
    });
  }

  revokeDecision(id: number, by: string, reason: string, at: number): Promise<Decision> {
    return this.write(() => this.inner.revokeDecision(id, by, reason, at), () => {
      // Only a decision made offline can be revoked offline: any other must be read first, and reads wait for PostgreSQL.
      const decision = this.provisional.get(id);
      if (!decision) throw this.offlineError();
      this.spooled({ op: 'revoke', id, by, reason, at });
      decision.revokedAt ??= at;
      decision.revokedBy ??= by;
      decision.revokeReason ??= reason;
      return { ...decision };
    });
  }

  audit(entry: AuditEntry): Promise<void> {
    return this.write(() => this.inner.audit(entry), () => this.spooled({ op: 'audit', entry }));
  }

  rememberSuccess(ip: string, account: string, at: number): Promise<void> {
    return this.write(() => this.inner.rememberSuccess(ip, account, at), () => this.spooled({ op: 'known-good', ip, account, at }));
  }

  addHoneypotRecords(records: HoneypotRecords): Promise<void> {
    return this.write(() => this.inner.addHoneypotRecords(records), () => this.catchUp.enqueueHoneypot(records));
  }

  saveIncident(incident: Incident): Promise<void> {
    return this.write(() => this.inner.saveIncident(incident), () => this.catchUp.enqueue({ kind: 'incident', incident }));
  }

  saveFeedState(state: FeedState): Promise<void> {
    return this.write(() => this.inner.saveFeedState(state), () => this.catchUp.enqueue({ kind: 'feed-state', state }));
  }

  async decision(id: number): Promise<Decision | undefined> {
    const provisional = this.provisional.get(id);
    return provisional ? { ...provisional } : this.read(() => this.inner.decision(id));
  }

  events(query: EventQuery): Promise<StoredEvent[]> { return this.read(() => this.inner.events(query)); }
  countEvents(query: EventQuery): Promise<Partial<Record<EventKind, number>>> { return this.read(() => this.inner.countEvents(query)); }
  activeBans(now: number): Promise<Decision[]> { return this.read(() => this.inner.activeBans(now)); }
  decisionsFor(target: { ip?: string; cidr?: string; account?: string }, limit?: number): Promise<Decision[]> { return this.read(() => this.inner.decisionsFor(target, limit)); }
  decisionsAfter(afterId: number, limit?: number): Promise<Decision[]> { return this.read(() => this.inner.decisionsAfter(afterId, limit)); }
  revokedSince(since: number): Promise<Decision[]> { return this.read(() => this.inner.revokedSince(since)); }
  countBans(target: string, since: number): Promise<number> { return this.read(() => this.inner.countBans(target, since)); }
  knownGood(query: { ip?: string; account?: string; since: number }): Promise<KnownGoodPair[]> { return this.read(() => this.inner.knownGood(query)); }
  auditFor(target: string, limit?: number): Promise<AuditEntry[]> { return this.read(() => this.inner.auditFor(target, limit)); }
  position(sourceId: string): Promise<SourcePosition | undefined> { return this.read(() => this.inner.position(sourceId)); }
  honeypotHits(query: HoneypotQuery): Promise<StoredHoneypotHit[]> { return this.read(() => this.inner.honeypotHits(query)); }
  honeypotTally(field: HoneypotTallyField, query: HoneypotQuery): Promise<HoneypotTally[]> { return this.read(() => this.inner.honeypotTally(field, query)); }
  honeypotSources(query: HoneypotQuery): Promise<HoneypotSource[]> { return this.read(() => this.inner.honeypotSources(query)); }
  honeypotAccounts(query: HoneypotQuery): Promise<HoneypotAccount[]> { return this.read(() => this.inner.honeypotAccounts(query)); }
  honeypotTotals(since: number): Promise<HoneypotTotals> { return this.read(() => this.inner.honeypotTotals(since)); }
  hotlist(query: { since?: number; number?: string; limit?: number }): Promise<HotlistEntry[]> { return this.read(() => this.inner.hotlist(query)); }
  incidents(query: { account?: string; since?: number; limit?: number }): Promise<Incident[]> { return this.read(() => this.inner.incidents(query)); }
  listDecisions(query: DecisionQuery): Promise<Decision[]> { return this.read(() => this.inner.listDecisions(query)); }
  countDecisions(since: number): Promise<Record<string, number>> { return this.read(() => this.inner.countDecisions(since)); }
  auditLog(query: { target?: string; since?: number; limit?: number }): Promise<StoredAuditEntry[]> { return this.read(() => this.inner.auditLog(query)); }
  eventStats(query: { since: number; until: number; bucketMs: number; top?: number }): Promise<EventStats> { return this.read(() => this.inner.eventStats(query)); }
  feedStates(): Promise<FeedState[]> { return this.read(() => this.inner.feedStates()); }
  // The shared allowlist is an operator's action: offline it fails at once and says so, like tokens.
  sharedAllow(): Promise<SharedAllowEntry[]> { return this.read(() => this.inner.sharedAllow()); }
  addSharedAllow(entry: SharedAllowEntry): Promise<void> { return this.read(() => this.inner.addSharedAllow(entry)); }
  removeSharedAllow(cidr: string): Promise<boolean> { return this.read(() => this.inner.removeSharedAllow(cidr)); }

  // Tokens and retention are not queued: a token or a prune that waited for PostgreSQL would surprise whoever asked.
  addToken(token: { name: string; role: Role; hash: string; createdAt: number; createdBy: string }): Promise<ApiToken> { return this.read(() => this.inner.addToken(token)); }
  tokenByHash(hash: string): Promise<ApiToken | undefined> { return this.read(() => this.inner.tokenByHash(hash)); }
  tokens(): Promise<ApiToken[]> { return this.read(() => this.inner.tokens()); }
  touchToken(id: number, at: number): Promise<void> { return this.read(() => this.inner.touchToken(id, at)); }
  revokeToken(id: number, at: number): Promise<ApiToken | undefined> { return this.read(() => this.inner.revokeToken(id, at)); }
  prune(now: number, retention: RetentionPolicy): Promise<number> { return this.read(() => this.inner.prune(now, retention)); }

  /** Stops retrying and closes PostgreSQL and the spool; what is still queued on disk is replayed at the next start. */
  async close(): Promise<void> {
    const { queued, droppedEvents } = this.backlog();
    this.catchUp.stop();
    if (queued > 0 || droppedEvents > 0) {
      this.options.logger.warn({ queued, spooled: this.catchUp.spooledCount, droppedEvents }, 'fleet: closing with writes not stored; the spooled ones are stored at the next start');
    }
    try {
      await this.inner.close();
    } finally {
      this.spool.close();
    }
  }
}
