import { cidrContains, formatCidr, maskIp, type Cidr } from '../../core/ip.js';
import { banOps, unbanOps, type Group } from './batch.js';

export interface PrefixChange {
  cidr: Cidr;
  key: string;
  op: 'ban' | 'unban';
  expiresAt: number | null;
}

export interface PrefixPlan {
  /** Narrower prefixes to delete before a wider one is added (a transaction of their own, see below). */
  first: Group[];
  main: Group[];
  /** Bans left out because a wider enforced or batched prefix already covers them. */
  covered: string[];
}

/** True if a strictly wider prefix than `cidr` is in `keys`. */
export function coveredByWider(keys: ReadonlySet<string>, cidr: Cidr): boolean {
  for (let prefix = 0; prefix < cidr.prefix; prefix++) {
    if (keys.has(formatCidr({ family: cidr.family, network: maskIp(cidr.network, prefix), prefix }))) return true;
  }
  return false;
}

/**
 * Interval sets reject overlapping elements, and prefixes either nest or are disjoint. So:
 * - a ban covered by a wider prefix (enforced, or earlier in the batch) is skipped: the wider one drops its
 *   packets already;
 * - a ban wider than enforced prefixes replaces them: they are deleted first, then it is added. nft 1.0.6 checks
 *   overlaps against its cache without applying a batch's own deletes, so `delete narrow; add wide` in one
 *   transaction fails; the deletes go one transaction earlier (the range is unbanned for that one commit);
 * - extending or unbanning works as for single addresses (see banOps, unbanOps).
 * The narrower ban's own expiry is not kept when the wider one goes first; the next reconcile restores it.
 */
export function planPrefixes(changes: readonly PrefixChange[], enforced: ReadonlySet<string>, setOf: (cidr: Cidr) => string, now: number, updatesTimeouts: boolean): PrefixPlan {
  const plan: PrefixPlan = { first: [], main: [], covered: [] };
  const present = new Set(enforced);
  const sorted = [...changes].sort((a, b) => a.cidr.prefix - b.cidr.prefix);
  for (const change of sorted) {
    const set = setOf(change.cidr);
    if (change.op === 'unban') {
      if (present.delete(change.key)) plan.main.push({ target: change.key, ops: unbanOps(set, change.key) });
      continue;
    }
    if (!present.has(change.key) && coveredByWider(present, change.cidr)) {
      plan.covered.push(change.key);
      continue;
    }
    for (const key of [...present]) {
      const other = parseKey(key);
      if (other.prefix > change.cidr.prefix && cidrContains(change.cidr, other.network)) {
        present.delete(key);
        plan.first.push({ target: key, ops: unbanOps(setOf(other), key) });
      }
    }
    present.add(change.key);
    plan.main.push({ target: change.key, ops: banOps(set, change.key, change.expiresAt, now, updatesTimeouts) });
  }
  return plan;
}

/** A key as nft lists it (`10.0.0.0/8`, `2001:db8::/32`); our prefix sets hold nothing else. */
function parseKey(key: string): Cidr {
  const slash = key.indexOf('/');
  const family = key.includes(':') ? 6 : 4;
  const max = family === 4 ? 32 : 128;
  return { family, network: slash < 0 ? key : key.slice(0, slash), prefix: slash < 0 ? max : Number(key.slice(slash + 1)) };
}
