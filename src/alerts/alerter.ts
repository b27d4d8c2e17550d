import { setTimeout as sleep } from 'node:timers/promises';
import type { Clock } from '../core/clock.js';
import { describeError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { AlertChannel } from './channel.js';
import type { AlertsConfig } from './config.js';
import { digestAlert } from './digest.js';
import { EmailChannel } from './email.js';
import { BAN_KINDS, type Alert, type AlertKind } from './types.js';
import { WebhookChannel } from './webhook.js';
import { RateWindows, type HeldBatch } from './window.js';

export interface AlerterDeps {
  logger: Logger;
  clock: Clock;
  /** Told what became of each alert on each channel (metrics): sent, failed, held for a digest, or sent in one. */
  onOutcome?: (kind: AlertKind, channel: string, outcome: 'sent' | 'failed' | 'rate-limited' | 'digested') => void;
}

export interface AlerterStats {
  /** Messages delivered, per channel (`email`, `webhook[0]`, ...). */
  sent: Record<string, number>;
  /** Messages given up after every retry, per channel. */
  failed: Record<string, number>;
  /** Alerts held back now, waiting for their kind's digest. */
  held: number;
  /** Digests made since start. */
  digests: number;
}

/**
 * Takes alerts from the daemon and delivers them to every configured channel, rate-limited per kind (window.ts).
 *
 * Contract: `send` never throws and never waits; delivery happens in the background. A failed delivery is
 * retried `delivery.retries` times with doubling backoff, then logged without secrets and counted in `failed`.
 * Time comes only from the clock; a timer (unref'd, it never keeps the process alive) ends the windows, and
 * `flush()` does the same at once, which is how tests with a ManualClock and shutdown drive it.
 */
export class Alerter {
  private readonly channels: AlertChannel[];
  private readonly windows: RateWindows;
  private readonly kinds: ReadonlySet<AlertKind>;
  private readonly pending = new Set<Promise<void>>();
  private readonly sent: Record<string, number> = {};
  private readonly failed: Record<string, number> = {};
  private digests = 0;
  private timer: NodeJS.Timeout | undefined;
  private timerAt: number | undefined;
  private closed = false;

  constructor(private readonly config: AlertsConfig, private readonly deps: AlerterDeps) {
    const timeout = config.delivery.timeout;
    this.channels = [
      ...(config.email ? [new EmailChannel(config.email, timeout)] : []),
      ...config.webhooks.map((webhook, i) => new WebhookChannel(webhook, i, timeout)),
    ];
    for (const channel of this.channels) {
      this.sent[channel.name] = 0;
      this.failed[channel.name] = 0;
    }
    this.kinds = new Set(config.kinds);
    const { immediate, window, perKind } = config.rateLimit;
    this.windows = new RateWindows((kind) => ({
      immediate: perKind[kind]?.immediate ?? immediate,
      windowMs: perKind[kind]?.window ?? window,
    }));
  }

  /** Queues an alert; kinds not in `alerts.kinds` are dropped. Never throws, never blocks. */
  send(alert: Alert): void {
    if (this.closed || !this.kinds.has(alert.kind)) return;
    try {
      const now = this.deps.clock.now();
      this.dispatchDigests(this.windows.closeDue(now));
      if (this.windows.admit(alert, now) === 'send') this.dispatch(this.withLink(alert));
      else for (const channel of this.channels) this.deps.onOutcome?.(alert.kind, channel.name, 'rate-limited');
      this.arm();
    } catch (error) {
      this.deps.logger.error({ kind: alert.kind, error: describeError(error) }, 'alert dropped');
    }
  }

  /** Sends the digests of windows that have ended by the clock, and waits until every delivery has settled. */
  async flush(): Promise<void> {
    if (!this.closed) {
      this.dispatchDigests(this.windows.closeDue(this.deps.clock.now()));
      this.arm();
    }
    await this.settle();
  }

  /** Sends what is held as digests now, waits for the deliveries, and closes the channels. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    this.dispatchDigests(this.windows.closeAll(this.deps.clock.now()));
    await this.settle();
    await Promise.all(this.channels.map((channel) => channel.close().catch(() => undefined)));
  }

  stats(): AlerterStats {
    return { sent: { ...this.sent }, failed: { ...this.failed }, held: this.windows.held(), digests: this.digests };
  }

  private dispatchDigests(batches: HeldBatch[]): void {
    for (const batch of batches) {
      this.digests += 1;
      this.dispatch(this.withLink(digestAlert(batch)));
    }
  }

  private dispatch(alert: Alert): void {
    for (const channel of this.channels) {
      const delivery = this.deliver(channel, alert);
      this.pending.add(delivery);
      void delivery.finally(() => this.pending.delete(delivery));
    }
  }

  /** Resolves when delivered or given up; never rejects. */
  private async deliver(channel: AlertChannel, alert: Alert): Promise<void> {
    const { retries, backoff } = this.config.delivery;
    for (let attempt = 0; ; attempt++) {
      try {
        await channel.deliver(alert);
        this.sent[channel.name] = (this.sent[channel.name] ?? 0) + 1;
        this.deps.onOutcome?.(alert.kind, channel.name, alert.digest ? 'digested' : 'sent');
        return;
      } catch (error) {
        const log = { channel: channel.name, kind: alert.kind, attempt: attempt + 1, error: failureText(error) };
        if (attempt >= retries) {
          this.failed[channel.name] = (this.failed[channel.name] ?? 0) + 1;
          this.deps.onOutcome?.(alert.kind, channel.name, 'failed');
          this.deps.logger.warn(log, 'alert not delivered; giving up');
          return;
        }
        this.deps.logger.debug(log, 'alert not delivered; retrying');
        // A ref'd wait: close() waits for retries, and their total is bounded (retries x doubling backoff).
        await sleep(backoff * 2 ** attempt);
      }
    }
  }

  private async settle(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  /** Links to the console page that explains the target; a digest links to the decisions (bans) or the dashboard. */
  private withLink(alert: Alert): Alert {
    const base = this.config.consoleUrl;
    if (base === undefined || alert.link !== undefined) return alert;
    if (alert.digest) return { ...alert, link: BAN_KINDS.has(alert.kind) ? `${base}/#/decisions` : `${base}/` };
    if (alert.target !== undefined) return { ...alert, link: `${base}/#/explain/${encodeURIComponent(alert.target)}` };
    return alert;
  }

  /** One timer for the earliest window end; re-armed as windows open and close. */
  private arm(): void {
    const next = this.closed ? undefined : this.windows.nextEnd();
    if (next === this.timerAt) return;
    clearTimeout(this.timer);
    this.timerAt = next;
    if (next === undefined) return;
    this.timer = setTimeout(() => this.onWindowEnd(), Math.max(next - this.deps.clock.now(), 10)).unref();
  }

  private onWindowEnd(): void {
    this.timerAt = undefined;
    try {
      this.dispatchDigests(this.windows.closeDue(this.deps.clock.now()));
    } catch (error) {
      this.deps.logger.error({ error: describeError(error) }, 'alert digest failed');
    }
    this.arm();
  }
}

/** The error of one attempt, with the reason fetch hides in its cause (ECONNREFUSED, bad port, a timeout). */
function failureText(error: unknown): string {
  const cause = error instanceof Error ? (error.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
  const why = typeof cause?.code === 'string' ? cause.code : typeof cause?.message === 'string' ? cause.message : undefined;
  return why === undefined ? describeError(error) : `${describeError(error)} (${why})`;
}
