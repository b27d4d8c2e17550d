import { describeError } from '../../core/errors.js';
import type { Store } from '../types.js';
import { isConnectionError } from './connection-error.js';
import { Spool } from './spool.js';
import { ResilientStore, type ResilientStoreOptions } from './store.js';

export { isConnectionError } from './connection-error.js';
export { ResilientStore, type ResilientStoreOptions } from './store.js';

export interface OpenResilientStoreOptions extends ResilientStoreOptions {
  /** The spool file (config `store.spool`). */
  spoolPath: string;
  /** Opens the fleet store itself (PostgreSQL); it throws a connection error while the server is down. */
  open: () => Promise<Store>;
  /** How long the start waits for the spool's writes to be stored before it goes on (default 30 s). */
  replayTimeoutMs?: number;
}

const START_RETRY_MAX_MS = 5000;

/**
 * Opens the spool, then the fleet store, and stores what the spool held before it returns, so the daemon's start
 * (active bans, escalation history) sees the decisions made during the last outage under their stored ids.
 * While PostgreSQL cannot be reached it retries with backoff and logs each attempt: the kernel keeps the bans
 * it has meanwhile. Any other failure (a refused login, a migration) is thrown.
 */
export async function openResilientStore(options: OpenResilientStoreOptions): Promise<ResilientStore> {
  const { spool, contents } = Spool.open(options.spoolPath);
  let inner: Store | undefined;
  for (let waitMs = options.retryMinMs ?? 100; inner === undefined; waitMs = Math.min(waitMs * 2, START_RETRY_MAX_MS)) {
    try {
      inner = await options.open();
    } catch (error) {
      if (!isConnectionError(error)) {
        spool.close();
        throw error;
      }
      options.logger.warn({ err: describeError(error), spooled: contents.pending.length, retryMs: waitMs }, 'fleet: PostgreSQL is unreachable at start; retrying');
      await new Promise((resolve) => setTimeout(resolve, waitMs));
    }
  }
  const store = new ResilientStore(inner, spool, contents, options);
  if (contents.pending.length > 0) {
    options.logger.info({ spooled: contents.pending.length, spool: options.spoolPath }, 'fleet: storing the writes spooled during the last outage');
    await store.replaySpool(AbortSignal.timeout(options.replayTimeoutMs ?? 30_000));
  }
  return store;
}
