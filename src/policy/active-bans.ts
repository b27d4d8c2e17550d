import { cidrContains, formatCidr, parseCidr, type Cidr } from '../core/ip.js';

export interface ActiveBan {
  target: string;
  decisionId?: number;
  /** Epoch ms, or null for a permanent ban. */
  expiresAt: number | null;
}

/**
 * The bans in force, as the policy sees them: exact addresses in a map, prefixes in a short list (manual and
 * feed prefixes are few). Used so one attacker does not produce a new decision per finding while banned.
 */
export class ActiveBans {
  private readonly exact = new Map<string, ActiveBan>();
  private readonly prefixes: { cidr: Cidr; ban: ActiveBan }[] = [];

  add(ban: ActiveBan): void {
    const cidr = parseCidr(ban.target);
    const full = cidr.prefix === (cidr.family === 4 ? 32 : 128);
    const target = formatCidr(cidr);
    this.remove(target);
    if (full) this.exact.set(target, { ...ban, target });
    else this.prefixes.push({ cidr, ban: { ...ban, target } });
  }

  remove(target: string): void {
    this.exact.delete(target);
    const index = this.prefixes.findIndex((p) => p.ban.target === target);
    if (index >= 0) this.prefixes.splice(index, 1);
  }

  /** The ban in force at `now` that covers `ip`, if any. */
  covering(ip: string, now: number): ActiveBan | undefined {
    const live = (ban: ActiveBan | undefined): ban is ActiveBan => !!ban && (ban.expiresAt === null || ban.expiresAt > now);
    const exact = this.exact.get(ip);
    if (live(exact)) return exact;
    for (const { cidr, ban } of this.prefixes) if (live(ban) && cidrContains(cidr, ip)) return ban;
    return undefined;
  }

  /** Drops expired entries; returns them so callers can unban. */
  expire(now: number): ActiveBan[] {
    const gone: ActiveBan[] = [];
    for (const [target, ban] of this.exact) {
      if (ban.expiresAt !== null && ban.expiresAt <= now) {
        this.exact.delete(target);
        gone.push(ban);
      }
    }
    for (let i = this.prefixes.length - 1; i >= 0; i--) {
      const entry = this.prefixes[i] as { ban: ActiveBan };
      if (entry.ban.expiresAt !== null && entry.ban.expiresAt <= now) {
        this.prefixes.splice(i, 1);
        gone.push(entry.ban);
      }
    }
    return gone;
  }

  /** Forgets every ban (before loading the full list again: a fleet resync). */
  clear(): void {
    this.exact.clear();
    this.prefixes.length = 0;
  }

  get size(): number {
    return this.exact.size + this.prefixes.length;
  }
}
