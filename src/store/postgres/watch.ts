import pg from 'pg';
import { sleep } from '../../core/sleep.js';
import type { Clock } from '../../core/clock.js';
import type { Decision } from '../types.js';
import { storeError, type Queryable } from './db.js';

/** Other nodes LISTEN on this channel; the payload is the decision id. Sent at commit, never for a rolled-back one. */
export const DECISIONS_CHANNEL = 'sipwarden_decisions';

/** Called inside the transaction that adds or revokes decision `id`: PostgreSQL delivers it at commit. */
export async function notifyDecision(tx: Queryable, id: number): Promise<void> {
  await tx.query('SELECT pg_notify($1, $2)', [DECISIONS_CHANNEL, String(id)]);
}

/**
 * What `watchDecisions` reports:
 * - `changed`: a decision was added or revoked (`revokedAt` set), by any node or CLI, this process included;
 * - `resync`: the watch connection was (re)established; notifications sent while it was down are lost, so
 *   `active` is every ban in force now and the receiver reconciles against it (adds what is missing, lifts
 *   what is not in it). The first report of every watch is a resync.
 */
export type DecisionChange = { type: 'changed'; decision: Decision } | { type: 'resync'; active: Decision[] };

export interface WatchDeps {
  /** A new, unconnected client for the dedicated LISTEN session (a pooled connection would be handed to others). */
  client(): pg.Client;
  /** The decisions with these ids that exist, in any order. */
  decisions(ids: readonly number[]): Promise<Decision[]>;
  activeBans(now: number): Promise<Decision[]>;
  clock: Clock;
}

const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 5000;


/**
 * Runs until `signal` aborts: LISTENs on one dedicated connection, loads each notified decision and hands it to
 * `onChange`, in the order the notifications arrive. A lost connection (server restart, network) is retried
 * with backoff from 100 ms to 5 s and followed by a resync; `onError` hears of each loss (SW_ERR_STORE, the
 * URL's password never in it). `onChange` is awaited, one report at a time; what it throws goes to `onError`.
 */
export async function watchDecisions(
  deps: WatchDeps,
  onChange: (change: DecisionChange) => void | Promise<void>,
  signal: AbortSignal,
  onError: (error: Error) => void = () => undefined,
): Promise<void> {
  let retryMs = RETRY_MIN_MS;
  const aborted = new Promise<undefined>((resolve) => signal.addEventListener('abort', () => resolve(undefined), { once: true }));
  while (!signal.aborted) {
    const client = deps.client();
    let failed!: (error: unknown) => void;
    const lost = new Promise<unknown>((resolve) => (failed = resolve));
    client.on('error', failed);
    client.on('end', () => failed(new Error('the connection ended')));
    let queue = Promise.resolve();
    let resynced = false;
    // Reports go out one at a time, in arrival order. A decision that cannot be loaded (the pool lost the server
    // too) counts as a lost connection: the reconnect's resync then covers it, so no change is ever skipped.
    const report = (load: () => Promise<DecisionChange[]>): void => {
      queue = queue.then(async () => {
        let changes: DecisionChange[];
        try {
          changes = await load();
        } catch (error) {
          failed(error);
          return;
        }
        for (const change of changes) {
          if (signal.aborted) return;
          try {
            await onChange(change);
          } catch (error) {
            onError(error instanceof Error ? error : new Error(String(error)));
          }
        }
      });
    };
    // Notifications that arrive while a load is under way wait for the next one, which loads them all with one
    // query: a burst of 3,000 bans from another node costs a few queries, not 3,000 round trips.
    let pending: number[] = [];
    client.on('notification', (message) => {
      const id = Number(message.payload);
      if (message.channel !== DECISIONS_CHANNEL || !Number.isSafeInteger(id)) return;
      pending.push(id);
      if (pending.length > 1) return;
      report(async () => {
        const ids = [...new Set(pending)];
        pending = [];
        const byId = new Map((await deps.decisions(ids)).map((d) => [d.id, d]));
        return ids.flatMap((i) => {
          const decision = byId.get(i);
          return decision ? [{ type: 'changed' as const, decision }] : [];
        });
      });
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${DECISIONS_CHANNEL}`);
      // Listening first, then reading: a decision made in between is both notified and in the resync, never neither.
      report(async () => {
        const active = await deps.activeBans(deps.clock.now());
        resynced = true;
        return [{ type: 'resync', active }];
      });
    } catch (error) {
      failed(error);
    }
    const error = await Promise.race([lost, aborted]);
    if (error !== undefined && !signal.aborted) onError(storeError('watchDecisions', error));
    // Loads still under way finish (or fail) first, so reports never overlap those of the next connection.
    await queue;
    await client.end().catch(() => undefined);
    if (signal.aborted) return;
    // A connection that stayed up long enough to resync was healthy: the next loss starts the backoff afresh.
    retryMs = resynced ? RETRY_MIN_MS : Math.min(retryMs * 2, RETRY_MAX_MS);
    await sleep(retryMs, signal);
  }
}
