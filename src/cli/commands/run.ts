import { fileURLToPath } from 'node:url';
import { systemClock } from '../../core/clock.js';
import { describeError } from '../../core/errors.js';
import { createLogger } from '../../core/logger.js';
import { VERSION } from '../../core/version.js';
import { Daemon } from '../../daemon/daemon.js';
import { createEnforcer } from '../../enforcers/index.js';
import { AddressList } from '../../policy/address-list.js';
import { openResilientStore } from '../../store/resilient/index.js';
import { configPath, openStore, requireConfig } from '../context.js';

export interface RunOptions {
  config?: string;
  fromStart?: boolean;
}

/** The built console, next to the compiled code: dist/src/cli/commands -> dist/web. */
const WEB_ROOT = fileURLToPath(new URL('../../../web/', import.meta.url));

/** `sipwarden run`: the daemon, until SIGINT or SIGTERM. */
export async function runCommand(options: RunOptions): Promise<void> {
  const config = await requireConfig(options.config);
  const logger = createLogger(config.log.level, config.node);
  const { Metrics, timedEnforcer, timedStore } = await import('../../metrics/index.js');
  const metrics = new Metrics({
    version: VERSION, clock: systemClock, sources: config.sources.map((s) => s.id),
    rules: [...Object.keys(config.rules), 'fraud', 'kernel-guard'],
    alertChannels: [...(config.alerts?.email ? ['email'] : []), ...(config.alerts?.webhooks ?? []).map((_, i) => `webhook[${i}]`)],
  });
  // Fleet mode: a PostgreSQL outage queues writes (decisions to the spool) instead of failing them.
  const fleet = config.store.postgres === undefined ? undefined : await openResilientStore({
    spoolPath: config.store.spool, logger, clock: systemClock, open: () => openStore(config),
  });
  const store = timedStore(fleet ?? (await openStore(config)), metrics);
  const allow = new AddressList('allow', config.allow, (p) => logger.warn({ list: p.source, line: p.line }, p.message));
  const trunks = new AddressList('trunks', config.trunks, (p) => logger.warn({ list: p.source, line: p.line }, p.message));
  const enforcer = timedEnforcer(
    await createEnforcer(config, { allow: allow.entries(), guardExempt: trunks.entries(), onWarning: (message) => logger.warn(message) }),
    metrics,
  );
  const alerter = config.alerts ? new (await import('../../alerts/alerter.js')).Alerter(config.alerts, {
    logger, clock: systemClock, onOutcome: (kind, channel, outcome) => metrics.alert(kind, channel, outcome),
  }) : undefined;
  const daemon = new Daemon({
    config, store, logger, clock: systemClock, enforcer, fromStart: options.fromStart ?? false, metrics, version: VERSION, ...(alerter ? { alerter } : {}),
  });
  fleet?.onReplayed((provisionalId, id) => daemon.decisionStored(provisionalId, id));
  let api: { close(): Promise<void> } | undefined;
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    Promise.resolve(api?.close())
      .then(() => daemon.stop())
      .then(() => alerter?.close())
      .then(() => store.close())
      .catch((error: unknown) => logger.error({ err: describeError(error) }, 'error while stopping'))
      .finally(() => {
        logger.flush();
        process.exit(0);
      });
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  logger.info({ config: configPath(options.config), sources: config.sources.length, rules: Object.keys(config.rules) }, 'sipwarden starting');
  await daemon.start();
  // The daemon's own timers do not hold the process (so tests and the CLI can stop cleanly): this does, until a
  // signal, even when nothing else (a source, the API) keeps the event loop busy.
  setInterval(() => undefined, 3_600_000);
  if (config.api) {
    const { startApiServer } = await import('../../api/server.js');
    const { loadGeo } = await import('../../geo/index.js');
    let geo;
    try {
      geo = config.geo ? loadGeo(config.geo) : undefined;
    } catch {
      geo = undefined; // the daemon has logged why
    }
    const server = await startApiServer({
      config, store, logger, clock: systemClock, metrics, webRoot: WEB_ROOT, health: () => daemon.health(), onDecisionsChanged: () => daemon.syncNow(),
      ...(geo ? { geo } : {}),
    });
    api = server;
    const { host, port } = server.address;
    logger.info({ host, port }, `API and console listening on http://${host.includes(':') ? `[${host}]` : host}:${port}/`);
  }
}
