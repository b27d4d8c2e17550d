import type { SecurityEvent } from '../core/event.js';
import { describeError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { SourcePosition } from '../sources/types.js';
import type { Store } from '../store/types.js';

/** Kinds not worth a row: every normal registration refresh produces them. */
const NOT_STORED = new Set(['challenge', 'request', 'response']);

/**
 * Buffers events and writes them in batches, each batch in one transaction with the source positions reached,
 * so a restart resumes exactly after what was stored. The buffer is bounded: under a flood beyond what the
 * store absorbs, events are dropped (and counted), positions are still saved, and detection is unaffected
 * because it ran before this point.
 */
export class EventWriter {
  private events: SecurityEvent[] = [];
  private positions = new Map<string, SourcePosition>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  dropped = 0;
  written = 0;

  constructor(
    private readonly store: Store,
    private readonly logger: Logger,
    private readonly options = { batch: 10_000, intervalMs: 250, maxBuffered: 200_000 },
  ) {}

  add(events: readonly SecurityEvent[], position?: SourcePosition): void {
    for (const event of events) {
      if (NOT_STORED.has(event.kind)) continue;
      if (this.events.length >= this.options.maxBuffered) this.dropped++;
      else this.events.push(event);
    }
    if (position) this.positions.set(position.sourceId, position);
    if (this.events.length >= this.options.batch) void this.flush();
    else if (!this.timer && (this.events.length > 0 || this.positions.size > 0)) {
      this.timer = setTimeout(() => void this.flush(), this.options.intervalMs);
    }
  }

  /** Writes what is buffered; concurrent calls queue behind each other. */
  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const events = this.events;
    const positions = [...this.positions.values()];
    if (events.length === 0 && positions.length === 0) return this.flushing;
    this.events = [];
    this.positions = new Map();
    this.flushing = this.flushing.then(async () => {
      try {
        await this.store.appendEvents(events, positions);
        this.written += events.length;
      } catch (error) {
        this.dropped += events.length;
        this.logger.error({ err: describeError(error), events: events.length }, 'could not store events');
      }
    });
    return this.flushing;
  }
}
