/** One ban as an enforcer applies it. */
export interface BanEntry {
  /** Canonical address or prefix. */
  target: string;
  /** Epoch ms; null means permanent. Kernel backends turn it into an in-kernel timeout. */
  expiresAt: number | null;
  decisionId?: number;
}

export type EnforcementChange = ({ op: 'ban' } & BanEntry) | { op: 'unban'; target: string; decisionId?: number };

export interface BanState {
  banned: boolean;
  expiresAt?: number | null;
  /** Packets dropped by this ban, where the backend counts them. */
  packets?: number;
}

export interface VerifyResult {
  ok: boolean;
  /** True if objects were missing and have been recreated (the caller logs it). */
  repaired: boolean;
  detail: string;
}

/** A ban the kernel made by itself (the flood guard), reported so it is recorded like any decision. */
export interface KernelBan {
  ip: string;
  expiresAt: number | null;
  /** The kernel set it went into. */
  set: string;
}

/**
 * An enforcer applies decisions (sshguard's init/block/release/flush/fin, batched).
 *
 * Contract (every enforcer passes enforcers/contract.ts):
 * - `init` creates what the enforcer owns and nothing else; it is idempotent.
 * - `apply` takes a batch; banning an address that is already banned extends it to the new expiry, and
 *   unbanning one that is not banned is a no-op. It never throws for one bad entry: it applies the rest and
 *   throws SW_ERR_ENFORCER at the end naming what failed.
 * - `reconcile` makes the enforced set equal to `active` exactly (start-up, and after repairs).
 * - `verify` checks that its objects still exist, at a cost that does not grow with the number of bans,
 *   and repairs them (followed by a reconcile from the caller when `repaired`).
 * - `lookup` answers for one address in O(1).
 * - `uninstall` removes everything the enforcer created (and only that); `init` may follow.
 * - Kernel backends turn `expiresAt - now` into an in-kernel timeout: bans expire even if sipwarden is down.
 * - The caller serialises calls; an enforcer need not be re-entrant.
 */
export interface Enforcer {
  readonly name: string;
  init(): Promise<void>;
  apply(changes: readonly EnforcementChange[], now: number): Promise<void>;
  reconcile(active: readonly BanEntry[], now: number): Promise<void>;
  verify(): Promise<VerifyResult>;
  lookup(ip: string, now: number): Promise<BanState>;
  uninstall(): Promise<void>;
  close(): Promise<void>;
  /** Backends whose kernel can ban by itself report those bans here until `signal` aborts. */
  watchKernelBans?(onBan: (ban: KernelBan) => void, signal: AbortSignal): Promise<void>;
  /**
   * Replaces the kernel allowlist (the config's entries, `file:` lists as they are now, and the fleet's shared
   * entries), swapped in atomically where the backend can. Backends without allow sets leave it out.
   */
  replaceAllow?(entries: readonly string[]): Promise<void>;
  /** Intelligence feeds in sets of their own; backends without feed sets leave these out (feeds then only log). */
  feeds?: FeedSets;
}

/** One update of a feed's kernel set. The caller has already removed allowlisted entries. */
export type FeedUpdate =
  /** The whole list, swapped in atomically: no moment where the old entries are gone and the new are not in. */
  | { feed: string; mode: 'replace'; entries: readonly string[] }
  /** More entries, each with its own in-kernel timeout (APIBAN: 7 days), merged with what is there. */
  | { feed: string; mode: 'add'; entries: readonly string[]; timeoutMs: number };

/**
 * Kernel sets for intelligence feeds (APIBAN, plain lists), separate from the ban sets and dropped the same way.
 *
 * Contract (enforcers/feed-contract.ts):
 * - `apply` creates the feed's sets on first use; `replace` is atomic (one nft transaction, or ipset swap);
 *   `add` extends the timeout of entries already there.
 * - `check` tells, at a cost that does not grow with the feed's size, whether each feed's sets still exist and
 *   still hold their entries (a flushed set counts as lost). The caller reloads a lost feed in full.
 * - `size` is the number of entries the enforcer last loaded (not a kernel listing).
 * - `remove` deletes a feed's sets (a feed taken out of the config).
 * - Feed entries never override the allowlist: allowed sources are accepted before any feed set is consulted.
 */
export interface FeedSets {
  apply(update: FeedUpdate): Promise<void>;
  check(): Promise<{ feed: string; ok: boolean; detail: string }[]>;
  size(feed: string): number;
  remove(feed: string): Promise<void>;
}
