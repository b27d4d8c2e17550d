import type { FleetIncrement, FleetTotal } from '../types.js';
import { text, type Database } from './db.js';

/**
 * Fleet-wide rule counters (see src/fleet/ for the windows and the estimate). Counting rules add to one row
 * per (rule, key, window, node); distinct rules insert each value once per (rule, key, window), whoever saw it.
 * Rows go in sorted, so two nodes inserting overlapping values take their locks in the same order and never
 * deadlock.
 */

const ADD_COUNTS = `
  INSERT INTO fleet_counters AS c (rule, key, window_start, node, count, verified, first_at, last_at)
  SELECT t.rule, t.key, t.window_start, $1::text, t.count, t.verified, t.first_at, t.last_at
  FROM unnest($2::text[], $3::text[], $4::bigint[], $5::integer[], $6::integer[], $7::bigint[], $8::bigint[])
    AS t(rule, key, window_start, count, verified, first_at, last_at)
  ON CONFLICT (rule, key, window_start, node) DO UPDATE SET
    count = c.count + excluded.count, verified = c.verified + excluded.verified,
    first_at = least(c.first_at, excluded.first_at), last_at = greatest(c.last_at, excluded.last_at)`;

const ADD_VALUES = `
  INSERT INTO fleet_distinct AS d (rule, key, window_start, value, verified, first_at)
  SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::boolean[], $6::bigint[])
  ON CONFLICT (rule, key, window_start, value) DO UPDATE SET verified = true, first_at = least(d.first_at, excluded.first_at)
    WHERE excluded.verified AND NOT d.verified`;

/** Totals of the asked window and the one before, for each (rule, key) asked. */
const COUNT_TOTALS = `
  SELECT c.rule, c.key, c.window_start, sum(c.count)::bigint AS count, sum(c.verified)::bigint AS verified, min(c.first_at) AS first_at
  FROM fleet_counters c
  JOIN unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[]) AS t(rule, key, current, previous)
    ON c.rule = t.rule AND c.key = t.key AND c.window_start IN (t.current, t.previous)
  GROUP BY c.rule, c.key, c.window_start`;

/** As COUNT_TOTALS for distinct rules; a value seen in both windows belongs to the later one only. */
const DISTINCT_TOTALS = `
  SELECT rule, key, window_start, count(*) AS count, count(*) FILTER (WHERE verified) AS verified, min(first_at) AS first_at
  FROM (
    SELECT d.rule, d.key, max(d.window_start) AS window_start, bool_or(d.verified) AS verified, min(d.first_at) AS first_at
    FROM fleet_distinct d
    JOIN unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[]) AS t(rule, key, current, previous)
      ON d.rule = t.rule AND d.key = t.key AND d.window_start IN (t.current, t.previous)
    GROUP BY d.rule, d.key, d.value
  ) v
  GROUP BY rule, key, window_start`;

/**
 * A claim is refused while one for the window before stands. Two nodes claiming adjacent windows at the same
 * moment can both win; the second ban then meets the first in each node's active bans and is dropped there.
 */
const CLAIM = `
  INSERT INTO fleet_claims (rule, key, window_start, node, at)
  SELECT $1::text, $2::text, $3::bigint, $5::text, $6::bigint
  WHERE NOT EXISTS (SELECT 1 FROM fleet_claims WHERE rule = $1::text AND key = $2::text AND window_start = $3::bigint - $4::bigint)
  ON CONFLICT (rule, key, window_start) DO NOTHING
  RETURNING node`;

const PRUNE = [
  'DELETE FROM fleet_counters WHERE window_start < $1',
  'DELETE FROM fleet_distinct WHERE window_start < $1',
  'DELETE FROM fleet_claims WHERE window_start < $1',
];

interface TotalRow {
  rule: string;
  key: string;
  window_start: number;
  count: number;
  verified: number;
  first_at: number;
}

const byRow = (a: FleetIncrement, b: FleetIncrement): number =>
  a.rule < b.rule ? -1 : a.rule > b.rule ? 1 : a.key < b.key ? -1 : a.key > b.key ? 1 : a.windowStart - b.windowStart;

/**
 * One entry per (rule, key): its latest window. A flush that straddles a window boundary holds two windows of a
 * key; asking for both would count the earlier one twice (as one entry's window and the other's previous).
 */
function latestWindows(sorted: readonly FleetIncrement[]): FleetIncrement[] {
  const latest: FleetIncrement[] = [];
  for (const increment of sorted) {
    const last = latest[latest.length - 1];
    if (last !== undefined && last.rule === increment.rule && last.key === increment.key) latest[latest.length - 1] = increment;
    else latest.push(increment);
  }
  return latest;
}

export class FleetTables {
  constructor(private readonly db: Database) {}

  async add(node: string, increments: readonly FleetIncrement[]): Promise<FleetTotal[]> {
    if (increments.length === 0) return [];
    return this.db.run('addFleetCounts', async (db) => {
      const sorted = [...increments].sort(byRow);
      const counts = sorted.filter((i) => i.values === undefined);
      const distinct = sorted.filter((i) => i.values !== undefined);
      // Two statements, each committed on its own before the totals are read: see Store.addFleetCounts.
      if (counts.length > 0) {
        await db.query(ADD_COUNTS, [
          text(node), counts.map((i) => text(i.rule)), counts.map((i) => text(i.key)), counts.map((i) => i.windowStart),
          counts.map((i) => i.count), counts.map((i) => i.verified), counts.map((i) => i.firstAt), counts.map((i) => i.lastAt),
        ]);
      }
      const values = distinct.flatMap((i) =>
        [...(i.values ?? [])].sort((a, b) => (a.value < b.value ? -1 : a.value > b.value ? 1 : 0)).map((v) => ({ i, v })),
      );
      if (values.length > 0) {
        await db.query(ADD_VALUES, [
          values.map(({ i }) => text(i.rule)), values.map(({ i }) => text(i.key)), values.map(({ i }) => i.windowStart),
          values.map(({ v }) => text(v.value)), values.map(({ v }) => v.verified), values.map(({ i }) => i.firstAt),
        ]);
      }
      const totals: FleetTotal[] = [];
      for (const [sql, added] of [[COUNT_TOTALS, counts], [DISTINCT_TOTALS, distinct]] as const) {
        const asked = latestWindows(added);
        if (asked.length === 0) continue;
        const found = await db.query<TotalRow>(sql, [
          asked.map((i) => text(i.rule)), asked.map((i) => text(i.key)), asked.map((i) => i.windowStart), asked.map((i) => i.windowStart - i.windowMs),
        ]);
        for (const row of found.rows) {
          totals.push({ rule: row.rule, key: row.key, windowStart: row.window_start, count: row.count, verified: row.verified, firstAt: row.first_at });
        }
      }
      return totals;
    });
  }

  claim(claim: { rule: string; key: string; windowStart: number; windowMs: number; node: string; at: number }): Promise<boolean> {
    return this.db.run('claimFleetFinding', async (db) => {
      const won = await db.query(CLAIM, [text(claim.rule), text(claim.key), claim.windowStart, claim.windowMs, text(claim.node), claim.at]);
      return won.rowCount === 1;
    });
  }

  prune(before: number): Promise<number> {
    return this.db.run('pruneFleetCounts', async (db) => {
      let removed = 0;
      for (const sql of PRUNE) removed += (await db.query(sql, [before])).rowCount ?? 0;
      return removed;
    });
  }
}
