import { formatCidr, normalizeIp, parseCidr } from '../core/ip.js';

/**
 * The widest prefixes a feed may list. A feed that serves `0.0.0.0/0` (a broken mirror, a typo, a hostile
 * list) would otherwise drop every packet the server receives; no real blocklist lists networks wider than these.
 */
const WIDEST = { 4: 8, 6: 16 } as const;

export type EntryVerdict = { entry: string } | { problem: string };

/** The canonical address or prefix of one feed entry (`1.2.3.0/24`, `2001:db8::1`), or why it is refused. */
export function feedEntry(text: string): EntryVerdict {
  const ip = normalizeIp(text);
  if (ip) return { entry: ip };
  if (!text.includes('/')) return { problem: 'not an address or prefix' };
  try {
    const cidr = parseCidr(text);
    if (cidr.prefix < WIDEST[cidr.family]) return { problem: `prefix wider than /${WIDEST[cidr.family]}` };
    return { entry: formatCidr(cidr) };
  } catch {
    return { problem: 'not an address or prefix' };
  }
}
