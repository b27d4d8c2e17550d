import type { Config } from '../config/schema.js';
import type { Clock } from '../core/clock.js';
import type { SecurityEvent } from '../core/event.js';
import { describeError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { commandRunner } from '../enforcers/exec.js';
import type { LiveCall } from '../fraud/engine.js';
import { FraudMonitor, type FraudChange } from '../fraud/monitor.js';
import { loadGeo } from '../geo/index.js';
import type { Policy } from '../policy/policy.js';
import type { NewDecision, Store } from '../store/types.js';
import type { DaemonObserver } from './observer.js';
import type { BoundSource } from './sources.js';

const HOTLIST_DAYS = 90;

export interface FraudActionsOptions {
  config: Config & { fraud: NonNullable<Config['fraud']> };
  store: Store;
  logger: Logger;
  clock: Clock;
  policy: Policy;
  observer: DaemonObserver;
  /** The bound source that reported a call, so a hangup goes back through its AMI or ESL connection. */
  source: (sensor: string) => BoundSource | undefined;
}

/**
 * The daemon's side of toll fraud: feeds the monitor, logs and alerts its findings, turns its bans into decisions
 * through the ordinary policy path, hangs up live calls, and keeps incidents and the hotlist in the store.
 */
export class FraudActions {
  readonly monitor: FraudMonitor;

  constructor(private readonly options: FraudActionsOptions) {
    const { config } = options;
    this.monitor = new FraudMonitor(config.fraud, config.timezone, this.geo());
  }

  /** One event: the decisions to commit with the batch, and the hangups to run (serially, by the caller). */
  observe(event: SecurityEvent, now: number): { decisions: NewDecision[]; hangups: (() => Promise<void>)[] } {
    const changes = this.monitor.observe(event);
    if (changes.length === 0) return { decisions: [], hangups: [] };
    this.report(changes);
    const hangups = this.monitor.hangupsFor(changes)
      .filter((h) => !h.dryRun)
      .map((h) => () => this.hangup(h.call, h.incident.id, h.incident.account));
    return { decisions: this.bans(changes, now), hangups };
  }

  /** Live-call checks (rule A5), on the daemon's timer. */
  tick(now: number): void {
    this.report(this.monitor.tick(now));
  }

  async saveIncidents(): Promise<void> {
    for (const incident of this.monitor.takeChanged()) await this.options.store.saveIncident(incident);
  }

  /** The honeypot's hotlist (numbers attackers tested) and the configured one, for the T4 tier. */
  async refreshHotlist(): Promise<void> {
    const { store, clock, logger } = this.options;
    const entries = await store.hotlist({ since: clock.now() - HOTLIST_DAYS * 86_400_000, limit: 100_000 });
    const configured = this.monitor.configuredHotlist();
    for (const problem of configured.problems) logger.warn(problem);
    this.monitor.setHotlist([...entries.map((entry) => entry.number), ...configured.keys]);
  }

  /** Local geo files; a broken file costs the geo facts, not the detector. */
  private geo(): ReturnType<typeof loadGeo> | undefined {
    const { config, logger } = this.options;
    if (config.geo === undefined) return undefined;
    try {
      return loadGeo(config.geo);
    } catch (error) {
      logger.warn({ err: describeError(error) }, 'geo database unusable: fraud findings go without country and network');
      return undefined;
    }
  }

  /** Each finding is logged; an incident that opens or turns critical says so once, at warn or error level. */
  private report(changes: readonly FraudChange[]): void {
    const { logger, observer } = this.options;
    observer.fraudChanges(changes);
    for (const { finding, incident, opened, escalated } of changes) {
      const fields = {
        incident: incident.id, account: finding.account, rule: finding.rule, severity: finding.severity, metric: finding.metric,
        value: finding.value, threshold: finding.threshold, ...(finding.ip ? { ip: finding.ip } : {}),
        ...(finding.destination ? { destination: finding.destination.e164 ?? finding.destination.raw, tier: finding.destination.tier } : {}),
      };
      if (opened && incident.severity === 'critical') logger.error(fields, `toll-fraud incident opened, critical: ${finding.detail}`);
      else if (opened) logger.warn(fields, `toll-fraud incident opened: ${finding.detail}`);
      else if (escalated) logger.error(fields, `toll-fraud incident now critical: ${finding.detail}`);
      else logger.info(fields, `toll-fraud finding: ${finding.detail}`);
    }
  }

  /** Bans the monitor asks for, through the same policy path as any ban (allowlist, trunks, scope, escalation). */
  private bans(changes: readonly FraudChange[], now: number): NewDecision[] {
    const decisions: NewDecision[] = [];
    for (const ban of this.monitor.bansFor(changes)) {
      const rule = {
        name: 'fraud', on: ['auth-success' as const], key: 'ip' as const, threshold: 1, windowMs: 0, banMs: ban.durationMs,
        evidence: 'verified' as const, dryRun: ban.dryRun,
      };
      const trigger: SecurityEvent = {
        at: ban.finding.at, kind: 'auth-success', ip: ban.ip, account: ban.incident.account, server: 'sipwarden', evidence: 'verified',
        reason: `toll-fraud incident ${ban.incident.id}: ${ban.finding.detail}`, raw: '',
      };
      const decision = this.options.policy.decide({ rule, key: ban.ip, at: ban.finding.at, firstAt: ban.finding.at, count: 1, evidence: 'verified', trigger }, now);
      if (decision) decisions.push({ ...decision, reason: `fraud: incident ${ban.incident.id} (${ban.incident.account}): ${ban.finding.detail}` });
    }
    return decisions;
  }

  /** Hangs up one live call through the source that saw it (AMI or ESL), else the command hook; logs the outcome. */
  private async hangup(call: LiveCall, incident: string, account: string): Promise<void> {
    const { logger, config } = this.options;
    const source = call.sensor === undefined ? undefined : this.options.source(call.sensor);
    const fields = { incident, channel: call.channel, uniqueId: call.uniqueId, destination: call.destination.e164 ?? call.destination.raw };
    if (source?.kind !== 'events' || source.hangup === undefined) {
      const hook = config.fraud.actions.hangupCommand;
      if (hook === undefined) {
        logger.warn({ ...fields, sensor: call.sensor }, 'toll-fraud hangup: the source that saw the call cannot hang it up, and no fraud.actions.hangupCommand is set');
        return;
      }
      // An argv array, never a shell: the call's ids are server-written, and still only ever arguments.
      const argv = [hook.path, ...hook.args, account, call.callId, call.uniqueId ?? '', call.channel ?? ''];
      try {
        const { stdout } = await commandRunner([], 10_000).run(argv);
        logger.warn({ ...fields, command: hook.path, answer: stdout.trim().slice(0, 200) }, 'toll-fraud hangup command ran');
      } catch (error) {
        logger.error({ ...fields, command: hook.path, err: describeError(error) }, 'toll-fraud hangup command failed');
      }
      return;
    }
    try {
      const answer = await source.hangup({ ...(call.channel ? { channel: call.channel } : {}), ...(call.uniqueId ? { uniqueId: call.uniqueId } : {}) });
      logger.warn({ ...fields, answer }, 'toll-fraud hangup sent');
    } catch (error) {
      logger.error({ ...fields, err: describeError(error) }, 'toll-fraud hangup failed');
    }
  }
}
