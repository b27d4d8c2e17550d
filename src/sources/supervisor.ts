import { describeError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { sleep } from '../core/sleep.js';

export interface SuperviseOptions {
  signal: AbortSignal;
  logger: Logger;
  minDelayMs?: number;
  maxDelayMs?: number;
  /** A run that lasted this long resets the backoff. */
  healthyAfterMs?: number;
  /** Told each time the task throws or ends early, before the backoff (health reports and alerts). */
  onFailure?: (detail: string) => void;
}


/**
 * Runs `task` until the signal aborts, restarting it with exponential backoff whenever it throws or ends
 * early. Sources never retry on their own; this is the one place that does.
 */
export async function supervise(name: string, task: (signal: AbortSignal) => Promise<void>, options: SuperviseOptions): Promise<void> {
  const { signal, logger } = options;
  const min = options.minDelayMs ?? 500;
  const max = options.maxDelayMs ?? 60_000;
  const healthy = options.healthyAfterMs ?? 60_000;
  let delay = min;
  while (!signal.aborted) {
    const started = Date.now();
    try {
      await task(signal);
      if (signal.aborted) return;
      logger.warn({ source: name }, `source ${name} ended; restarting in ${delay} ms`);
      options.onFailure?.('ended');
    } catch (error) {
      if (signal.aborted) return;
      logger.error({ source: name, err: describeError(error) }, `source ${name} failed; restarting in ${delay} ms`);
      options.onFailure?.(describeError(error));
    }
    if (Date.now() - started >= healthy) delay = min;
    await sleep(delay, signal);
    delay = Math.min(max, delay * 2);
  }
}
