import { describeError } from '../../core/errors.js';
import type { SecurityEvent } from '../../core/event.js';
import type { SourcePosition } from '../../sources/types.js';
import type { HoneypotRecords, Store } from '../types.js';
import { isConnectionError } from './connection-error.js';
import { replayWrite, type QueuedWrite } from './replay.js';
import type { Spool } from './spool.js';
import type { ResilientStoreOptions } from './store.js';

const DEFAULT_MAX_EVENTS = 100_000;
const DEFAULT_RETRY_MIN_MS = 100;
const DEFAULT_RETRY_MAX_MS = 2000;

/**
 * The queue of writes waiting for PostgreSQL, and the loop that stores them in order: one write at a time,
 * retried with backoff while the server cannot be reached. A write the server refuses for what it is (a
 * constraint, a missing decision) is logged and dropped, so one bad write never blocks the rest forever.
 * "Offline" starts at the first connection failure and ends once the queue is empty and the server answered.
 */
export class CatchUp {
  readonly listeners: ((provisionalId: number, id: number) => void)[] = [];
  droppedEvents = 0;
  private readonly queue: QueuedWrite[] = [];
  private offlineSince: number | undefined;
  private queuedEvents = 0;
  private storedCount = 0;
  private retryMs: number;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private stopped = false;
  private readonly waiters = new Set<() => void>();

  constructor(
    private readonly store: Store,
    private readonly spool: Spool,
    /** Provisional id -> stored id of the decisions stored since the queue was last empty. */
    private readonly replayed: Map<number, number>,
    private readonly options: ResilientStoreOptions,
    private readonly onStored: (provisionalId: number) => void,
  ) {
    this.retryMs = options.retryMinMs ?? DEFAULT_RETRY_MIN_MS;
  }

  /** Nothing waits and PostgreSQL answered last: calls go straight through. */
  get idle(): boolean {
    return this.queue.length === 0 && this.offlineSince === undefined;
  }

  get length(): number {
    return this.queue.length;
  }

  get spooledCount(): number {
    return this.queue.filter((q) => q.kind === 'spooled').length;
  }

  wentOffline(error: unknown): void {
    if (this.offlineSince !== undefined || this.stopped) return;
    this.offlineSince = this.options.clock.now();
    this.options.logger.warn(
      { err: describeError(error), spool: this.spool.path },
      'fleet: PostgreSQL is unreachable; enforcing locally and queueing writes (decisions to the spool) until it is back',
    );
    this.schedule(this.retryMs);
  }

  enqueue(write: QueuedWrite): void {
    this.queue.push(write);
    // Known offline: the backoff timer is already set. Otherwise (a spool found at start) try at once.
    if (this.offlineSince === undefined) this.schedule(0);
  }

  enqueueEvents(events: readonly SecurityEvent[], positions: readonly SourcePosition[]): void {
    if (this.admit(events.length)) this.enqueue({ kind: 'events', events, positions });
    else if (positions.length > 0) this.enqueue({ kind: 'events', events: [], positions });
  }

  enqueueHoneypot(records: HoneypotRecords): void {
    if (this.admit(records.hits.length)) this.enqueue({ kind: 'honeypot', records });
  }

  /** Resolves true once nothing waits, false when `signal` aborts or the store closes first. */
  settled(signal: AbortSignal): Promise<boolean> {
    if (this.idle) return Promise.resolve(true);
    if (signal.aborted || this.stopped) return Promise.resolve(false);
    return new Promise((resolve) => {
      const done = (): void => {
        this.waiters.delete(done);
        signal.removeEventListener('abort', done);
        resolve(this.idle);
      };
      this.waiters.add(done);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    for (const waiter of [...this.waiters]) waiter();
  }

  /** Events wait in memory up to a bound: past it, history is lost (and counted), never a decision. */
  private admit(count: number): boolean {
    if (this.queuedEvents + count <= (this.options.maxQueuedEvents ?? DEFAULT_MAX_EVENTS)) {
      this.queuedEvents += count;
      return true;
    }
    if (this.droppedEvents === 0) this.options.logger.warn({ queued: this.queuedEvents }, 'fleet: too many events wait for PostgreSQL; further events are dropped (counted)');
    this.droppedEvents += count;
    return false;
  }

  private schedule(delayMs: number): void {
    if (this.timer !== undefined || this.running || this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.drain();
    }, delayMs);
    this.timer.unref();
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      for (let answered = false; ; answered = true) {
        const next = this.queue[0];
        let id: number | undefined;
        try {
          // An empty queue, offline and no write stored yet, means a read failed: a cheap read tells whether the server is back.
          if (next === undefined && !answered) await this.store.decisionsAfter(Number.MAX_SAFE_INTEGER, 1);
          else if (next !== undefined) id = await replayWrite(this.store, next, this.replayed);
        } catch (error) {
          if (this.stopped) return;
          if (isConnectionError(error)) {
            this.wentOffline(error);
            this.retryMs = Math.min(this.retryMs * 2, this.options.retryMaxMs ?? DEFAULT_RETRY_MAX_MS);
            this.running = false;
            this.schedule(this.retryMs);
            return;
          }
          this.options.logger.error({ err: describeError(error), write: next === undefined ? 'probe' : describeWrite(next) }, 'fleet: PostgreSQL refused a queued write; it is dropped');
        }
        if (next === undefined || this.stopped) break;
        this.queue.shift();
        this.stored(next, id);
      }
      if (!this.stopped) this.caughtUp();
    } finally {
      this.running = false;
    }
  }

  private stored(write: QueuedWrite, id: number | undefined): void {
    this.storedCount++;
    if (write.kind === 'events') this.queuedEvents -= write.events.length;
    if (write.kind === 'honeypot') this.queuedEvents -= write.records.hits.length;
    if (write.kind !== 'spooled') return;
    this.onSpool(() => this.spool.done(write.seq, id));
    if (write.write.op !== 'decision' || id === undefined) return;
    const provisionalId = write.write.id;
    this.replayed.set(provisionalId, id);
    this.onStored(provisionalId);
    for (const listener of this.listeners) listener(provisionalId, id);
  }

  private caughtUp(): void {
    this.onSpool(() => this.spool.clear());
    // Every write that named a provisional id is stored: the mapping has done its work.
    this.replayed.clear();
    const offlineMs = this.offlineSince === undefined ? 0 : this.options.clock.now() - this.offlineSince;
    if (this.storedCount > 0 || this.offlineSince !== undefined) {
      this.options.logger.info({ stored: this.storedCount, droppedEvents: this.droppedEvents, offlineMs }, 'fleet: PostgreSQL is back; queued writes stored in order');
    }
    this.offlineSince = undefined;
    this.storedCount = 0;
    this.retryMs = this.options.retryMinMs ?? DEFAULT_RETRY_MIN_MS;
    for (const waiter of [...this.waiters]) waiter();
  }

  /**
   * Marking the spool after PostgreSQL has the write: a disk fault here must not stop the catch-up, and costs
   * only a replay at the next start that finds the writes already stored.
   */
  private onSpool(action: () => void): void {
    try {
      action();
    } catch (error) {
      this.options.logger.error({ err: describeError(error) }, 'fleet: cannot mark the spool; its writes will be looked up again at the next start');
    }
  }
}

/** What a log line may say about a write: its kind and target, never its content. */
function describeWrite(write: QueuedWrite): string {
  if (write.kind !== 'spooled') return write.kind;
  const w = write.write;
  return w.op === 'decision' ? `decision ${w.id} (${w.decision.target})` : w.op === 'revoke' ? `revoke ${w.id}` : w.op === 'audit' ? `audit ${w.entry.action} ${w.entry.target}` : `known-good ${w.ip}`;
}
