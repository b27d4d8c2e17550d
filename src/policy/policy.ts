import type { Config } from '../config/schema.js';
import { formatDuration } from '../core/duration.js';
import { formatCidr, ipFamily, maskIp } from '../core/ip.js';
import type { Finding } from '../detectors/rules/index.js';
import type { NewDecision, PolicyStep } from '../store/types.js';
import { ActiveBans } from './active-bans.js';
import type { AddressList } from './address-list.js';
import { BanBudget } from './budget.js';
import type { KnownGood } from './known-good.js';

export interface PolicyOptions {
  allow: AddressList;
  trunks: AddressList;
  knownGood: KnownGood;
  escalation: Config['escalation'];
  budget: Config['budget'];
  scope: Config['scope'];
  /** Record every ban as dry-run (config enforce.dryRun). */
  dryRun: boolean;
  sensor?: string;
  /** Called once per budget period when the ban budget first runs out. */
  onBudgetExhausted?: (at: number, used: number) => void;
}

/** A report about the same target and rule is repeated at most this often. */
const REPORT_INTERVAL_MS = 10 * 60_000;

/**
 * Turns findings into decisions. Every check appends a step to the decision's policy path, so `why` can show
 * exactly why an address was or was not banned. Synchronous and in memory: the daemon loads active bans, ban
 * history and known-good pairs from the store at start-up and persists what this returns.
 */
export class Policy {
  readonly active = new ActiveBans();
  private readonly history = new Map<string, number[]>();
  private readonly lastReport = new Map<string, number>();
  private readonly budget: BanBudget;
  private budgetAlertedAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly options: PolicyOptions) {
    this.budget = new BanBudget(options.budget.spoofable.max, options.budget.spoofable.per);
  }

  /** Remembers an earlier ban of a target, so escalation counts it (loaded from the store at start-up). */
  recordBan(target: string, at: number): void {
    const times = this.history.get(target) ?? [];
    times.push(at);
    this.history.set(target, times);
  }

  /** Decides on one finding at wall time `now` (event time in a replay). Null: nothing to record. */
  decide(finding: Finding, now: number): NewDecision | null {
    const { rule } = finding;
    const base = {
      at: finding.at,
      rule: rule.name,
      origin: 'rule' as const,
      evidence: finding.evidence,
      eventCount: finding.count,
      firstEventAt: finding.firstAt,
      lastEventAt: finding.at,
      dryRun: false,
      level: 0,
      ...(this.options.sensor ? { sensor: this.options.sensor } : {}),
    };
    const what = finding.values ? `${finding.count} distinct ${rule.distinct}s` : `${finding.count} events`;
    const reason = `${rule.name}: ${what} (${rule.on.join(', ')}) within ${formatDuration(rule.windowMs)}`;
    const steps: PolicyStep[] = [
      { check: 'rule', result: 'info', detail: `${rule.name} threshold ${rule.threshold} in ${formatDuration(rule.windowMs)} reached` },
    ];

    if (rule.key === 'account') {
      return this.report(finding, { ...base, target: finding.key, targetType: 'account', reason, policy: steps }, now);
    }
    const ip = finding.key;
    const report = (check: string, detail: string): NewDecision | null => {
      steps.push({ check, result: 'block', detail });
      return this.report(finding, { ...base, target: ip, targetType: 'ip', reason: `${reason}; not banned: ${detail}`, policy: steps }, now);
    };

    const allowed = this.options.allow.match(ip);
    if (allowed) return report('allowlist', `address is allowlisted (${allowed})`);
    steps.push({ check: 'allowlist', result: 'pass', detail: 'not allowlisted' });

    const existing = this.active.covering(ip, now);
    if (existing) return null;

    const spoofable = finding.evidence === 'spoofable';
    const trunk = this.options.trunks.match(ip);
    if (trunk && spoofable) return report('trunk', `trunk/customer address (${trunk}) and the evidence is spoofable`);
    const good = this.options.knownGood.accountsFor(ip, finding.at);
    if (good.length > 0 && spoofable) {
      return report('known-good', `accounts ${good.slice(0, 5).join(', ')} authenticated from this address recently and the evidence is spoofable`);
    }
    if (rule.evidence === 'verified' && spoofable) return report('evidence', 'rule requires verified evidence; all of it is spoofable');
    steps.push({
      check: 'evidence',
      result: 'pass',
      detail: spoofable ? 'spoofable (single UDP requests); allowed for this rule' : 'verified (the source completed a handshake or challenge)',
    });
    if (trunk) steps.push({ check: 'trunk', result: 'info', detail: `trunk/customer address (${trunk}), banned on verified evidence`, subjects: [trunk] });
    if (good.length > 0) steps.push({ check: 'known-good', result: 'info', detail: `failures for other accounts than ${good.join(', ')}`, subjects: good });

    if (spoofable && !this.budget.take(now)) {
      if (now - this.budgetAlertedAt >= this.options.budget.spoofable.per) {
        this.budgetAlertedAt = now;
        this.options.onBudgetExhausted?.(now, this.budget.used(now));
      }
      return report('budget', `ban budget for spoofable evidence exhausted (${this.options.budget.spoofable.max} per ${formatDuration(this.options.budget.spoofable.per)})`);
    }
    if (spoofable) steps.push({ check: 'budget', result: 'pass', detail: `${this.budget.used(now)} of ${this.options.budget.spoofable.max} spoofable bans used` });

    const family = ipFamily(ip) === 6 ? 6 : 4;
    const prefix = family === 4 ? this.options.scope.ipv4 : this.options.scope.ipv6;
    const target = formatCidr({ family, network: maskIp(ip, prefix), prefix });
    steps.push({ check: 'scope', result: 'info', detail: target === ip ? 'single address' : `prefix ${target}` });

    const { factor, max, window } = this.options.escalation;
    const earlier = (this.history.get(target) ?? []).filter((t) => t > now - window).length;
    const durationMs = Math.min(Math.round(rule.banMs * factor ** earlier), max);
    steps.push({
      check: 'escalation',
      result: 'info',
      detail: earlier === 0 ? `first ban in ${formatDuration(window)}: ${formatDuration(durationMs)}` : `ban #${earlier + 1} in ${formatDuration(window)}: ${formatDuration(rule.banMs)} x ${factor}^${earlier} = ${formatDuration(durationMs)} (max ${formatDuration(max)})`,
    });

    const dryRun = rule.dryRun || this.options.dryRun;
    if (dryRun) steps.push({ check: 'dry-run', result: 'info', detail: rule.dryRun ? `rule ${rule.name} is dry-run` : 'enforce.dryRun is on' });
    const expiresAt = now + durationMs;
    if (!dryRun) {
      this.active.add({ target, expiresAt });
      this.recordBan(target, now);
    }
    return {
      ...base, target, targetType: 'ip', action: 'ban', reason, durationMs, expiresAt, level: earlier, dryRun, policy: steps,
    };
  }

  /** A finding made only of failures from known-good pairs: a misconfigured device, reported, never banned. */
  decideKnownGood(finding: Finding, now: number): NewDecision | null {
    const account = finding.trigger.account ?? '?';
    const detail = `account ${account} authenticated from this address recently; likely a device with an old password or one of several phones behind a NAT`;
    return this.report(
      finding,
      {
        at: finding.at, target: finding.key, targetType: 'ip', origin: 'rule', rule: finding.rule.name,
        reason: `misconfigured device: ${finding.count} failures for ${account}; not banned`,
        level: 0, evidence: finding.evidence, eventCount: finding.count, firstEventAt: finding.firstAt,
        lastEventAt: finding.at, dryRun: false,
        policy: [
          { check: 'rule', result: 'info', detail: `${finding.rule.name} threshold ${finding.rule.threshold} reached` },
          { check: 'known-good', result: 'block', detail, subjects: [account] },
        ],
        ...(this.options.sensor ? { sensor: this.options.sensor } : {}),
      },
      now,
    );
  }

  private report(finding: Finding, decision: Omit<NewDecision, 'action'>, now: number): NewDecision | null {
    const key = `${finding.rule.name}\u0000${decision.target}\u0000${decision.reason.slice(0, 40)}`;
    const last = this.lastReport.get(key);
    if (last !== undefined && now - last < REPORT_INTERVAL_MS) return null;
    this.lastReport.set(key, now);
    if (this.lastReport.size > 100_000) this.lastReport.clear();
    return { ...decision, action: 'report' };
  }

  /** Forgets history older than the escalation window; call now and then. */
  sweep(now: number): void {
    for (const [target, times] of this.history) {
      const kept = times.filter((t) => t > now - this.options.escalation.window);
      if (kept.length === 0) this.history.delete(target);
      else this.history.set(target, kept);
    }
    for (const [key, at] of this.lastReport) if (now - at >= REPORT_INTERVAL_MS) this.lastReport.delete(key);
  }
}
