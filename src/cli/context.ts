import { existsSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { defaultConfigSnapshot } from '../config/defaults.js';
import type { Config } from '../config/schema.js';
import { swError } from '../core/errors.js';
import type { Store } from '../store/types.js';

const DEFAULT_CONFIG_PATH = '/etc/sipwarden/sipwarden.yaml';

/** The config file a command uses: --config, then $SIPWARDEN_CONFIG, then /etc/sipwarden/sipwarden.yaml. */
export function configPath(option: string | undefined): string {
  return option ?? process.env.SIPWARDEN_CONFIG ?? DEFAULT_CONFIG_PATH;
}

export async function requireConfig(option: string | undefined): Promise<Config> {
  const { loadConfig } = await import('../config/load.js');
  return loadConfig(configPath(option));
}

/** For parse/test: the given config, or the built-in defaults when none is given and none is installed. */
export async function optionalConfig(option: string | undefined): Promise<Config> {
  const path = configPath(option);
  if (option === undefined && process.env.SIPWARDEN_CONFIG === undefined && !existsSync(path)) {
    const snapshot = defaultConfigSnapshot();
    if (snapshot) return snapshot;
    return (await import('../config/load.js')).defaultConfig();
  }
  return requireConfig(option);
}

/** The configured store: PostgreSQL (fleet mode) when store.postgres is set, else the SQLite file. */
export async function openStore(config: Config): Promise<Store> {
  if (config.store.postgres !== undefined) {
    const { openPostgresStore } = await import('../store/postgres/index.js');
    return openPostgresStore(config.store.postgres);
  }
  const { openSqliteStore } = await import('../store/sqlite/index.js');
  return openSqliteStore(config.store.sqlite);
}

/** The store as messages name it: the SQLite path, or the PostgreSQL URL without its password. */
export async function storeLabel(config: Config): Promise<string> {
  if (config.store.postgres === undefined) return config.store.sqlite;
  const { redactPostgresUrl } = await import('../store/postgres/index.js');
  try {
    return redactPostgresUrl(config.store.postgres);
  } catch {
    return 'store.postgres';
  }
}

/** Who made a manual change, for the audit trail: --actor, else the invoking (sudo) user at this host. */
export function actorName(option: string | undefined): string {
  if (option) return option;
  const user = process.env.SUDO_USER ?? safeUser();
  return `${user}@${hostname().split('.')[0]}`;
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

export function requireReason(reason: string | undefined, command: string): string {
  if (!reason || reason.trim() === '') throw swError('SW_ERR_ARGUMENT', `${command} needs --reason "..." (it goes into the audit trail)`);
  return reason.trim();
}
