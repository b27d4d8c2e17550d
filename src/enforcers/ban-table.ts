import { performance } from 'node:perf_hooks';
import { swError } from '../core/errors.js';
import { formatCidr, maskIp, ipFamily, parseCidr, type Cidr } from '../core/ip.js';

/**
 * The in-memory ban table of backends without kernel timeouts (plain iptables, the command hook).
 *
 * An expiry is kept the way the kernel keeps an ipset timeout: the caller's `expiresAt - now` is turned into a
 * deadline on the monotonic clock at the moment of the ban. The caller's `now` may come from a replay or a test
 * clock, and the wall clock may jump; the monotonic deadline is what a kernel timeout would have done.
 */
export interface TableEntry {
  target: string;
  cidr: Cidr;
  expiresAt: number | null;
  /** performance.now() at which the ban ends; Infinity for a permanent ban. */
  deadline: number;
}

export function monotonicNow(): number {
  return performance.now();
}

export function deadlineOf(expiresAt: number | null, now: number): number {
  return expiresAt === null ? Infinity : monotonicNow() + (expiresAt - now);
}

export class BanTable {
  private readonly byTarget = new Map<string, TableEntry>();
  /** How many entries use each (family, prefix length), so a lookup probes only lengths that exist. */
  private readonly lengths = new Map<number, number>();

  get size(): number {
    return this.byTarget.size;
  }

  get(target: string): TableEntry | undefined {
    return this.byTarget.get(target);
  }

  has(target: string): boolean {
    return this.byTarget.has(target);
  }

  values(): IterableIterator<TableEntry> {
    return this.byTarget.values();
  }

  set(entry: TableEntry): void {
    if (!this.byTarget.has(entry.target)) this.count(entry.cidr, 1);
    this.byTarget.set(entry.target, entry);
  }

  delete(target: string): void {
    const entry = this.byTarget.get(target);
    if (!entry) return;
    this.byTarget.delete(target);
    this.count(entry.cidr, -1);
  }

  clear(): void {
    this.byTarget.clear();
    this.lengths.clear();
  }

  /** The most specific entry covering `ip` (canonical), live or not; O(number of distinct prefix lengths). */
  match(ip: string): TableEntry | undefined {
    const family = ipFamily(ip);
    if (family === 0) return undefined;
    const candidates = [...this.lengths.keys()].filter((key) => Math.floor(key / 1000) === family).map((key) => key % 1000);
    for (const prefix of candidates.sort((a, b) => b - a)) {
      const entry = this.byTarget.get(formatCidr({ family, network: maskIp(ip, prefix), prefix }));
      if (entry) return entry;
    }
    return undefined;
  }

  expired(at = monotonicNow()): TableEntry[] {
    return [...this.byTarget.values()].filter((entry) => entry.deadline <= at);
  }

  nextDeadline(): number {
    let next = Infinity;
    for (const entry of this.byTarget.values()) next = Math.min(next, entry.deadline);
    return next;
  }

  private count(cidr: Cidr, delta: number): void {
    const key = cidr.family * 1000 + cidr.prefix;
    const count = (this.lengths.get(key) ?? 0) + delta;
    if (count > 0) this.lengths.set(key, count);
    else this.lengths.delete(key);
  }
}

/**
 * Runs tasks one after another. The caller serialises its own calls, but the expiry timer fires on its own and
 * must not interleave its removals with a batch in flight.
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task, task);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

/** Retry delay after a failed expiry sweep; the next apply sweeps again and reports the failure to its caller. */
const SWEEP_RETRY_MS = 30_000;

/**
 * One unref'd timer set to the earliest deadline: it never keeps the daemon alive, and removing expired bans does
 * not wait for the next batch.
 */
export class ExpiryTimer {
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly sweep: () => Promise<void>) {}

  schedule(deadline: number): void {
    this.cancel();
    if (deadline === Infinity) return;
    this.arm(Math.max(0, deadline - monotonicNow()));
  }

  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(delay: number): void {
    // setTimeout fires at once for delays beyond 2^31-1 ms; a far deadline is re-armed when the timer fires.
    this.timer = setTimeout(() => {
      this.timer = undefined;
      // On failure the failed entries are still due: wait before retrying rather than re-firing at once.
      this.sweep().catch(() => {
        this.cancel();
        this.arm(SWEEP_RETRY_MS);
      });
    }, Math.min(delay, 2 ** 31 - 1));
    this.timer.unref();
  }
}

/** The SW_ERR_ENFORCER thrown at the end of a batch for the entries it could not apply. */
export function batchError(backend: string, failed: readonly { target: string; reason: string }[]): Error {
  const shown = failed.slice(0, 5).map((f) => `${f.target} (${f.reason})`).join(', ');
  const more = failed.length > 5 ? ` and ${failed.length - 5} more` : '';
  return swError('SW_ERR_ENFORCER', `${backend}: ${failed.length} entries not applied: ${shown}${more}`);
}

/**
 * The canonical form of a ban target, or why it cannot be one. A /0 is refused: hash:net cannot hold it, and on
 * any backend it would cut the host off from everyone.
 */
export function parseBanTarget(target: string): { cidr: Cidr; canonical: string } | { reason: string } {
  let cidr: Cidr;
  try {
    cidr = parseCidr(target);
  } catch {
    return { reason: 'not an address or prefix' };
  }
  if (cidr.prefix === 0) return { reason: 'a /0 prefix would ban every address' };
  return { cidr, canonical: formatCidr(cidr) };
}
