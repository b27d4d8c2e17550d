import type { Clock } from '../../core/clock.js';
import { describeError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { Decision, Store } from '../../store/types.js';
import { ApiError } from '../errors.js';
import { route, type Route } from '../context.js';
import { emptyQuery } from '../schemas.js';

type Listener = (event: 'decision' | 'revoke', decision: Decision) => void;

const POLL_MS = 500;
const KEEPALIVE_MS = 15_000;
const MAX_STREAMS = 64;
/**
 * A revoke is stamped with the time its writer read before storing it, which can fall just before the mark of
 * a poll that ran meanwhile (or come from another node's clock); each poll looks back this far, and ids already
 * sent are skipped.
 */
const REVOKE_LOOKBACK_MS = 5_000;

/**
 * New and lifted decisions, read from the store: whoever wrote them (the daemon, the CLI, another node, this
 * API), the stream sees them. It polls only while someone listens.
 */
export class DecisionWatch {
  private readonly listeners = new Set<Listener>();
  private timer: NodeJS.Timeout | undefined;
  private cursor = -1;
  private revokedSince = 0;
  /** When the first listener came: revokes from before it are not news. */
  private watchingSince = 0;
  /** Revokes sent in the look-back window: id -> revokedAt. */
  private readonly sentRevokes = new Map<number, number>();

  constructor(
    private readonly store: Store,
    private readonly logger: Logger,
    private readonly clock: Clock,
  ) {}

  get size(): number {
    return this.listeners.size;
  }

  async subscribe(listener: Listener): Promise<() => void> {
    if (this.listeners.size === 0) {
      this.cursor = (await this.store.listDecisions({ limit: 1 }))[0]?.id ?? 0;
      this.revokedSince = this.watchingSince = this.clock.now();
      this.sentRevokes.clear();
      this.timer = setInterval(() => void this.poll(), POLL_MS);
      this.timer.unref();
    }
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.stop();
    };
  }

  private async poll(): Promise<void> {
    try {
      for (const d of await this.store.decisionsAfter(this.cursor, 1000)) {
        this.cursor = Math.max(this.cursor, d.id);
        this.emit('decision', d);
      }
      const since = this.revokedSince;
      this.revokedSince = this.clock.now();
      for (const d of await this.store.revokedSince(Math.max(this.watchingSince, since - REVOKE_LOOKBACK_MS))) {
        if (this.sentRevokes.has(d.id)) continue;
        this.sentRevokes.set(d.id, d.revokedAt!);
        this.emit('revoke', d);
      }
      for (const [id, at] of this.sentRevokes) if (at < since - 2 * REVOKE_LOOKBACK_MS) this.sentRevokes.delete(id);
    } catch (error) {
      this.logger.warn({ err: describeError(error) }, 'decision stream: store read failed');
    }
  }

  private emit(event: 'decision' | 'revoke', d: Decision): void {
    for (const listener of this.listeners) listener(event, d);
  }

  private stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  close(): void {
    this.listeners.clear();
    this.stop();
  }
}

/** `GET /api/v1/stream`: server-sent events, one per new or lifted decision. */
export function streamRoutes(watch: DecisionWatch | undefined): Route[] {
  return [
    route({
      method: 'GET', url: '/api/v1/stream', role: 'viewer', tag: 'decisions', query: emptyQuery, raw: true,
      summary: 'Server-sent events: `decision` for each new decision, `revoke` for each lifted ban (data: the decision JSON)',
      async handle(_input, { reply, request }) {
        if (!watch) throw new ApiError(404, 'not-found', 'no decision stream here');
        if (watch.size >= MAX_STREAMS) throw new ApiError(429, 'rate-limited', `at most ${MAX_STREAMS} streams at once`);
        reply.hijack();
        const res = reply.raw;
        res.writeHead(200, {
          'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive',
          'x-content-type-options': 'nosniff', 'x-accel-buffering': 'no',
        });
        res.write(': sipwarden decision stream\n\n');
        const unsubscribe = await watch.subscribe((event, decision) => {
          res.write(`event: ${event}\nid: ${decision.id}\ndata: ${JSON.stringify(decision)}\n\n`);
        });
        const keepalive = setInterval(() => res.write(': keepalive\n\n'), KEEPALIVE_MS);
        keepalive.unref();
        request.raw.on('close', () => {
          clearInterval(keepalive);
          unsubscribe();
        });
      },
    }),
  ];
}
