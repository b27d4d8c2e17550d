import type { RetentionPolicy } from '../types.js';
import type { Database } from './db.js';

/** Rows per DELETE: each chunk is its own short statement, so a big prune never holds locks or bloats one transaction. */
const PRUNE_CHUNK = 5000;
/** Known-good pairs and hotlisted numbers unseen this long are dropped; far longer than any sensible `known-good.remember`. */
const KNOWN_GOOD_RETENTION_MS = 400 * 24 * 3600 * 1000;

/** A table with a count limit: the id span is two index probes, the exact count a scan taken only when needed. */
interface Counted {
  span: string;
  count: string;
  oldest: string;
}

const EVENTS: Counted = {
  span: 'SELECT min(id) AS lo, max(id) AS hi FROM events',
  count: 'SELECT count(*) AS n FROM events',
  oldest: 'DELETE FROM events WHERE id IN (SELECT id FROM events ORDER BY at, id LIMIT $1)',
};
const HITS: Counted = {
  span: 'SELECT min(id) AS lo, max(id) AS hi FROM honeypot_hits',
  count: 'SELECT count(*) AS n FROM honeypot_hits',
  oldest: 'DELETE FROM honeypot_hits WHERE id IN (SELECT id FROM honeypot_hits ORDER BY at, id LIMIT $1)',
};

/** Each takes (cutoff, chunk) and removes at most `chunk` rows older than the cutoff. */
const EVENTS_BY_AGE = 'DELETE FROM events WHERE id IN (SELECT id FROM events WHERE at < $1 ORDER BY at LIMIT $2)';
const OTHERS_BY_AGE = [
  'DELETE FROM honeypot_hits WHERE id IN (SELECT id FROM honeypot_hits WHERE at < $1 ORDER BY at LIMIT $2)',
  'DELETE FROM honeypot_suppressed WHERE (minute, ip) IN (SELECT minute, ip FROM honeypot_suppressed WHERE minute < $1 LIMIT $2)',
  'DELETE FROM fraud_incidents WHERE id IN (SELECT id FROM fraud_incidents WHERE updated_at < $1 LIMIT $2)',
];
const BY_LAST_SEEN = [
  'DELETE FROM known_good WHERE (ip, account) IN (SELECT ip, account FROM known_good WHERE last_seen < $1 LIMIT $2)',
  `DELETE FROM hotlist_sources WHERE (number, ip) IN
     (SELECT s.number, s.ip FROM hotlist_sources s JOIN hotlist h USING (number) WHERE h.last_seen < $1 LIMIT $2)`,
  'DELETE FROM hotlist WHERE number IN (SELECT number FROM hotlist WHERE last_seen < $1 LIMIT $2)',
];

/**
 * Retention: events and honeypot hits older than the age limit, then the oldest beyond the count limit;
 * suppressed counts and incidents by age; known-good pairs and hotlist numbers after a year and more unseen.
 * Returns how many events were removed.
 */
export function pruneTables(db: Database, now: number, retention: RetentionPolicy): Promise<number> {
  return db.run('prune', async () => {
    const cutoff = now - retention.maxAgeMs;
    let removed = await deleteChunks(db, EVENTS_BY_AGE, cutoff);
    removed += await pruneOldest(db, EVENTS, retention.maxEvents);
    for (const sql of OTHERS_BY_AGE) await deleteChunks(db, sql, cutoff);
    await pruneOldest(db, HITS, retention.maxEvents);
    for (const sql of BY_LAST_SEEN) await deleteChunks(db, sql, now - KNOWN_GOOD_RETENTION_MS);
    return removed;
  });
}

async function pruneOldest(db: Database, table: Counted, max: number): Promise<number> {
  const [span] = (await db.query<{ lo: number | null; hi: number | null }>(table.span)).rows;
  if (!span || span.lo === null || span.hi === null || span.hi - span.lo + 1 <= max) return 0;
  const total = (await db.query<{ n: number }>(table.count)).rows[0]?.n ?? 0;
  let removed = 0;
  for (let excess = total - max; excess > 0; ) {
    const chunk = Math.min(excess, PRUNE_CHUNK);
    const changes = (await db.query(table.oldest, [chunk])).rowCount ?? 0;
    removed += changes;
    excess -= chunk;
    if (changes < chunk) break;
  }
  return removed;
}

async function deleteChunks(db: Database, sql: string, cutoff: number): Promise<number> {
  let removed = 0;
  for (;;) {
    const changes = (await db.query(sql, [cutoff, PRUNE_CHUNK])).rowCount ?? 0;
    removed += changes;
    if (changes < PRUNE_CHUNK) return removed;
  }
}
