import type { Config } from '../config/schema.js';
import type { Clock } from '../core/clock.js';
import { DryRunEnforcer } from './dry-run/index.js';
import type { CommandRunner } from './exec.js';
import type { Enforcer, KernelBan } from './types.js';

export interface EnforcerHooks {
  /** Addresses and prefixes that must never be dropped (the allow list), loaded into the kernel allow sets. */
  allow?: readonly string[];
  /** Trunks and customers, which the kernel flood guard never meters (nftables). */
  guardExempt?: readonly string[];
  onWarning?: (message: string) => void;
  /** Where firewall programs run; tests point it into a network namespace. */
  runner?: CommandRunner;
  /** Runs feed entry timeouts and sizes (default: the system clock). */
  clock?: Clock;
}

/**
 * The enforcer the config asks for. Backends load on demand, so `sipwarden why` never loads the ipset code.
 * `enforce.dryRun` records every decision without enforcing any, so it gets the dry-run enforcer whatever the
 * backend: nothing reaches the kernel. iptables and the command hook have no feed sets (`feeds` is undefined):
 * feeds need nftables or ipset.
 */
export async function createEnforcer(config: Config, hooks: EnforcerHooks = {}): Promise<Enforcer> {
  const enforce = config.enforce;
  const allow = [...(hooks.allow ?? [])];
  const runner = hooks.runner ? { runner: hooks.runner } : {};
  // Feed sets (dry-run, nftables, ipset) run their entry timeouts on the daemon's clock.
  const clock = hooks.clock ? { clock: hooks.clock } : {};
  if (enforce.dryRun || enforce.backend === 'dry-run') return new DryRunEnforcer(enforce.journal, undefined, { allow, ...clock });
  switch (enforce.backend) {
    case 'nftables': {
      const { createNftablesEnforcer, watchKernelBans } = await import('./nftables/index.js');
      const { guard } = enforce;
      const enforcer = createNftablesEnforcer({
        ...runner,
        ...clock,
        table: enforce.table,
        scope: enforce.scope,
        sipPorts: enforce.sipPorts,
        allow,
        guardExempt: [...(hooks.guardExempt ?? [])],
        guard: guard.enabled ? { methods: guard.methods, rate: guard.rate, burst: guard.burst, banSeconds: Math.ceil(guard.ban / 1000) } : null,
      });
      if (!guard.enabled) return enforcer;
      const monitorRunner = hooks.runner ?? (await import('./exec.js')).commandRunner();
      return Object.assign(enforcer, {
        watchKernelBans: (onBan: (ban: KernelBan) => void, signal: AbortSignal) => watchKernelBans(monitorRunner, enforce.table, onBan, signal),
      });
    }
    case 'ipset': {
      const { createIpsetEnforcer } = await import('./ipset/index.js');
      return createIpsetEnforcer({ ...runner, ...clock, forward: enforce.forward, allow });
    }
    case 'iptables': {
      const { createIptablesEnforcer } = await import('./iptables/index.js');
      return createIptablesEnforcer({ ...runner, forward: enforce.forward, allow, ...(hooks.onWarning ? { onWarning: hooks.onWarning } : {}) });
    }
    case 'command': {
      const { createCommandEnforcer } = await import('./command/index.js');
      const command = enforce.command as { path: string; args: string[] };
      return createCommandEnforcer({ ...runner, path: command.path, args: command.args });
    }
  }
}
