import type { SecurityEvent } from '../../core/event.js';
import type { Incident } from '../../fraud/incidents.js';
import type { SourcePosition } from '../../sources/types.js';
import type { AuditEntry, FeedState, HoneypotRecords, NewDecision, Store } from '../types.js';
import type { SpooledWrite } from './spool.js';

/**
 * A write waiting for PostgreSQL, in the order it was made. `spooled` writes are on disk too (`seq` in the
 * spool); the others live only in memory: losing them to a restart costs history, never a decision.
 */
export type QueuedWrite =
  | { kind: 'spooled'; seq: number; write: SpooledWrite }
  | { kind: 'events'; events: readonly SecurityEvent[]; positions: readonly SourcePosition[] }
  | { kind: 'honeypot'; records: HoneypotRecords }
  | { kind: 'incident'; incident: Incident }
  | { kind: 'feed-state'; state: FeedState };

/** How far a dedup lookup reaches back among a target's decisions or audit entries. */
const LOOKUP_LIMIT = 1000;

/**
 * Stores one queued write; for a decision, returns its stored id. Decisions and audit entries are first looked
 * up: a write whose commit was acknowledged to nobody (the server died during COMMIT, or the daemon died before
 * the spool heard of it) is already there, and storing it again would show the fleet two bans. `ids` maps the
 * provisional ids of decisions replayed before, so a revocation or an audit entry names the stored decision.
 */
export async function replayWrite(store: Store, queued: QueuedWrite, ids: ReadonlyMap<number, number>): Promise<number | undefined> {
  switch (queued.kind) {
    case 'events':
      await store.appendEvents(queued.events, queued.positions);
      return undefined;
    case 'honeypot':
      return void (await store.addHoneypotRecords(queued.records));
    case 'incident':
      return void (await store.saveIncident(queued.incident));
    case 'feed-state':
      return void (await store.saveFeedState(queued.state));
    case 'spooled':
      return replaySpooled(store, queued.write, ids);
  }
}

async function replaySpooled(store: Store, write: SpooledWrite, ids: ReadonlyMap<number, number>): Promise<number | undefined> {
  switch (write.op) {
    case 'decision': {
      const existing = await storedDecision(store, write.decision);
      return existing ?? (await store.addDecision(write.decision)).id;
    }
    case 'revoke':
      // Revoking twice keeps the first revocation (Store contract), so a replay after a crash changes nothing.
      await store.revokeDecision(ids.get(write.id) ?? write.id, write.by, write.reason, write.at);
      return undefined;
    case 'audit': {
      const entry = withStoredIds(write.entry, ids);
      if (!(await auditStored(store, entry))) await store.audit(entry);
      return undefined;
    }
    case 'known-good':
      // An upsert: a replay after a crash counts one login twice at most, and moves nothing else.
      await store.rememberSuccess(write.ip, write.account, write.at);
      return undefined;
  }
}

/** The id of a stored decision identical to `d` (same node, time, target, rule and reason), if any. */
async function storedDecision(store: Store, d: NewDecision): Promise<number | undefined> {
  const target = d.targetType === 'account' ? { account: d.target } : d.target.includes('/') ? { cidr: d.target } : { ip: d.target };
  const candidates = await store.decisionsFor(target, LOOKUP_LIMIT);
  const same = candidates.find(
    (c) => c.target === d.target && c.at === d.at && c.action === d.action && c.origin === d.origin && c.rule === d.rule &&
      c.reason === d.reason && c.sensor === d.sensor && c.actor === d.actor,
  );
  return same?.id;
}

async function auditStored(store: Store, entry: AuditEntry): Promise<boolean> {
  const log = await store.auditLog({ target: entry.target, since: entry.at, limit: LOOKUP_LIMIT });
  return log.some((e) => e.at === entry.at && e.actor === entry.actor && e.action === entry.action && e.reason === entry.reason && e.detail === entry.detail);
}

/** `decision -3` in an audit detail becomes the id the decision was stored under. */
function withStoredIds(entry: AuditEntry, ids: ReadonlyMap<number, number>): AuditEntry {
  if (entry.detail === undefined) return entry;
  const detail = entry.detail.replace(/\bdecision (-\d+)\b/g, (text, id: string) => {
    const stored = ids.get(Number(id));
    return stored === undefined ? text : `decision ${stored}`;
  });
  return { ...entry, detail };
}
