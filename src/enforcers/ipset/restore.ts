import { swError } from '../../core/errors.js';
import type { CommandRunner } from '../exec.js';

/** ipset cannot hold a timeout above (2^31-1) ms in seconds; longer bans are clamped and refreshed. */
export const MAX_TIMEOUT_SECONDS = 2_147_483;

/** The design target is 1M bans per family; the default of 65536 would refuse the 65537th. Memory grows on use. */
export const MAX_ELEMENTS = 4_194_304;

/** Giving up after this many bad lines in one batch keeps a broken batch from costing O(n²) re-sends. */
const MAX_BAD_LINES = 20;

/** One `ipset restore` line; `target` names the ban it belongs to, absent for lines the batch cannot do without. */
export interface RestoreLine {
  text: string;
  target?: string;
}

export interface RestoreOutcome {
  /** Targets whose line ipset refused, with its reason. */
  failed: { target: string; reason: string }[];
}

/**
 * Feeds lines to one `ipset -exist restore` on stdin. ipset applies lines in order and stops at the first one
 * it refuses ("Error in line N"); lines before it are in, so we drop that line and send the rest again. A refused
 * structural line (create, swap) fails the whole batch.
 */
export async function ipsetRestore(runner: CommandRunner, lines: readonly RestoreLine[]): Promise<RestoreOutcome> {
  const failed: RestoreOutcome['failed'] = [];
  let rest = lines;
  while (rest.length > 0) {
    try {
      await runner.run(['ipset', '-exist', 'restore'], `${rest.map((line) => line.text).join('\n')}\n`);
      break;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const match = /Error in line (\d+): (.*)/.exec(message);
      const index = match ? Number(match[1]) - 1 : -1;
      const bad = rest[index];
      if (!bad?.target) throw swError('SW_ERR_ENFORCER', `ipset restore failed: ${message}`, error);
      failed.push({ target: bad.target, reason: match?.[2] ?? message });
      if (failed.length >= MAX_BAD_LINES) {
        for (const line of rest.slice(index + 1)) if (line.target) failed.push({ target: line.target, reason: 'not tried after too many errors' });
        break;
      }
      rest = rest.slice(index + 1);
    }
  }
  return { failed };
}
