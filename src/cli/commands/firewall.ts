import { createEnforcer } from '../../enforcers/index.js';
import { AddressList } from '../../policy/address-list.js';
import { requireConfig } from '../context.js';

export interface FirewallOptions {
  config?: string;
}

/** `sipwarden guard`: the kernel flood-guard ruleset for the config, as nft text, to read or load by hand. */
export async function guardCommand(options: FirewallOptions): Promise<void> {
  const config = await requireConfig(options.config);
  const { guardRuleset } = await import('../../enforcers/nftables/index.js');
  const { guard, table, sipPorts } = config.enforce;
  const text = guardRuleset({
    table,
    sipPorts,
    guard: { methods: guard.methods, rate: guard.rate, burst: guard.burst, banSeconds: Math.ceil(guard.ban / 1000) },
  });
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  if (!guard.enabled) process.stderr.write('# enforce.guard.enabled is false: the daemon does not install this; set it to true to.\n');
}

/**
 * `sipwarden stop`: removes what sipwarden put in the kernel (its own table, or its chain and sets) and
 * nothing else. Stop the daemon first: a running daemon restores its objects within 5 seconds.
 */
export async function stopCommand(options: FirewallOptions): Promise<void> {
  const config = await requireConfig(options.config);
  const enforcer = await createEnforcer(config, { allow: new AddressList('allow', config.allow).entries() });
  await enforcer.uninstall();
  await enforcer.close();
  process.stdout.write(`Removed sipwarden's ${enforcer.name} objects; other rules were not touched.\n`);
  process.stdout.write('If the daemon is still running it restores them within 5 s: stop it first (systemctl stop sipwarden).\n');
}
