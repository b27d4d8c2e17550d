/**
 * Fleet counters use fixed windows of the rule's length aligned to the epoch, so every node files an event
 * under the same window without talking to the others. A rule means "threshold in any window-long span", which
 * fixed windows alone would miss when a burst straddles a boundary; the estimate below restores that.
 */

/** The start of the fixed window holding time `at`. */
export function windowStartOf(at: number, windowMs: number): number {
  return Math.floor(at / windowMs) * windowMs;
}

/**
 * The count of the window-long span ending at `at`, estimated from the fleet's totals of the current fixed window
 * and the one before: all of the current one, and of the previous one the share the span still overlaps,
 * assuming its events were spread evenly. Exact for an even rate, and right for a burst around a boundary
 * (at the boundary nearly all of the previous window counts). Summing both windows instead would let a rule
 * fire on events spread over up to twice its window: a 50-in-10m rule would ban 50 attempts over 19 minutes.
 */
export function slidingEstimate(current: number, previous: number, at: number, windowMs: number): number {
  const elapsed = (at - windowStartOf(at, windowMs)) / windowMs;
  return current + previous * (1 - elapsed);
}
