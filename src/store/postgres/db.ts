import pg from 'pg';
import { isSipwardenError, swError } from '../../core/errors.js';

/** What runs SQL: the pool, or one client inside a transaction. */
export interface Queryable {
  query<T extends pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<pg.QueryResult<T>>;
}

/** Every stored time, id and count fits in a double; bigint (int8) as a JS string would leak into every caller. */
const INT8_OID = 20;
export const TYPES: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
};

/** Bound parameters as `$n` placeholders, for queries whose filters are optional. */
export class Params {
  readonly values: unknown[] = [];
  /** Adds a value and returns its placeholder, with a cast when given (`$3::inet`). */
  add(value: unknown, cast?: string): string {
    this.values.push(value);
    return cast === undefined ? `$${this.values.length}` : `$${this.values.length}::${cast}`;
  }
}

/**
 * PostgreSQL rejects the NUL character in text. Attackers control much of what is stored (raw SIP, User-Agent,
 * user names), and one NUL must not fail a whole batch of events, so it is stored as U+FFFD.
 */
export function text(value: string): string;
export function text(value: string | undefined): string | null;
export function text(value: string | undefined): string | null {
  if (value === undefined) return null;
  return value.includes('\0') ? value.replaceAll('\0', '\uFFFD') : value;
}

/** Wraps a driver error as SW_ERR_STORE naming the operation; the message never holds values or credentials. */
export function storeError(operation: string, error: unknown): Error {
  if (isSipwardenError(error)) return error;
  const detail = error instanceof Error ? error.message : String(error);
  return swError('SW_ERR_STORE', `store ${operation} failed: ${detail}`, error);
}

/** The pool with error wrapping and transactions. */
export class Database implements Queryable {
  readonly pool: pg.Pool;

  constructor(private readonly config: pg.PoolConfig) {
    this.pool = new pg.Pool(config);
    // An idle connection that the server drops (restart, failover) is reported here; without a listener the
    // process would die. The next query on the pool opens a new connection, or fails and reports the outage.
    this.pool.on('error', () => undefined);
  }

  /** A connection outside the pool, for a session of its own (LISTEN). */
  client(): pg.Client {
    return new pg.Client(this.config);
  }

  async query<T extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<pg.QueryResult<T>> {
    return this.pool.query<T>(sql, params);
  }

  /** Runs `work` and wraps what it throws. */
  async run<T>(operation: string, work: (db: Queryable) => Promise<T>): Promise<T> {
    try {
      return await work(this);
    } catch (error) {
      throw storeError(operation, error);
    }
  }

  /** Runs `work` in one transaction on one connection: all of it is committed, or none. */
  async transaction<T>(operation: string, work: (client: Queryable) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw storeError(operation, error);
    }
    let broken: Error | undefined;
    // A checked-out client has none of the pool's listeners: a connection lost while it is out (the server
    // killed mid-transaction) would be an unhandled 'error' event and end the process. The failing statement
    // reports the loss; this keeps the client out of the pool.
    const lost = (error: Error): void => {
      broken = error;
    };
    client.on('error', lost);
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      try {
        await client.query('ROLLBACK');
      } catch (rollbackError) {
        // The connection itself failed; it must not go back into the pool.
        broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
      }
      throw storeError(operation, error);
    } finally {
      client.removeListener('error', lost);
      client.release(broken);
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
