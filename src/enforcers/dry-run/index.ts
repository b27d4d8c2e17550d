import { appendFileSync } from 'node:fs';
import { cidrContains, parseCidr, type Cidr } from '../../core/ip.js';
import { systemClock, type Clock } from '../../core/clock.js';
import { swError } from '../../core/errors.js';
import type { BanEntry, BanState, EnforcementChange, Enforcer, VerifyResult } from '../types.js';
import { DryRunFeedSets } from './feeds.js';

export { DryRunFeedSets } from './feeds.js';

export interface JournalEntry {
  at: number;
  op: 'ban' | 'unban' | 'reconcile' | 'feed' | 'allow';
  target?: string;
  expiresAt?: number | null;
  count?: number;
  /** op 'feed': which feed, and replace, add or remove. */
  feed?: string;
  mode?: string;
}

export interface DryRunOptions {
  /** Runs feed entry timeouts (default: the system clock). */
  clock?: Clock;
  /** Sources that feeds never drop, as the kernel backends' allow sets. */
  allow?: readonly string[];
}

/**
 * Records what it would do instead of touching the kernel: an in-memory ban table with expiry (so `lookup`
 * answers like a kernel set would), in-memory feed sets, and a journal, optionally appended to an NDJSON file.
 */
export class DryRunEnforcer implements Enforcer {
  readonly name = 'dry-run';
  readonly journal: JournalEntry[] = [];
  readonly feeds: DryRunFeedSets;
  private readonly bans = new Map<string, { cidr: Cidr; expiresAt: number | null }>();
  private readonly clock: Clock;

  constructor(private readonly journalPath?: string, private readonly journalLimit = 10_000, options: DryRunOptions = {}) {
    const clock = options.clock ?? systemClock;
    this.clock = clock;
    this.feeds = new DryRunFeedSets(clock, options.allow ?? [], (update) => this.record({ at: clock.now(), op: 'feed', ...update }));
  }

  async init(): Promise<void> {}

  async apply(changes: readonly EnforcementChange[], now: number): Promise<void> {
    const failed: string[] = [];
    for (const change of changes) {
      let cidr: Cidr;
      try {
        cidr = parseCidr(change.target);
      } catch {
        failed.push(change.target);
        continue;
      }
      if (change.op === 'ban') {
        this.bans.set(change.target, { cidr, expiresAt: change.expiresAt });
        this.record({ at: now, op: 'ban', target: change.target, expiresAt: change.expiresAt });
      } else {
        this.bans.delete(change.target);
        this.record({ at: now, op: 'unban', target: change.target });
      }
    }
    if (failed.length > 0) throw swError('SW_ERR_ENFORCER', `dry-run: not an address or prefix: ${failed.slice(0, 5).join(', ')}`);
  }

  /** Keeps the allowlist the feeds honour, and journals the change (op `allow`, with the count). */
  async replaceAllow(entries: readonly string[]): Promise<void> {
    this.feeds.setAllow(entries);
    this.allowed = [...entries];
    this.record({ at: this.clock.now(), op: 'allow', count: entries.length });
  }

  /** The allowlist last given to replaceAllow (tests). */
  allowed: string[] = [];

  async reconcile(active: readonly BanEntry[], now: number): Promise<void> {
    this.bans.clear();
    for (const ban of active) this.bans.set(ban.target, { cidr: parseCidr(ban.target), expiresAt: ban.expiresAt });
    this.record({ at: now, op: 'reconcile', count: active.length });
  }

  async verify(): Promise<VerifyResult> {
    return { ok: true, repaired: false, detail: `dry-run: ${this.bans.size} bans recorded` };
  }

  async lookup(ip: string, now: number): Promise<BanState> {
    const live = (entry: { expiresAt: number | null } | undefined): boolean => !!entry && (entry.expiresAt === null || entry.expiresAt > now);
    const exact = this.bans.get(ip);
    if (exact && live(exact)) return { banned: true, expiresAt: exact.expiresAt };
    for (const entry of this.bans.values()) {
      if (live(entry) && cidrContains(entry.cidr, ip)) return { banned: true, expiresAt: entry.expiresAt };
    }
    return { banned: false };
  }

  async uninstall(): Promise<void> {
    this.bans.clear();
    this.feeds.clear();
  }

  async close(): Promise<void> {}

  private record(entry: JournalEntry): void {
    this.journal.push(entry);
    if (this.journal.length > this.journalLimit) this.journal.splice(0, this.journal.length - this.journalLimit);
    if (this.journalPath) appendFileSync(this.journalPath, `${JSON.stringify({ ...entry, time: new Date(entry.at).toISOString() })}\n`);
  }
}
