import { setTimeout as sleep } from 'node:timers/promises';
import type { CommandRunner } from '../exec.js';
import { sets } from './layout.js';
import { parseElements } from './parse.js';

export interface KernelBan {
  ip: string;
  expiresAt: number | null;
  /** The guard set the kernel added it to (guard4, guard6). */
  set: string;
}

export interface WatchOptions {
  /** How often the guard sets are read (default 1000 ms). */
  intervalMs?: number;
  /** Wall clock for `expiresAt` (default Date.now). */
  now?: () => number;
}

/**
 * Reports each address the kernel's flood guard puts into a guard ban set, once per ban, until `signal` aborts.
 *
 * It polls instead of running `nft monitor`: verified on Linux 6.18 with nft 1.0.6, elements that a rule adds
 * from the packet path (`add @guard4 { ip saddr ... }`) produce no netlink notification, so the monitor never
 * sees them (it does print elements added by `nft add element`). Each poll lists only the two guard sets,
 * which the layout bounds at 65,536 elements, so the cost does not depend on the number of ordinary bans.
 * A missing set (guard off, table being repaired) reads as empty. An element that disappears and comes back
 * (its ban expired and the source flooded again) is reported again.
 */
export async function watchKernelBans(
  runner: CommandRunner,
  table: string,
  onBan: (ban: KernelBan) => void,
  signal: AbortSignal,
  options: WatchOptions = {},
): Promise<void> {
  const intervalMs = options.intervalMs ?? 1000;
  const now = options.now ?? Date.now;
  const seen = new Map<string, Set<string>>();
  while (!signal.aborted) {
    for (const set of [sets.guard(4), sets.guard(6)]) {
      let listing = '';
      try {
        listing = (await runner.run(['nft', 'list', 'set', 'inet', table, set])).stdout;
      } catch {
        // Absent for now; the next poll tries again.
      }
      if (signal.aborted) return;
      const previous = seen.get(set) ?? new Set<string>();
      const current = new Set<string>();
      for (const element of parseElements(listing)) {
        current.add(element.key);
        if (!previous.has(element.key)) onBan({ ip: element.key, expiresAt: element.expiresIn === undefined ? null : now() + element.expiresIn, set });
      }
      seen.set(set, current);
    }
    try {
      await sleep(intervalMs, undefined, { signal });
    } catch {
      return;
    }
  }
}
