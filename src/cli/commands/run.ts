import { systemClock } from '../../core/clock.js';
import { describeError } from '../../core/errors.js';
import { createLogger } from '../../core/logger.js';
import { Daemon } from '../../daemon/daemon.js';
import { createEnforcer } from '../../enforcers/index.js';
import { AddressList } from '../../policy/address-list.js';
import { configPath, openStore, requireConfig } from '../context.js';

export interface RunOptions {
  config?: string;
  fromStart?: boolean;
}

/** `sipwarden run`: the daemon, until SIGINT or SIGTERM. */
export async function runCommand(options: RunOptions): Promise<void> {
  const config = await requireConfig(options.config);
  const logger = createLogger(config.log.level, config.node);
  const store = await openStore(config);
  const allow = new AddressList('allow', config.allow, (p) => logger.warn({ list: p.source, line: p.line }, p.message));
  const enforcer = await createEnforcer(config, { allow: allow.entries(), onWarning: (message) => logger.warn(message) });
  const daemon = new Daemon({ config, store, logger, clock: systemClock, enforcer, fromStart: options.fromStart ?? false });
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    daemon
      .stop()
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
}
