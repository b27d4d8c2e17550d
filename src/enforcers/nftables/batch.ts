import type { CommandRunner } from '../exec.js';

/**
 * One target's element operations; they always travel in the same transaction. Phases order a transaction:
 * every phase-0 line runs before every phase-1 line, and so on.
 */
export interface ElementOp {
  phase: 0 | 1 | 2;
  verb: 'add' | 'delete';
  set: string;
  element: string;
}

export interface Group {
  target: string;
  ops: ElementOp[];
}

/**
 * In a user namespace nft cannot enlarge its netlink socket buffer (SO_SNDBUFFORCE needs CAP_NET_ADMIN in the
 * initial namespace), so a transaction must fit the default 208 KiB. Measured on Linux 6.18: ~7000 IPv4 or
 * ~5500 IPv6 element operations with timeouts fit, 9000 do not. 2000 leaves room for longer elements and costs
 * little: 1M elements as 500 transactions load in 7.0 s against 5.8 s as one.
 */
export const DEFAULT_CHUNK_SIZE = 2000;

/**
 * `timeout` for an element: the time from now, at least 1 s; none for a permanent ban. Written as seconds plus
 * milliseconds (`604799s998ms`): nft 1.0.6 rejects a plain millisecond count above about 4.3 million
 * ("value too large"), which a one-week ban exceeds.
 */
export function timeoutText(expiresAt: number | null, now: number): string {
  if (expiresAt === null) return '';
  const ms = Math.max(1000, Math.ceil(expiresAt - now));
  const rest = ms % 1000;
  return ` timeout ${Math.floor(ms / 1000)}s${rest > 0 ? `${rest}ms` : ''}`;
}

/**
 * Ban (or extend, or shorten) one element. Kernels that update an existing element's timeout on re-add
 * (Linux 6.18 does, in every direction, permanent included; `updatesTimeouts` comes from a probe at init)
 * need one add. Older ones keep the old timeout, so the element is replaced in one transaction: add (harmless
 * if present) + delete + add with the new timeout; a bare delete of an absent element would fail it.
 */
export function banOps(set: string, key: string, expiresAt: number | null, now: number, updatesTimeouts: boolean): ElementOp[] {
  const element = `${key}${timeoutText(expiresAt, now)}`;
  if (updatesTimeouts) return [{ phase: 2, verb: 'add', set, element }];
  return [
    { phase: 0, verb: 'add', set, element: key },
    { phase: 1, verb: 'delete', set, element: key },
    { phase: 2, verb: 'add', set, element },
  ];
}

/** Unban that is a no-op for an absent element: add, then delete. */
export function unbanOps(set: string, key: string): ElementOp[] {
  return [
    { phase: 0, verb: 'add', set, element: key },
    { phase: 1, verb: 'delete', set, element: key },
  ];
}

export function renderTransaction(table: string, groups: readonly Group[], prelude = ''): string {
  const lines = new Map<string, string[]>();
  for (const group of groups) {
    for (const op of group.ops) {
      const key = `${op.phase} ${op.verb} ${op.set}`;
      let elements = lines.get(key);
      if (!elements) lines.set(key, (elements = []));
      elements.push(op.element);
    }
  }
  let text = prelude;
  for (const key of [...lines.keys()].sort()) {
    const [, verb, set] = key.split(' ');
    text += `${verb} element inet ${table} ${set} { ${(lines.get(key) as string[]).join(', ')} }\n`;
  }
  return text;
}

export interface Failure {
  target: string;
  reason: string;
}

const tooLong = (error: unknown) => /Message too long|EMSGSIZE/.test(String((error as Error)?.message));

/** Splits groups into transactions of at most `size` element operations (a group is never split). */
function chunk(groups: readonly Group[], size: number): Group[][] {
  const chunks: Group[][] = [];
  let current: Group[] = [];
  let ops = 0;
  for (const group of groups) {
    if (current.length > 0 && ops + group.ops.length > size) {
      chunks.push(current);
      current = [];
      ops = 0;
    }
    current.push(group);
    ops += group.ops.length;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/**
 * Runs groups through `nft -f -` in transactions of at most `chunkSize` element operations, two at a time
 * (nft parses one while the kernel commits the other; groups are independent targets, so order does not
 * matter). `prelude` (e.g. set flushes) runs with the first transaction, before any other. If the kernel
 * rejects a transaction as too large, the chunk size halves for the rest of the run. If one fails for
 * another reason, it is split in halves until the failing groups are isolated, so one bad element cannot
 * block the others.
 */
export async function runGroups(
  runner: CommandRunner,
  table: string,
  groups: readonly Group[],
  chunkSize: number,
  prelude = '',
  parallel = 2,
): Promise<Failure[]> {
  const failures: Failure[] = [];
  let size = Math.max(3, chunkSize);
  const queue = chunk(groups, size);
  const nft = (text: string) => runner.run(['nft', '-f', '-'], text);
  if (prelude) {
    for (;;) {
      const first = queue.shift() ?? [];
      try {
        await nft(renderTransaction(table, first, prelude));
        break;
      } catch (error) {
        if (!tooLong(error) || first.length <= 1) throw error;
        size = Math.max(3, Math.floor(size / 2));
        queue.unshift(...chunk(first, size));
      }
    }
  }
  const worker = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      try {
        await nft(renderTransaction(table, next));
      } catch (error) {
        if (tooLong(error) && next.length > 1) {
          size = Math.max(3, Math.floor(size / 2));
          queue.unshift(...chunk(next, size));
          continue;
        }
        // A missing table or set fails every element alike: no point isolating them one by one.
        if (/No such file or directory/.test(String((error as Error)?.message))) throw error;
        await isolate(runner, table, next, failures, error);
      }
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return failures;
}
async function isolate(runner: CommandRunner, table: string, chunk: readonly Group[], failures: Failure[], error: unknown): Promise<void> {
  if (chunk.length === 1) {
    failures.push({ target: (chunk[0] as Group).target, reason: String((error as Error)?.message ?? error) });
    return;
  }
  const half = Math.ceil(chunk.length / 2);
  for (const part of [chunk.slice(0, half), chunk.slice(half)]) {
    try {
      await runner.run(['nft', '-f', '-'], renderTransaction(table, part));
    } catch (inner) {
      await isolate(runner, table, part, failures, inner);
    }
  }
}
