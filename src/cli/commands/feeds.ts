import type { Config, FeedConfig } from '../../config/schema.js';
import { systemClock } from '../../core/clock.js';
import { humanDuration } from '../../core/duration.js';
import { swError } from '../../core/errors.js';
import { createLogger } from '../../core/logger.js';
import type { FeedState } from '../../store/types.js';
import { openStore, requireConfig } from '../context.js';
import { count, table } from '../format.js';

export interface FeedsStatusOptions {
  config?: string;
  json?: boolean;
}

/** One line of `feeds status`: the stored state and what the config says of the feed (never its key or URL). */
interface FeedRow {
  id: string;
  type: FeedConfig['type'] | 'removed';
  interval?: number;
  state: FeedState | undefined;
}

function rows(config: Config, states: readonly FeedState[]): FeedRow[] {
  const byId = new Map(states.map((s) => [s.id, s]));
  const configured: FeedRow[] = config.feeds.map((f) => ({ id: f.id, type: f.type, interval: f.interval, state: byId.get(f.id) }));
  // A feed taken out of the config keeps its state (and its kernel set until the daemon removes it): show it.
  const removed: FeedRow[] = states.filter((s) => !config.feeds.some((f) => f.id === s.id)).map((s) => ({ id: s.id, type: 'removed', state: s }));
  return [...configured, ...removed];
}

const ago = (at: number | undefined, now: number): string => (at === undefined ? 'never' : `${humanDuration(now - at)} ago`);

function print(list: readonly FeedRow[], now: number): void {
  if (list.length === 0) {
    process.stdout.write('No feeds configured (feeds: in the config).\n');
    return;
  }
  const lines = list.map(({ id, type, state }) => [
    id, type, ago(state?.syncedAt, now), count(state?.entries ?? 0), count(state?.overridden ?? 0),
    state?.error === undefined ? '-' : `${state.error} (${ago(state.errorAt, now)})`,
  ]);
  process.stdout.write(`${table([['FEED', 'TYPE', 'LAST SYNC', 'ENTRIES', 'OVERRIDDEN', 'LAST ERROR'], ...lines])}\n`);
}

function json(list: readonly FeedRow[]): string {
  return JSON.stringify(list.map(({ id, type, interval, state }) => ({ id, type, ...(interval !== undefined ? { interval } : {}), entries: 0, overridden: 0, ...state })));
}

/** `sipwarden feeds status`: each feed's last sync, entry count, allowlist overrides and last error, from the store. */
export async function feedsStatusCommand(options: FeedsStatusOptions): Promise<void> {
  const config = await requireConfig(options.config);
  const store = await openStore(config);
  try {
    const list = rows(config, await store.feedStates());
    if (options.json) process.stdout.write(`${json(list)}\n`);
    else print(list, systemClock.now());
  } finally {
    await store.close();
  }
}

export interface FeedsSyncOptions {
  config?: string;
  feed?: string;
  full?: boolean;
  json?: boolean;
}

/**
 * `sipwarden feeds sync`: one sync now, in this process, into the same kernel sets the daemon uses (the
 * enforcer's feed sets), so the stored APIBAN cursor never runs ahead of what the kernel holds. Exit 1 when a
 * feed failed.
 */
export async function feedsSyncCommand(options: FeedsSyncOptions): Promise<void> {
  const config = await requireConfig(options.config);
  if (options.feed !== undefined && !config.feeds.some((f) => f.id === options.feed)) {
    throw swError('SW_ERR_ARGUMENT', `no feed "${options.feed}" in the config (feeds: ${config.feeds.map((f) => f.id).join(', ') || 'none'})`);
  }
  const { AddressList } = await import('../../policy/address-list.js');
  const { createEnforcer } = await import('../../enforcers/index.js');
  const { FeedManager } = await import('../../feeds/manager.js');
  const logger = createLogger('warn', config.node, process.stderr);
  const allow = new AddressList('allow', config.allow, (p) => logger.warn({ list: p.source, line: p.line }, p.message));
  const store = await openStore(config);
  const enforcer = await createEnforcer(config, { allow: allow.entries(), onWarning: (message) => logger.warn(message) });
  try {
    if (enforcer.feeds) await enforcer.init();
    const manager = new FeedManager({ feeds: config.feeds, store, enforcer, allow, logger, clock: systemClock });
    const states = await manager.syncNow(options.feed, { full: options.full ?? false });
    const synced = rows(config, states).filter((r) => r.state !== undefined);
    if (options.json) process.stdout.write(`${json(synced)}\n`);
    else print(synced, systemClock.now());
    if (!enforcer.feeds) process.stderr.write(`The ${enforcer.name} backend has no feed sets: the feeds were fetched and recorded, not enforced.\n`);
    else if (enforcer.name === 'dry-run') process.stderr.write('Dry run: the entries were checked, not loaded into the kernel.\n');
    if (states.some((s) => s.error !== undefined)) process.exitCode = 1;
  } finally {
    await enforcer.close();
    await store.close();
    logger.flush();
  }
}
