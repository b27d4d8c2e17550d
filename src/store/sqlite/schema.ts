import type Database from 'better-sqlite3';
import { swError } from '../../core/errors.js';

/**
 * Schema migrations, applied in order. The schema version is `PRAGMA user_version`: step n brings a database
 * from version n-1 to n. Steps are append-only; a released step is never edited, a fix is a new step.
 */
export interface Migration {
  description: string;
  up(db: Database.Database): void;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    description: 'initial schema',
    up(db) {
      db.exec(`
        CREATE TABLE events (
          id INTEGER PRIMARY KEY,
          at INTEGER NOT NULL,
          kind TEXT NOT NULL,
          ip TEXT,
          ip_key TEXT,            -- keys.ts: family digit + fixed-width hex, so a prefix is a key range
          port INTEGER,
          transport TEXT,
          account TEXT,
          domain TEXT,
          destination TEXT,
          user_agent TEXT,
          call_id TEXT,
          server TEXT NOT NULL,
          sensor TEXT,
          evidence TEXT NOT NULL,
          pattern TEXT,
          reason TEXT,
          tampered INTEGER NOT NULL DEFAULT 0,
          candidates TEXT,        -- JSON array of addresses, only on tampered lines
          raw TEXT NOT NULL
        );
        CREATE INDEX events_ip_at ON events (ip_key, at);
        CREATE INDEX events_account_at ON events (account, at);
        CREATE INDEX events_at ON events (at);

        CREATE TABLE decisions (
          id INTEGER PRIMARY KEY,
          at INTEGER NOT NULL,
          target TEXT NOT NULL,
          target_type TEXT NOT NULL,
          net_start TEXT,         -- first and last address key of an ip target; null for accounts
          net_end TEXT,
          action TEXT NOT NULL,
          origin TEXT NOT NULL,
          rule TEXT,
          reason TEXT NOT NULL,
          actor TEXT,
          duration_ms INTEGER,
          expires_at INTEGER,
          level INTEGER NOT NULL,
          evidence TEXT NOT NULL,
          event_count INTEGER NOT NULL,
          first_event_at INTEGER,
          last_event_at INTEGER,
          event_ids TEXT,         -- JSON array
          policy TEXT NOT NULL,   -- JSON array of PolicyStep
          dry_run INTEGER NOT NULL,
          sensor TEXT,
          revoked_at INTEGER,
          revoked_by TEXT,
          revoke_reason TEXT
        );
        CREATE INDEX decisions_target ON decisions (target, at);
        CREATE INDEX decisions_net ON decisions (net_start, net_end);
        CREATE INDEX decisions_action_expires ON decisions (action, expires_at);
        CREATE INDEX decisions_revoked ON decisions (revoked_at) WHERE revoked_at IS NOT NULL;

        CREATE TABLE known_good (
          ip TEXT NOT NULL,
          account TEXT NOT NULL,
          first_seen INTEGER NOT NULL,
          last_seen INTEGER NOT NULL,
          count INTEGER NOT NULL,
          PRIMARY KEY (ip, account)
        ) WITHOUT ROWID;
        CREATE INDEX known_good_account ON known_good (account, last_seen);
        CREATE INDEX known_good_last_seen ON known_good (last_seen);

        CREATE TABLE audit (
          id INTEGER PRIMARY KEY,
          at INTEGER NOT NULL,
          actor TEXT NOT NULL,
          action TEXT NOT NULL,
          target TEXT NOT NULL,
          reason TEXT NOT NULL,
          detail TEXT
        );
        CREATE INDEX audit_target_at ON audit (target, at);

        CREATE TABLE positions (
          source_id TEXT PRIMARY KEY,
          path TEXT NOT NULL,
          dev INTEGER NOT NULL,
          ino INTEGER NOT NULL,
          offset INTEGER NOT NULL,
          head TEXT NOT NULL
        );
      `);
    },
  },
  {
    description: 'honeypot hits, suppressed counts and the hotlist of dialled numbers',
    up(db) {
      db.exec(`
        CREATE TABLE honeypot_hits (
          id INTEGER PRIMARY KEY,
          at INTEGER NOT NULL,
          ip TEXT NOT NULL,
          ip_key TEXT NOT NULL,
          port INTEGER NOT NULL,
          transport TEXT NOT NULL,
          method TEXT NOT NULL,
          user_agent TEXT,
          username TEXT,
          password TEXT,
          to_user TEXT,
          destination TEXT,
          number TEXT,
          outcome TEXT NOT NULL,
          verified INTEGER NOT NULL,
          tool TEXT,
          sensor TEXT
        );
        CREATE INDEX honeypot_hits_at ON honeypot_hits (at);
        CREATE INDEX honeypot_hits_ip_at ON honeypot_hits (ip_key, at);

        CREATE TABLE honeypot_suppressed (
          minute INTEGER NOT NULL,
          ip TEXT NOT NULL,
          count INTEGER NOT NULL,
          PRIMARY KEY (minute, ip)
        ) WITHOUT ROWID;

        CREATE TABLE hotlist (
          number TEXT PRIMARY KEY,
          first_seen INTEGER NOT NULL,
          last_seen INTEGER NOT NULL,
          hits INTEGER NOT NULL,
          sources INTEGER NOT NULL,
          verified_hits INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX hotlist_last_seen ON hotlist (last_seen);

        -- One row per (number, source): what makes hotlist.sources a count of distinct addresses.
        CREATE TABLE hotlist_sources (
          number TEXT NOT NULL,
          ip TEXT NOT NULL,
          first_seen INTEGER NOT NULL,
          PRIMARY KEY (number, ip)
        ) WITHOUT ROWID;
      `);
    },
  },
  {
    description: 'call facts on call events',
    up(db) {
      db.exec(`ALTER TABLE events ADD COLUMN call TEXT; -- JSON CallFacts, only on call events`);
    },
  },
  {
    description: 'fraud incidents',
    up(db) {
      db.exec(`
        CREATE TABLE fraud_incidents (
          id TEXT PRIMARY KEY,
          account TEXT NOT NULL,
          opened_at INTEGER NOT NULL,
          updated_at INTEGER NOT NULL,
          severity TEXT NOT NULL,
          body TEXT NOT NULL      -- the whole incident, JSON
        );
        CREATE INDEX fraud_incidents_account ON fraud_incidents (account, updated_at);
        CREATE INDEX fraud_incidents_updated ON fraud_incidents (updated_at);
      `);
    },
  },
  {
    description: 'API tokens; indexes for the decision list and the audit trail',
    up(db) {
      db.exec(`
        CREATE TABLE api_tokens (
          id INTEGER PRIMARY KEY,
          name TEXT NOT NULL,
          role TEXT NOT NULL,
          hash TEXT NOT NULL UNIQUE,   -- SHA-256 hex of the secret; the secret itself is never stored
          created_at INTEGER NOT NULL,
          created_by TEXT NOT NULL,
          last_used_at INTEGER,
          revoked_at INTEGER
        );
        CREATE UNIQUE INDEX api_tokens_live_name ON api_tokens (name) WHERE revoked_at IS NULL;
        CREATE INDEX decisions_at ON decisions (at);
        CREATE INDEX decisions_rule ON decisions (rule, id);
        CREATE INDEX audit_at ON audit (at);
      `);
    },
  },
  {
    description: 'intelligence feed state',
    up(db) {
      db.exec(`
        CREATE TABLE feed_state (
          id TEXT PRIMARY KEY,
          body TEXT NOT NULL      -- the FeedState, JSON
        ) WITHOUT ROWID;
      `);
    },
  },
  {
    description: 'the shared allowlist',
    up(db) {
      db.exec(`
        CREATE TABLE shared_allow (
          cidr TEXT PRIMARY KEY,
          reason TEXT NOT NULL,
          actor TEXT NOT NULL,
          at INTEGER NOT NULL
        ) WITHOUT ROWID;
      `);
    },
  },
];

export function schemaVersion(db: Database.Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/**
 * Brings the database up to `migrations.length`. Each step runs in its own IMMEDIATE transaction together with
 * the version bump, and the version is re-read inside it, so the daemon and the CLI opening an old file at the
 * same moment apply each step once. A database newer than this code is refused: old code would misread it.
 */
export function migrate(db: Database.Database, migrations: readonly Migration[] = MIGRATIONS): void {
  const target = migrations.length;
  const step = db.transaction(() => {
    const current = schemaVersion(db);
    if (current >= target) return false;
    (migrations[current] as Migration).up(db);
    db.pragma(`user_version = ${current + 1}`);
    return true;
  });
  checkNotNewer(db, target);
  for (;;) {
    let advanced: boolean;
    try {
      advanced = step.immediate();
    } catch (error) {
      const version = schemaVersion(db);
      const failed = migrations[version]?.description ?? 'unknown';
      throw swError('SW_ERR_STORE_MIGRATION', `store migration ${version + 1} (${failed}) failed at version ${version}`, error);
    }
    if (!advanced) break;
  }
  checkNotNewer(db, target);
}

/** Throws unless the database is exactly at `target` (used for read-only opens, which cannot migrate). */
export function requireVersion(db: Database.Database, target: number = MIGRATIONS.length): void {
  checkNotNewer(db, target);
  const found = schemaVersion(db);
  if (found < target) {
    throw swError(
      'SW_ERR_STORE_MIGRATION',
      `store schema version ${found} is older than version ${target} of this sipwarden; open it read-write once (start the daemon) to upgrade`,
    );
  }
}

function checkNotNewer(db: Database.Database, target: number): void {
  const found = schemaVersion(db);
  if (found > target) {
    throw swError(
      'SW_ERR_STORE_MIGRATION',
      `store schema version ${found} is newer than version ${target} supported by this sipwarden; upgrade sipwarden`,
    );
  }
}
