import { SEVERITIES, type Alert, type AlertKind, type AlertSeverity } from './types.js';

/**
 * The per-kind rate limit, without I/O or timers: the Alerter brings the time and the delivery.
 *
 * The first alert of a kind opens a window. The first `immediate` alerts in it go out at once; the rest are held
 * and come out as one batch (a digest) when the window ends. A window that held alerts is followed at once by a
 * window with no immediate allowance, so a flood that lasts an hour gives a few mails and one digest per window;
 * a window that ends with nothing held closes, and the next alert of the kind goes out at once again.
 *
 * Memory is bounded whatever the flood: per kind, counts plus at most DIGEST_TARGETS targets and SAMPLES alerts.
 */

export const DIGEST_TARGETS = 50;
const SAMPLES = 5;

export interface KindLimit {
  immediate: number;
  windowMs: number;
}

export interface HeldBatch {
  kind: AlertKind;
  since: number;
  until: number;
  /** How many alerts were held. */
  count: number;
  severity: AlertSeverity;
  targets: { target: string; count: number }[];
  otherAlerts: number;
  /** The first few held alerts, whole. */
  samples: Alert[];
}

interface Window {
  startedAt: number;
  endsAt: number;
  sent: number;
  held: number;
  severity: AlertSeverity;
  targets: Map<string, number>;
  otherAlerts: number;
  samples: Alert[];
}

export class RateWindows {
  private readonly windows = new Map<AlertKind, Window>();

  constructor(private readonly limitOf: (kind: AlertKind) => KindLimit) {}

  /** `send`: deliver it now; `held`: counted into the kind's next digest. */
  admit(alert: Alert, now: number): 'send' | 'held' {
    const limit = this.limitOf(alert.kind);
    let window = this.windows.get(alert.kind);
    if (window === undefined) {
      window = this.open(now, limit.windowMs, 0);
      this.windows.set(alert.kind, window);
    }
    if (window.sent < limit.immediate) {
      window.sent += 1;
      return 'send';
    }
    window.held += 1;
    if (SEVERITIES.indexOf(alert.severity) > SEVERITIES.indexOf(window.severity)) window.severity = alert.severity;
    if (window.samples.length < SAMPLES) window.samples.push(alert);
    const target = alert.target;
    if (target !== undefined && (window.targets.has(target) || window.targets.size < DIGEST_TARGETS)) {
      window.targets.set(target, (window.targets.get(target) ?? 0) + 1);
    } else {
      window.otherAlerts += 1;
    }
    return 'held';
  }

  /** Ends every window whose time is up; returns the batches of those that held alerts. */
  closeDue(now: number): HeldBatch[] {
    return this.close(now, (window) => window.endsAt <= now);
  }

  /** Ends every window now (shutdown): nothing held is lost. */
  closeAll(now: number): HeldBatch[] {
    return this.close(now, () => true);
  }

  /** When the earliest open window ends, if any is open. */
  nextEnd(): number | undefined {
    let next: number | undefined;
    for (const window of this.windows.values()) if (next === undefined || window.endsAt < next) next = window.endsAt;
    return next;
  }

  held(): number {
    let held = 0;
    for (const window of this.windows.values()) held += window.held;
    return held;
  }

  private close(now: number, ended: (window: Window) => boolean): HeldBatch[] {
    const batches: HeldBatch[] = [];
    for (const [kind, window] of this.windows) {
      if (!ended(window)) continue;
      if (window.held === 0) {
        this.windows.delete(kind);
        continue;
      }
      batches.push({
        kind, since: window.startedAt, until: now, count: window.held, severity: window.severity,
        targets: [...window.targets].map(([target, count]) => ({ target, count })),
        otherAlerts: window.otherAlerts, samples: window.samples,
      });
      const limit = this.limitOf(kind);
      this.windows.set(kind, this.open(now, limit.windowMs, limit.immediate));
    }
    return batches;
  }

  private open(now: number, windowMs: number, sent: number): Window {
    return { startedAt: now, endsAt: now + windowMs, sent, held: 0, severity: 'info', targets: new Map(), otherAlerts: 0, samples: [] };
  }
}
