import { formatCidr, parseCidr } from '../../core/ip.js';
import { swError } from '../../core/errors.js';
import { actorName, openStore, requireConfig, requireReason } from '../context.js';
import { table, when } from '../format.js';

export interface AllowOptions {
  config?: string;
  reason?: string;
  actor?: string;
  json?: boolean;
}

function cidrOf(text: string): string {
  try {
    return formatCidr(parseCidr(text));
  } catch (error) {
    throw swError('SW_ERR_ARGUMENT', `"${text}" is not an IPv4/IPv6 address or prefix`, error);
  }
}

/**
 * `sipwarden allow add`: an allowlist entry kept in the store. Every daemon on the store (every node of a fleet)
 * loads it within seconds, into its policy and its kernel allow sets; the config's `allow:` stays as it is.
 */
export async function allowAddCommand(text: string, options: AllowOptions): Promise<void> {
  const cidr = cidrOf(text);
  const reason = requireReason(options.reason, 'allow add');
  const actor = actorName(options.actor);
  const store = await openStore(await requireConfig(options.config));
  try {
    const now = Date.now();
    await store.addSharedAllow({ cidr, reason, actor, at: now });
    await store.audit({ at: now, actor, action: 'allow-add', target: cidr, reason });
    process.stdout.write(`${cidr} is allowlisted: never banned, never dropped by a feed (the daemons load it within 2 s).\n`);
  } finally {
    await store.close();
  }
}

export async function allowRemoveCommand(text: string, options: AllowOptions): Promise<void> {
  const cidr = cidrOf(text);
  const reason = requireReason(options.reason, 'allow remove');
  const actor = actorName(options.actor);
  const store = await openStore(await requireConfig(options.config));
  try {
    const now = Date.now();
    if (!(await store.removeSharedAllow(cidr))) {
      process.stdout.write(`${cidr} is not in the shared allowlist (entries of the config's allow: are edited there).\n`);
      process.exitCode = 1;
      return;
    }
    await store.audit({ at: now, actor, action: 'allow-remove', target: cidr, reason });
    process.stdout.write(`${cidr} removed from the shared allowlist.\n`);
  } finally {
    await store.close();
  }
}

export async function allowListCommand(options: AllowOptions): Promise<void> {
  const config = await requireConfig(options.config);
  const store = await openStore(config);
  try {
    const shared = await store.sharedAllow();
    if (options.json) {
      process.stdout.write(`${JSON.stringify({ config: config.allow, shared })}\n`);
      return;
    }
    process.stdout.write(`From the config (allow:): ${config.allow.join(', ') || 'none'}\n`);
    if (shared.length === 0) {
      process.stdout.write('Shared (store): none. Add one: sipwarden allow add <ip|cidr> --reason "..."\n');
      return;
    }
    const rows = shared.map((e) => [e.cidr, when(e.at), e.actor, e.reason]);
    process.stdout.write(`Shared (store):\n${table([['ENTRY', 'ADDED', 'BY', 'REASON'], ...rows])}\n`);
  } finally {
    await store.close();
  }
}
