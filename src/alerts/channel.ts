import type { Alert } from './types.js';

/**
 * One way out for alerts. `deliver` makes one attempt and throws when it fails; the Alerter retries with
 * backoff and counts. An attempt gives up by itself after the configured timeout, so a dead server never holds
 * a delivery forever. `name` goes into logs and stats and carries no secret (no URL path, no password).
 */
export interface AlertChannel {
  readonly name: string;
  deliver(alert: Alert): Promise<void>;
  close(): Promise<void>;
}
