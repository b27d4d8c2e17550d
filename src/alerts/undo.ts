import { shellQuote } from '../cli/format.js';

/** The reason an unban printed in an alert carries; the operator edits it before running the command. */
export const UNBAN_REASON = 'customer verified';

export function unbanCommand(target: string): string {
  return `sipwarden unban ${shellQuote(target)} --reason ${shellQuote(UNBAN_REASON)}`;
}

/** One command that lifts the bans of several addresses, for a digest of ban alerts. */
export function bulkUnbanCommand(targets: readonly string[]): string {
  return `for target in ${targets.map(shellQuote).join(' ')}; do sipwarden unban "$target" --reason ${shellQuote(UNBAN_REASON)}; done`;
}
