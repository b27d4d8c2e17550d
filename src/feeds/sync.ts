import type { ApibanFeedConfig, FeedConfig, ListFeedConfig } from '../config/schema.js';
import { describeError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { FeedSets } from '../enforcers/types.js';
import type { FeedState } from '../store/types.js';
import { splitAllowed, type AllowMatcher } from './allow.js';
import { ApibanClient, syncApiban } from './apiban.js';
import { scrub } from './http.js';
import { readListFeed } from './list.js';

/** What one sync of one feed needs from its manager. */
export interface SyncContext {
  /** Absent when the enforcer has no feed sets: the sync then only fetches and records. */
  sets: FeedSets | undefined;
  allow: AllowMatcher;
  /** Runs kernel work one call at a time (enforcers need not be re-entrant). */
  kernel: <T>(work: () => Promise<T>) => Promise<T>;
  logger: Logger;
  maxPages: number;
  requestTimeoutMs: number;
  /** APIBAN: this process loaded the feed from its start, so the enforcer's size counts every entry. */
  loadedInFull?: boolean;
  signal?: AbortSignal;
}

/** The result of one sync; the manager adds the times and decides when to try again. */
export interface SyncOutcome {
  cursor?: string;
  entries: number;
  overridden: number;
  /** Why the sync failed, safe to store and log (no key). Entries fetched before a failure are applied. */
  error?: string;
  /** The server asked for a pause (HTTP 429). */
  rateLimited?: { retryAfterMs?: number };
  /** APIBAN: the page limit ended the sync before "no new bans"; continue soon. */
  more: boolean;
  /** A full reload asked for was done (lists: always). */
  reloaded: boolean;
}

/**
 * One sync of one feed. `full` reads APIBAN from its start (a lost kernel set); lists are always read in full
 * and swapped in atomically. Never throws: failures come back as `error`.
 */
export async function syncFeed(feed: FeedConfig, previous: FeedState, full: boolean, context: SyncContext): Promise<SyncOutcome> {
  try {
    return feed.type === 'apiban' ? await syncApibanFeed(feed, previous, full, context) : await syncListFeed(feed, previous, context);
  } catch (error) {
    const secrets = feed.type === 'apiban' ? [feed.key] : [];
    return { ...carried(previous), error: scrub(describeError(error), secrets), more: false, reloaded: false };
  }
}

function carried(previous: FeedState): Pick<SyncOutcome, 'cursor' | 'entries' | 'overridden'> {
  return { ...(previous.cursor !== undefined ? { cursor: previous.cursor } : {}), entries: previous.entries, overridden: previous.overridden };
}

async function syncApibanFeed(feed: ApibanFeedConfig, previous: FeedState, full: boolean, context: SyncContext): Promise<SyncOutcome> {
  const client = new ApibanClient(feed, context.requestTimeoutMs);
  const fetched = await syncApiban(client, full ? undefined : previous.cursor, {
    maxPages: context.maxPages,
    ...(context.signal ? { signal: context.signal } : {}),
  });
  const { kept, overridden } = splitAllowed(fetched.entries, context.allow);
  const { sets } = context;
  // A lost set is healed by recreating it (an add alone would leave it flushed in the enforcer's eyes), and only
  // once the server answered, so an outage does not turn a damaged set into none.
  const reloaded = full && (fetched.pages > 0 || fetched.complete);
  if (sets && reloaded) await context.kernel(() => sets.remove(feed.id));
  // The cursor moves only after the kernel took the entries: a failed apply fetches them again next time.
  if (sets && kept.length > 0) await context.kernel(() => sets.apply({ feed: feed.id, mode: 'add', entries: kept, timeoutMs: feed.timeout }));
  if (fetched.garbage > 0) context.logger.warn({ feed: feed.id, dropped: fetched.garbage }, 'APIBAN served items that are not addresses; dropped');
  // Counts run since the last full load. The enforcer's size covers what this process loaded; after an
  // incremental start it does not know the entries of earlier runs, so the count adds up (expiry not counted).
  const base = full ? { entries: 0, overridden: 0 } : previous;
  const outcome: SyncOutcome = {
    ...(fetched.cursor !== undefined ? { cursor: fetched.cursor } : {}),
    entries: sets && (reloaded || context.loadedInFull === true) ? sets.size(feed.id) : base.entries + kept.length,
    overridden: base.overridden + overridden,
    more: !fetched.complete && fetched.failure === undefined,
    reloaded,
  };
  const failure = fetched.failure;
  if (!failure) return outcome;
  if (failure.kind === 'rate-limited') {
    return { ...outcome, error: 'rate limited by the server (HTTP 429)', rateLimited: failure.retryAfterMs === undefined ? {} : { retryAfterMs: failure.retryAfterMs } };
  }
  if (failure.kind === 'unauthorized') return { ...outcome, error: 'the server refused the key (HTTP 403)' };
  return { ...outcome, error: failure.message };
}

async function syncListFeed(feed: ListFeedConfig, previous: FeedState, context: SyncContext): Promise<SyncOutcome> {
  const list = await readListFeed(feed, { timeoutMs: context.requestTimeoutMs, ...(context.signal ? { signal: context.signal } : {}) });
  if (list.bad > 0) context.logger.warn({ feed: feed.id, bad: list.bad, lines: list.badLines }, 'feed lines that are not addresses or prefixes were skipped');
  // A mirror that answers 200 with an empty page would otherwise unblock the whole list; an operator's own
  // file may be emptied on purpose.
  if (list.entries.length === 0 && feed.url !== undefined && previous.entries > 0) {
    return { ...carried(previous), error: `the list came back empty; keeping the ${previous.entries} entries loaded before`, more: false, reloaded: false };
  }
  const { kept, overridden } = splitAllowed(list.entries, context.allow);
  const { sets } = context;
  if (sets) await context.kernel(() => sets.apply({ feed: feed.id, mode: 'replace', entries: kept }));
  return { entries: kept.length, overridden, more: false, reloaded: true };
}
