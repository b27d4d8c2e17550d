import pg from 'pg';
import { systemClock, type Clock } from '../../core/clock.js';
import { isSipwardenError, swError } from '../../core/errors.js';
import { Database, TYPES } from './db.js';
import { MIGRATIONS, migrate, type Migration } from './schema.js';
import { PostgresStore } from './store.js';

export { PostgresStore } from './store.js';
export { DECISIONS_CHANNEL, type DecisionChange } from './watch.js';

export interface PostgresStoreOptions {
  /** Connections in the pool (default 4: the daemon's writer, its readers, the API). */
  poolSize?: number;
  /** How long a connection attempt may take before the store gives up (default 10 s). */
  connectTimeoutMs?: number;
  /** The default `now` of decision lists that do not pass one. */
  clock?: Clock;
  /** Tests pass their own list to exercise upgrades. */
  migrations?: readonly Migration[];
}

/**
 * The URL without its password, for messages and logs: `postgres://sipwarden@db1:5432/sipwarden`.
 * Throws SW_ERR_STORE, without echoing the text, when it is not a postgres:// URL.
 */
export function redactPostgresUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw swError('SW_ERR_STORE', 'store.postgres is not a URL; expected postgres://user:password@host:port/database');
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw swError('SW_ERR_STORE', `store.postgres has the scheme ${parsed.protocol}; expected postgres://user:password@host:port/database`);
  }
  parsed.password = '';
  parsed.search = '';
  return parsed.toString();
}

/**
 * Connects to PostgreSQL at `url` and brings the schema up to date; the database must exist. Throws
 * SW_ERR_STORE when the server cannot be reached or refuses the login, SW_ERR_STORE_MIGRATION when a step
 * fails or the schema is newer than this code. Messages name the URL without its password.
 */
export async function openPostgresStore(url: string, options: PostgresStoreOptions = {}): Promise<PostgresStore> {
  const label = redactPostgresUrl(url);
  const db = new Database({
    connectionString: url,
    max: options.poolSize ?? 4,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
    // A server that vanishes without closing the connection (a partition) is noticed by the kernel's probes.
    keepAlive: true,
    application_name: 'sipwarden',
    types: TYPES,
  });
  const pool = db.pool;
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (error) {
    await pool.end();
    const detail = error instanceof Error ? error.message : String(error);
    throw swError('SW_ERR_STORE', `cannot connect to PostgreSQL at ${label}: ${detail}`, error);
  }
  try {
    await migrate(client, options.migrations ?? MIGRATIONS);
  } catch (error) {
    client.release(true);
    await pool.end();
    if (isSipwardenError(error)) throw error;
    const detail = error instanceof Error ? error.message : String(error);
    throw swError('SW_ERR_STORE', `cannot prepare the store at ${label}: ${detail}`, error);
  }
  client.release();
  return new PostgresStore(db, options.clock ?? systemClock);
}
