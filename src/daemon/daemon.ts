import type { Config } from '../config/schema.js';
import type { Clock } from '../core/clock.js';
import { describeError, isSipwardenError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { EnforcementChange, Enforcer, KernelBan } from '../enforcers/types.js';
import { Analyzer } from '../pipeline/analyzer.js';
import { startAuthorizeServer, type AuthorizeServer } from '../fraud/authorize-server.js';
import { supervise } from '../sources/supervisor.js';
import type { SecurityEvent } from '../core/event.js';
import type { SourcePosition } from '../sources/types.js';
import type { Decision, DecisionChange, NewDecision, Store } from '../store/types.js';
import type { Alerter } from '../alerts/alerter.js';
import type { HealthReport } from './health.js';
import type { Metrics } from '../metrics/index.js';
import { FeedManager } from '../feeds/manager.js';
import { createFleetRules, type FleetRules } from '../fleet/index.js';
import { AllowSync } from './allow-sync.js';
import { EventWriter } from './event-writer.js';
import { FraudActions } from './fraud-actions.js';
import { DaemonObserver } from './observer.js';
import { bindSources, parseBatch, type BoundSource } from './sources.js';

export interface DaemonOptions {
  config: Config;
  store: Store;
  logger: Logger;
  clock: Clock;
  /** Always explicit, so no code path (a test above all) can reach a kernel backend by default. */
  enforcer: Enforcer;
  /** Read every source from its start when no position is saved (`run --from-start`). */
  fromStart?: boolean;
  metrics?: Metrics;
  alerter?: Alerter;
  version?: string;
}

const SYNC_MS = 1000;
const VERIFY_MS = 2000;
const SWEEP_MS = 60_000;
const PRUNE_MS = 10 * 60_000;
/** Live-call duration checks (fraud rule A5) and saving changed incidents. */
const FRAUD_TICK_MS = 30_000;
const FRAUD_SAVE_MS = 2000;
const HOTLIST_MS = 60_000;
/** How often the allowlist kept in the store is read (a CLI change, another node's). */
const ALLOW_SYNC_MS = 2000;
/** Fleet mode: how often known-good pairs learned by other nodes are read. */
const KNOWN_GOOD_SYNC_MS = 2000;

/**
 * The daemon: sources -> parsers -> analyzer -> enforcer, with the store behind. Bans reach the enforcer
 * before they are written to the store, because the ban is what the operator is waiting for; a crash in
 * between is repaired by the reconcile at the next start.
 */
export class Daemon {
  readonly analyzer: Analyzer;
  readonly enforcer: Enforcer;
  /** Toll-fraud detection and its actions, when the config has a `fraud:` block. */
  readonly fraud: FraudActions | undefined;
  /** The intelligence feeds (APIBAN, lists), when the config has any. */
  feeds: FeedManager | undefined;
  /** The call-authorisation endpoint, when `fraud.authorize` is configured. */
  authorizeServer: AuthorizeServer | undefined;
  /** Fleet-wide rules (`scope: fleet`), counted with the other nodes in the store. */
  readonly fleetRules: FleetRules | undefined;
  private readonly writer: EventWriter;
  private readonly observer: DaemonObserver;
  /** Bound sources by sensor id, so an action reaches the server that reported the call. */
  private readonly bySensor = new Map<string, BoundSource>();
  private readonly controller = new AbortController();
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly ownDecisions = new Set<number>();
  /** Revocations the fleet watch applied, so the poll does not apply and log them again. */
  private readonly fleetRevoked = new Set<number>();
  private readonly allowSync: AllowSync;
  private decisionCursor = 0;
  private prunedAtWritten = 0;
  private tamperedSince = 0;
  private tamperedLoggedAt = 0;
  private revokedCursor = 0;
  private running: Promise<void>[] = [];
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly options: DaemonOptions) {
    const { config, logger } = options;
    this.fleetRules = createFleetRules(config, options.store, {
      logger, clock: options.clock, decide: (finding, now) => this.analyzer.decide(finding, now), commit: (decisions) => this.serial(() => this.commit(decisions)),
    });
    this.analyzer = new Analyzer(config, {
      ...(this.fleetRules ? { fleet: this.fleetRules } : {}),
      onListProblem: (p) => logger.warn({ list: p.source, line: p.line }, p.message),
      onListReload: (file, size) => {
        logger.info({ list: file, entries: size }, 'address list reloaded');
        void this.serial(() => this.allowSync.push());
      },
      onLearn: (ip, account, at) => void this.remember({ ip, account, at }),
      onBudgetExhausted: (at, used) => {
        logger.error({ used, at: new Date(at).toISOString() }, 'ban budget for spoofable evidence exhausted: findings are reported, not banned (possible forged-source flood)');
        this.observer.budgetTripped(at, used, config.budget.spoofable.per);
      },
    });
    this.enforcer = options.enforcer;
    this.allowSync = new AllowSync(this.analyzer.allow, options.store, options.enforcer, logger);
    this.observer = new DaemonObserver({
      node: config.node ?? 'sipwarden', version: options.version ?? '0.0.0', enforcer: options.enforcer.name, clock: options.clock,
      ...(options.metrics ? { metrics: options.metrics } : {}), ...(options.alerter ? { alerter: options.alerter } : {}),
    });
    this.writer = new EventWriter(options.store, logger);
    const fraud = config.fraud;
    this.fraud = fraud === undefined ? undefined : new FraudActions({
      config: { ...config, fraud }, store: options.store, logger, clock: options.clock, policy: this.analyzer.policy, observer: this.observer,
      source: (sensor) => this.bySensor.get(sensor),
    });
  }

  /** Loads state, reconciles the enforcer and starts the sources. Resolves once everything is running. */
  async start(): Promise<void> {
    const { config, store, logger, clock } = this.options;
    const now = clock.now();
    await this.enforcer.init();
    const active = await store.activeBans(now);
    for (const ban of active) {
      this.analyzer.policy.active.add({ target: ban.target, decisionId: ban.id, expiresAt: ban.expiresAt ?? null });
    }
    await this.enforcer.reconcile(active.map((b) => ({ target: b.target, expiresAt: b.expiresAt ?? null, decisionId: b.id })), now);
    // Escalation history, a page at a time so a long history never sits in memory at once.
    for (let page = await store.decisionsAfter(0, 10_000); page.length > 0; page = await store.decisionsAfter(this.decisionCursor, 10_000)) {
      for (const d of page) {
        // A revoked ban was a mistake, not an offence: it does not make the next ban longer (as store.countBans).
        if (d.action === 'ban' && !d.dryRun && d.revokedAt === undefined && d.at > now - config.escalation.window) {
          this.analyzer.policy.recordBan(d.target, d.at);
        }
        this.decisionCursor = Math.max(this.decisionCursor, d.id);
      }
    }
    for (const pair of await store.knownGood({ since: now - config['known-good'].remember })) {
      this.analyzer.knownGood.remember(pair.ip, pair.account, pair.lastSeen);
    }
    await this.warmUp(now);
    await this.allowSync.load();
    this.revokedCursor = now;
    this.analyzer.allow.watch();
    this.analyzer.trunks.watch();
    logger.info({ bans: active.length, enforcer: this.enforcer.name, knownGood: this.analyzer.knownGood.size }, 'state restored');

    const sources = await bindSources(config, store, this.options.fromStart ?? false, this.options.logger);
    for (const bound of sources) this.bySensor.set(bound.sensor, bound);
    for (const bound of sources) {
      const { signal } = this.controller;
      this.observer.sourceStarted(bound.id, bound.kind === 'lines' ? bound.parser.format : bound.format);
      const onFailure = (detail: string) => this.observer.sourceFailed(bound.id, detail);
      this.running.push(supervise(bound.id, (s) => this.consume(bound, s), { signal, logger, onFailure }));
      logger.info({ source: bound.id, format: bound.kind === 'lines' ? bound.parser.format : bound.format }, 'source started');
    }
    if (config.feeds.length > 0) {
      const feeds = new FeedManager({
        feeds: config.feeds, store, enforcer: this.enforcer, allow: this.analyzer.allow, logger, clock,
        onFeedDown: (id, error) => this.observer.feedDown(id, error),
      });
      this.feeds = feeds;
      this.observer.feedStatus = () => feeds.status();
      // Not awaited: the first sync waits on the network, and bans must not wait on it.
      this.running.push(feeds.start(this.controller.signal).catch((error: unknown) => logger.error({ err: describeError(error) }, 'feeds stopped')));
    }
    if (this.enforcer.watchKernelBans) {
      const watch = this.enforcer.watchKernelBans.bind(this.enforcer);
      const { signal } = this.controller;
      this.running.push(supervise('kernel-guard', (s) => watch((ban) => void this.serial(() => this.recordKernelBan(ban)), s), { signal, logger }));
    }
    if (store.watchDecisions) {
      // Fleet mode: another node's ban is in this kernel as soon as it commits, not at the next poll.
      const onError = (error: Error) => logger.warn({ err: describeError(error) }, 'fleet: decision watch lost its connection; reconnecting');
      this.running.push(store.watchDecisions((change) => this.serial(() => this.fleetChange(change)), this.controller.signal, onError));
      // Known-good pairs other nodes learn: a phone that registered on pbx2 is known-good when it fails on pbx1.
      let since = now;
      this.every(KNOWN_GOOD_SYNC_MS, async () => {
        const from = since - KNOWN_GOOD_SYNC_MS;
        since = clock.now();
        for (const pair of await store.knownGood({ since: from })) this.analyzer.knownGood.remember(pair.ip, pair.account, pair.lastSeen);
      });
    }
    this.fleetRules?.start();
    this.every(SYNC_MS, () => this.syncFromStore());
    this.every(ALLOW_SYNC_MS, () => this.allowSync.load());
    this.every(SYNC_MS, () => this.expire());
    this.every(VERIFY_MS, () => this.verify());
    this.every(SWEEP_MS, async () => this.analyzer.sweep(clock.now()));
    this.every(PRUNE_MS, () => this.prune());
    if (this.fraud) {
      const fraud = this.fraud;
      await fraud.refreshHotlist();
      this.every(FRAUD_TICK_MS, async () => fraud.tick(clock.now()));
      this.every(FRAUD_SAVE_MS, () => fraud.saveIncidents());
      this.every(HOTLIST_MS, () => fraud.refreshHotlist());
      const authorize = config.fraud?.authorize;
      if (authorize) {
        this.authorizeServer = await startAuthorizeServer({
          listen: authorize.listen, token: authorize.token, failMode: authorize.failMode, maxLagMs: authorize.maxLag, logger,
          decide: (query) => fraud.monitor.authorize(query, clock.now()),
        });
        const { host, port } = this.authorizeServer.address;
        logger.info({ host, port, failMode: authorize.failMode }, `call authorisation listening on ${host.includes(':') ? `[${host}]` : host}:${port}`);
      }
    }
    // A flood writes far more than usual: prune as soon as a tenth of the event budget was written since.
    this.every(SYNC_MS, async () => {
      if (this.writer.written - this.prunedAtWritten >= config.store.retention.maxEvents / 10) await this.prune();
    });
  }

  /**
   * Feeds the detectors the stored events still inside the longest rule window, so a burst that straddles a
   * restart is counted once, whole: sources resume after the stored position, and these events are the ones
   * before it. Findings are discarded: what they would decide was decided before the restart.
   */
  private async warmUp(now: number): Promise<void> {
    const longest = Math.max(0, ...this.analyzer.engine.rules.map((r) => r.windowMs));
    if (longest === 0) return;
    const recent = await this.options.store.events({ since: now - longest, limit: 100_000 });
    for (let i = recent.length - 1; i >= 0; i--) {
      const event = recent[i]!;
      if (event.ip && event.account && this.analyzer.knownGood.lastSuccess(event.ip, event.account, event.at) !== undefined) continue;
      this.analyzer.engine.observe(event);
    }
    if (recent.length > 0) this.options.logger.info({ events: recent.length }, 'detectors warmed up from stored events');
  }

  private every(ms: number, task: () => Promise<void>): void {
    const timer = setInterval(() => {
      this.serial(task);
    }, ms);
    timer.unref();
    this.timers.push(timer);
  }

  /** Runs enforcer and store work one task at a time, in order, so bans and unbans never race. */
  private serial(task: () => Promise<void>): Promise<void> {
    this.queue = this.queue.then(task).catch((error: unknown) => {
      // A fleet store outage is logged once, when it starts and when it ends; the tasks retry on their next tick.
      if (isSipwardenError(error, 'SW_ERR_STORE_OFFLINE')) return;
      this.options.logger.error({ err: describeError(error) }, 'daemon task failed');
    });
    return this.queue;
  }

  private async consume(bound: BoundSource, signal: AbortSignal): Promise<void> {
    const { clock } = this.options;
    if (bound.kind === 'events') {
      for await (const events of bound.events(signal)) {
        this.observer.eventsSeen(bound.id, events);
        await this.handle(events, clock.now());
      }
      return;
    }
    for await (const batch of bound.source.records(signal)) {
      const now = clock.now();
      const events = parseBatch(bound, batch, now);
      this.observer.eventsSeen(bound.id, events);
      await this.handle(events, now, batch.position);
    }
  }

  private async handle(events: readonly SecurityEvent[], now: number, position?: SourcePosition): Promise<void> {
    const decisions: NewDecision[] = [];
    for (const event of events) {
      if (event.kind === 'tampered') this.noteTampered(event.candidates ?? [], now);
      const outcome = this.analyzer.process(event, now);
      for (const decision of outcome.decisions) decisions.push(decision);
      if (this.fraud) {
        const actions = this.fraud.observe(event, now);
        for (const decision of actions.decisions) decisions.push(decision);
        for (const hangup of actions.hangups) void this.serial(hangup);
      }
    }
    this.writer.add(events, position);
    if (decisions.length > 0) await this.serial(() => this.commit(decisions));
  }

  /** Injection attempts are logged (at most every 10 s, with a count), never attributed. */
  private noteTampered(candidates: readonly string[], now: number): void {
    this.tamperedSince++;
    if (now - this.tamperedLoggedAt < 10_000) return;
    this.options.logger.warn(
      { lines: this.tamperedSince, candidates: candidates.slice(0, 5) },
      'tampered log line: an address was injected into a caller-controlled field; not attributed to anyone',
    );
    this.tamperedLoggedAt = now;
    this.tamperedSince = 0;
  }

  private async remember(pair: { ip: string; account: string; at: number }): Promise<void> {
    try {
      await this.options.store.rememberSuccess(pair.ip, pair.account, pair.at);
    } catch (error) {
      this.options.logger.error({ err: describeError(error) }, 'could not store a known-good pair');
    }
  }

  /** Enforces, then records, a batch of decisions. */
  private async commit(decisions: readonly NewDecision[]): Promise<void> {
    const { store, logger, clock } = this.options;
    const bans = decisions.filter((d) => d.action === 'ban' && !d.dryRun);
    if (bans.length > 0) {
      const changes: EnforcementChange[] = bans.map((d) => ({ op: 'ban', target: d.target, expiresAt: d.expiresAt ?? null }));
      try {
        await this.enforcer.apply(changes, clock.now());
      } catch (error) {
        logger.error({ err: describeError(error) }, 'enforcer failed to apply bans');
        this.observer.enforcerFailed(`applying ${bans.length} bans: ${describeError(error)}`);
      }
    }
    // One transaction for the whole batch: in fleet mode one commit, so a flood's bans reach the other nodes together.
    const stored = await store.addDecisions(decisions);
    for (const d of stored) {
      this.ownDecisions.add(d.id);
      this.logDecision(d);
    }
    this.observer.decisionsStored(stored, (ip) => this.banLookup(ip));
  }

  /** Recent logins and the trunk-list entry of an address, for the alert on a ban of a customer. */
  private banLookup(ip: string): { knownGood: string[]; trunk?: string } {
    const trunk = this.analyzer.trunks.match(ip);
    return { knownGood: this.analyzer.knownGood.accountsFor(ip, this.options.clock.now()), ...(trunk ? { trunk } : {}) };
  }

  /** Bans in force, enforcer and source health: for the API and the dashboard. */
  health(): HealthReport {
    return this.observer.health(this.analyzer.policy.active.size);
  }

  /**
   * A decision made while the fleet store was offline (a provisional id) is now stored under `id`: the poll and
   * the watch see it under that id and must know it as this node's own, enforced already.
   */
  decisionStored(provisionalId: number, id: number): void {
    if (this.ownDecisions.delete(provisionalId)) this.ownDecisions.add(id);
  }

  /** Enforces what the API just stored now, instead of at the next poll. */
  syncNow(): void {
    void this.serial(() => this.syncFromStore());
  }

  /** The kernel flood guard banned a source by itself: record and explain it like any other decision. */
  private async recordKernelBan(ban: KernelBan): Promise<void> {
    const { store, clock, config } = this.options;
    const now = clock.now();
    // The watcher reports what is in the guard sets; after a restart that includes bans recorded before it.
    if (this.analyzer.policy.active.covering(ban.ip, now)) return;
    const { guard } = config.enforce;
    const event = {
      at: now, kind: 'flood' as const, ip: ban.ip, server: 'sipwarden' as const, evidence: 'spoofable' as const,
      sensor: `${config.node}/kernel-guard`, reason: `over ${guard.rate}/s ${guard.methods.join('/')}`, raw: `kernel ban in set ${ban.set}`,
    };
    this.writer.add([event]);
    this.analyzer.policy.active.add({ target: ban.ip, expiresAt: ban.expiresAt });
    const stored = await store.addDecision({
      at: now, target: ban.ip, targetType: 'ip', action: 'ban', origin: 'rule', rule: 'kernel-guard',
      reason: `kernel flood guard: more than ${guard.rate} ${guard.methods.join('/')} per second (burst ${guard.burst})`,
      durationMs: ban.expiresAt === null ? null : ban.expiresAt - now, expiresAt: ban.expiresAt, level: 0, evidence: 'spoofable',
      eventCount: 1, firstEventAt: now, lastEventAt: now, dryRun: false, sensor: `${config.node}/kernel-guard`,
      policy: [{ check: 'kernel', result: 'info', detail: `banned by the kernel in set ${ban.set}; the allow list bypasses the guard` }],
    });
    this.ownDecisions.add(stored.id);
    this.logDecision(stored);
    // The kernel guard sees only packet rates: a trunk or a known-good phone behind it can trip it, and that alerts.
    this.observer.decisionsStored([stored], (ip) => this.banLookup(ip));
  }

  private logDecision(d: Decision): void {
    const fields = { decision: d.id, target: d.target, rule: d.rule, evidence: d.evidence, events: d.eventCount };
    if (d.action === 'ban') {
      const until = d.expiresAt ? new Date(d.expiresAt).toISOString() : 'never';
      this.options.logger.warn({ ...fields, until, escalation: d.level, dryRun: d.dryRun }, `${d.dryRun ? 'would ban' : 'banned'} ${d.target}: ${d.reason}`);
    } else {
      this.options.logger.info(fields, `reported ${d.target}: ${d.reason}`);
    }
  }

  /** Picks up what the CLI (or another node) wrote: manual bans and revocations. */
  private async syncFromStore(): Promise<void> {
    const { store, clock } = this.options;
    const now = clock.now();
    const changes: EnforcementChange[] = [];
    for (const d of await store.decisionsAfter(this.decisionCursor, 10_000)) {
      this.decisionCursor = Math.max(this.decisionCursor, d.id);
      if (this.ownDecisions.delete(d.id) || d.action !== 'ban' || d.dryRun || d.revokedAt !== undefined) continue;
      if (d.expiresAt != null && d.expiresAt <= now) continue;
      this.analyzer.policy.active.add({ target: d.target, decisionId: d.id, expiresAt: d.expiresAt ?? null });
      changes.push({ op: 'ban', target: d.target, expiresAt: d.expiresAt ?? null, decisionId: d.id });
      this.options.logger.warn({ decision: d.id, target: d.target, actor: d.actor }, `banned ${d.target} (${d.origin}): ${d.reason}`);
    }
    const since = this.revokedCursor;
    this.revokedCursor = now;
    for (const d of await store.revokedSince(since - SYNC_MS)) {
      if (d.action !== 'ban' || d.dryRun || this.fleetRevoked.has(d.id)) continue;
      this.analyzer.policy.active.remove(d.target);
      changes.push({ op: 'unban', target: d.target, decisionId: d.id });
      this.options.logger.warn({ decision: d.id, target: d.target, by: d.revokedBy }, `unbanned ${d.target}: ${d.revokeReason ?? ''}`);
    }
    if (changes.length > 0) await this.enforcer.apply(changes, now);
  }

  /** A decision of any node (fleet mode), or every active ban after a (re)connect. */
  private async fleetChange(change: DecisionChange): Promise<void> {
    const { logger, clock } = this.options;
    const now = clock.now();
    if (change.type === 'resync') {
      const active = change.active.filter((d) => !d.dryRun);
      // The fleet's list is complete (kernel-guard bans are stored too): bans lifted while away go.
      this.analyzer.policy.active.clear();
      for (const d of active) this.analyzer.policy.active.add({ target: d.target, decisionId: d.id, expiresAt: d.expiresAt ?? null });
      await this.enforcer.reconcile(active.map((d) => ({ target: d.target, expiresAt: d.expiresAt ?? null, decisionId: d.id })), now);
      logger.info({ bans: active.length }, 'fleet: enforced every active ban of the fleet');
      return;
    }
    const d = change.decision;
    if (d.action !== 'ban' || d.dryRun) return;
    if (d.revokedAt !== undefined) {
      if (this.fleetRevoked.has(d.id)) return;
      if (this.fleetRevoked.size >= 10_000) this.fleetRevoked.clear();
      this.fleetRevoked.add(d.id);
      this.analyzer.policy.active.remove(d.target);
      await this.enforcer.apply([{ op: 'unban', target: d.target, decisionId: d.id }], now);
      logger.warn({ decision: d.id, target: d.target, by: d.revokedBy, sensor: d.sensor }, `unbanned ${d.target} (fleet): ${d.revokeReason ?? ''}`);
      return;
    }
    // Our own decisions are enforced already; the poll (syncFromStore) skips what the watch applied.
    if (this.ownDecisions.has(d.id) || (d.expiresAt != null && d.expiresAt <= now)) return;
    this.ownDecisions.add(d.id);
    this.analyzer.policy.active.add({ target: d.target, decisionId: d.id, expiresAt: d.expiresAt ?? null });
    await this.enforcer.apply([{ op: 'ban', target: d.target, expiresAt: d.expiresAt ?? null, decisionId: d.id }], now);
    logger.warn({ decision: d.id, target: d.target, sensor: d.sensor, actor: d.actor }, `banned ${d.target} (fleet, ${d.rule ?? d.origin}): ${d.reason}`);
  }

  private async expire(): Promise<void> {
    const now = this.options.clock.now();
    const gone = this.analyzer.policy.active.expire(now);
    this.observer.metrics?.setActiveBans(this.analyzer.policy.active.size);
    if (gone.length > 0) await this.enforcer.apply(gone.map((b) => ({ op: 'unban' as const, target: b.target })), now);
  }

  private async verify(): Promise<void> {
    let result;
    try {
      result = await this.enforcer.verify();
    } catch (error) {
      this.observer.enforcerFailed(`verify: ${describeError(error)}`);
      throw error;
    }
    if (!result.ok) this.observer.enforcerFailed(result.detail);
    else this.observer.enforcerChecked(result.repaired ? result.detail : undefined);
    if (!result.repaired) return;
    const now = this.options.clock.now();
    const active = await this.options.store.activeBans(now);
    await this.enforcer.reconcile(active.map((b) => ({ target: b.target, expiresAt: b.expiresAt ?? null, decisionId: b.id })), now);
    this.options.logger.warn({ bans: active.length, detail: result.detail }, 'enforcer objects were missing; restored');
  }

  private async prune(): Promise<void> {
    const { store, config, clock, logger } = this.options;
    this.prunedAtWritten = this.writer.written;
    const removed = await store.prune(clock.now(), { maxAgeMs: config.store.retention.maxAge, maxEvents: config.store.retention.maxEvents });
    if (removed > 0) logger.info({ removed }, 'old events pruned');
  }

  /** Stops sources, flushes events and positions, and closes the enforcer. The store stays open (caller owns it). */
  async stop(): Promise<void> {
    this.controller.abort();
    await this.authorizeServer?.close();
    for (const timer of this.timers) clearInterval(timer);
    await Promise.allSettled(this.running);
    await this.fleetRules?.stop();
    await this.queue;
    await this.writer.flush();
    await this.fraud?.saveIncidents().catch((error: unknown) => this.options.logger.error({ err: describeError(error) }, 'could not save fraud incidents'));
    this.analyzer.close();
    await this.enforcer.close();
    this.options.logger.info({ stored: this.writer.written, dropped: this.writer.dropped }, 'stopped');
  }
}
