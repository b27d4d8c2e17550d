import { spawn } from 'node:child_process';
import type { Netns } from '../../src/enforcers/testing/netns.js';

/**
 * Stamps the moment each address or prefix enters one of sipwarden's ban sets in a namespace, from
 * `nft monitor elements`: the kernel's own notification, so the time is when the ban took effect, not when a
 * poll happened to look. Times are `performance.now()` of this process, comparable across namespaces.
 */
export interface BanSetWatch {
  /** When `target` (as nft prints it: an address, or a prefix such as 198.51.100.0/24) was first added. */
  addedAt(target: string): number | undefined;
  /** How many distinct targets were added since the watch started. */
  readonly added: number;
  /** Resolves with the add time of `target`, waiting up to `timeoutMs`. */
  waitForAdd(target: string, timeoutMs: number): Promise<number>;
  /** Resolves once `count` distinct targets were added, waiting up to `timeoutMs`; returns the time of the last. */
  waitForCount(count: number, timeoutMs: number): Promise<number>;
  stop(): void;
}

const BAN_SET = /^add element inet sipwarden (?:ban4|ban6|bannet4|bannet6) \{ (.*) \}$/;

export async function watchBanSets(ns: Netns): Promise<BanSetWatch> {
  const monitor = spawn(ns.prefix[0] as string, [...ns.prefix.slice(1), 'nft', 'monitor', 'elements'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const seen = new Map<string, number>();
  let last = 0;
  let buffered = '';
  let stderr = '';
  monitor.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  monitor.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    const now = performance.now();
    buffered += chunk;
    for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
      const match = BAN_SET.exec(buffered.slice(0, nl));
      buffered = buffered.slice(nl + 1);
      // A batch prints several elements on one line: "{ a timeout 1h expires 59m59s, b timeout ... }".
      for (const element of match?.[1]?.split(', ') ?? []) {
        const target = element.split(' ')[0] as string;
        if (!seen.has(target)) {
          seen.set(target, now);
          last = now;
        }
      }
    }
  });
  const until = async <T>(probe: () => T | undefined, timeoutMs: number, what: string): Promise<T> => {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const value = probe();
      if (value !== undefined) return value;
      if (monitor.exitCode !== null) throw new Error(`nft monitor in ${ns.name} exited (${monitor.exitCode}): ${stderr}`);
      if (performance.now() >= deadline) throw new Error(`${what} not in the ban sets of ${ns.name} within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 2));
    }
  };
  // The monitor subscribes before it prints anything; a moment's wait keeps the first adds from being missed.
  await new Promise((r) => setTimeout(r, 100));
  return {
    addedAt: (target) => seen.get(target),
    get added() {
      return seen.size;
    },
    waitForAdd: (target, timeoutMs) => until(() => seen.get(target), timeoutMs, target),
    waitForCount: (count, timeoutMs) => until(() => (seen.size >= count ? last : undefined), timeoutMs, `${count} targets`),
    stop: () => void monitor.kill(),
  };
}

/** The q-quantile (0..1) of `values`, nearest rank. */
export function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
}
