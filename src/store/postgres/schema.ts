import type pg from 'pg';
import { swError } from '../../core/errors.js';
import type { Queryable } from './db.js';

/**
 * Schema migrations, applied in order: step n brings a database from version n-1 to n, recorded as a row of
 * `schema_version`. Steps are append-only; a released step is never edited, a fix is a new step.
 *
 * Addresses are PostgreSQL `inet`/`cidr` values rather than the SQLite store's hex keys: the server compares
 * them natively (`<<=` for "inside", `&&` for "inside or containing"), keeps IPv4 and IPv6 apart by itself, and
 * indexes them. Events use a B-tree on (ip_net, at): the planner turns `ip_net <<= prefix` into a range scan of
 * it, and a B-tree is the cheapest index to keep up at a busy node's insert rate. Decisions need "which stored
 * prefixes contain this address", which a B-tree cannot answer, so they use a GiST index (inet_ops).
 *
 * Text ordering (ties by address, account, value) uses COLLATE "C" in the queries, so results match the SQLite
 * store byte for byte whatever locale the operator's database was created with. Structured values (policy
 * steps, ids, call facts, incidents, feed state) are `json`, not `jsonb`: json keeps the text as written and
 * accepts every escape, where jsonb refuses \u0000.
 */
export interface Migration {
  description: string;
  up(db: Queryable): Promise<void>;
}

const sql = (statements: string) => async (db: Queryable) => {
  await db.query(statements);
};

export const MIGRATIONS: readonly Migration[] = [
  {
    description: 'initial schema: events, decisions, known-good, audit, positions, honeypot, incidents, tokens, feeds',
    up: sql(`
      CREATE TABLE events (
        id bigserial PRIMARY KEY,
        at bigint NOT NULL,
        kind text NOT NULL,
        ip text,
        ip_net inet,              -- ip, canonical; null when ip is not an address
        port integer,
        transport text,
        account text,
        domain text,
        destination text,
        user_agent text,
        call_id text,
        server text NOT NULL,
        sensor text,
        evidence text NOT NULL,
        pattern text,
        reason text,
        tampered boolean NOT NULL DEFAULT false,
        candidates json,          -- addresses, only on tampered lines
        raw text NOT NULL,
        call json                 -- CallFacts, only on call events
      );
      CREATE INDEX events_ip_at ON events (ip_net, at);
      CREATE INDEX events_account_at ON events (account, at);
      CREATE INDEX events_at ON events (at);

      CREATE TABLE decisions (
        id bigserial PRIMARY KEY,
        at bigint NOT NULL,
        target text NOT NULL,
        target_type text NOT NULL,
        net cidr,                 -- an ip target as a network; null for accounts and unparsable targets
        action text NOT NULL,
        origin text NOT NULL,
        rule text,
        reason text NOT NULL,
        actor text,
        duration_ms bigint,
        expires_at bigint,
        level integer NOT NULL,
        evidence text NOT NULL,
        event_count integer NOT NULL,
        first_event_at bigint,
        last_event_at bigint,
        event_ids json,
        policy json NOT NULL,
        dry_run boolean NOT NULL,
        sensor text,
        revoked_at bigint,
        revoked_by text,
        revoke_reason text
      );
      CREATE INDEX decisions_target ON decisions (target, at);
      CREATE INDEX decisions_net ON decisions USING gist (net inet_ops);
      CREATE INDEX decisions_active ON decisions (expires_at) WHERE action = 'ban' AND NOT dry_run AND revoked_at IS NULL;
      CREATE INDEX decisions_revoked ON decisions (revoked_at) WHERE revoked_at IS NOT NULL;
      CREATE INDEX decisions_at ON decisions (at);
      CREATE INDEX decisions_rule ON decisions (rule, id);

      CREATE TABLE known_good (
        ip text NOT NULL,
        account text NOT NULL,
        first_seen bigint NOT NULL,
        last_seen bigint NOT NULL,
        count integer NOT NULL,
        PRIMARY KEY (ip, account)
      );
      CREATE INDEX known_good_account ON known_good (account, last_seen);
      CREATE INDEX known_good_last_seen ON known_good (last_seen);

      CREATE TABLE audit (
        id bigserial PRIMARY KEY,
        at bigint NOT NULL,
        actor text NOT NULL,
        action text NOT NULL,
        target text NOT NULL,
        reason text NOT NULL,
        detail text
      );
      CREATE INDEX audit_target_at ON audit (target, at);
      CREATE INDEX audit_at ON audit (at);

      CREATE TABLE positions (
        source_id text PRIMARY KEY,
        path text NOT NULL,
        dev bigint NOT NULL,
        ino bigint NOT NULL,
        byte_offset bigint NOT NULL,
        head text NOT NULL
      );

      CREATE TABLE honeypot_hits (
        id bigserial PRIMARY KEY,
        at bigint NOT NULL,
        ip text NOT NULL,
        ip_net inet NOT NULL,
        port integer NOT NULL,
        transport text NOT NULL,
        method text NOT NULL,
        user_agent text,
        username text,
        password text,
        to_user text,
        destination text,
        number text,
        outcome text NOT NULL,
        verified boolean NOT NULL,
        tool text,
        sensor text
      );
      CREATE INDEX honeypot_hits_at ON honeypot_hits (at);
      CREATE INDEX honeypot_hits_ip_at ON honeypot_hits (ip_net, at);

      CREATE TABLE honeypot_suppressed (
        minute bigint NOT NULL,
        ip text NOT NULL,
        count bigint NOT NULL,
        PRIMARY KEY (minute, ip)
      );

      CREATE TABLE hotlist (
        number text PRIMARY KEY,
        first_seen bigint NOT NULL,
        last_seen bigint NOT NULL,
        hits integer NOT NULL,
        sources integer NOT NULL,
        verified_hits integer NOT NULL
      );
      CREATE INDEX hotlist_last_seen ON hotlist (last_seen);

      -- One row per (number, source): what makes hotlist.sources a count of distinct addresses.
      CREATE TABLE hotlist_sources (
        number text NOT NULL,
        ip text NOT NULL,
        first_seen bigint NOT NULL,
        PRIMARY KEY (number, ip)
      );

      CREATE TABLE fraud_incidents (
        id text PRIMARY KEY,
        account text NOT NULL,
        opened_at bigint NOT NULL,
        updated_at bigint NOT NULL,
        severity text NOT NULL,
        body json NOT NULL        -- the whole incident
      );
      CREATE INDEX fraud_incidents_account ON fraud_incidents (account, updated_at);
      CREATE INDEX fraud_incidents_updated ON fraud_incidents (updated_at);

      CREATE TABLE api_tokens (
        id bigserial PRIMARY KEY,
        name text NOT NULL,
        role text NOT NULL,
        hash text NOT NULL UNIQUE,  -- SHA-256 hex of the secret; the secret itself is never stored
        created_at bigint NOT NULL,
        created_by text NOT NULL,
        last_used_at bigint,
        revoked_at bigint
      );
      CREATE UNIQUE INDEX api_tokens_live_name ON api_tokens (name) WHERE revoked_at IS NULL;

      CREATE TABLE feed_state (
        id text PRIMARY KEY,
        body json NOT NULL        -- the FeedState
      );
    `),
  },
  {
    // One row per node in fleet_counters: nodes never update the same row, so their flushes never wait on each other.
    description: 'fleet-wide rule counters: per-window counts per node, distinct values, and claims',
    up: sql(`
      CREATE TABLE fleet_counters (
        rule text NOT NULL,
        key text NOT NULL,
        window_start bigint NOT NULL,
        node text NOT NULL,
        count integer NOT NULL,
        verified integer NOT NULL,
        first_at bigint NOT NULL,
        last_at bigint NOT NULL,
        PRIMARY KEY (rule, key, window_start, node)
      );
      CREATE INDEX fleet_counters_window ON fleet_counters (window_start);

      CREATE TABLE fleet_distinct (
        rule text NOT NULL,
        key text NOT NULL,
        window_start bigint NOT NULL,
        value text NOT NULL,
        verified boolean NOT NULL,
        first_at bigint NOT NULL,
        PRIMARY KEY (rule, key, window_start, value)
      );
      CREATE INDEX fleet_distinct_window ON fleet_distinct (window_start);

      -- The node that decides on a (rule, key) in a window: the first to insert the row.
      CREATE TABLE fleet_claims (
        rule text NOT NULL,
        key text NOT NULL,
        window_start bigint NOT NULL,
        node text NOT NULL,
        at bigint NOT NULL,
        PRIMARY KEY (rule, key, window_start)
      );
      CREATE INDEX fleet_claims_window ON fleet_claims (window_start);
    `),
  },
  {
    description: 'the shared allowlist',
    up: sql(`
      CREATE TABLE shared_allow (
        cidr text PRIMARY KEY,
        reason text NOT NULL,
        actor text NOT NULL,
        at bigint NOT NULL
      );
    `),
  },
];

/**
 * One key for the whole fleet's schema changes. An advisory lock is held by the session, outside any
 * transaction, so two nodes starting at once queue up: the second finds the steps done and applies none.
 */
const MIGRATION_LOCK = 0x5357_6d69_6772; // "SWmigr"

export async function schemaVersion(db: Queryable): Promise<number> {
  const found = await db.query<{ version: number | null }>('SELECT max(version) AS version FROM schema_version');
  return found.rows[0]?.version ?? 0;
}

/**
 * Brings the database up to `migrations.length` on one connection that holds the migration lock. Each step
 * runs in its own transaction together with its `schema_version` row. A database newer than this code is
 * refused: old code would misread it.
 */
export async function migrate(client: pg.PoolClient, migrations: readonly Migration[] = MIGRATIONS): Promise<void> {
  const target = migrations.length;
  await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
  try {
    await client.query(`CREATE TABLE IF NOT EXISTS schema_version (
      version integer PRIMARY KEY,
      description text NOT NULL
    )`);
    let current = await schemaVersion(client);
    if (current > target) {
      throw swError('SW_ERR_STORE_MIGRATION', `store schema version ${current} is newer than version ${target} supported by this sipwarden; upgrade sipwarden`);
    }
    for (; current < target; current++) {
      const step = migrations[current] as Migration;
      try {
        await client.query('BEGIN');
        await step.up(client);
        await client.query('INSERT INTO schema_version (version, description) VALUES ($1, $2)', [current + 1, step.description]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw swError('SW_ERR_STORE_MIGRATION', `store migration ${current + 1} (${step.description}) failed at version ${current}`, error);
      }
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
  }
}
