import { execFileSync } from 'node:child_process';
import { commandRunner } from '../exec.js';
import { canCreateNetns, createNetns, type Netns } from '../testing/netns.js';

/**
 * Test support for the kernel backends: one fresh namespace per enforcer the contract opens, all removed by
 * `destroyAll` in an `after` hook. `latest` is the namespace a sabotage acts on.
 *
 * Commands enter the namespace with `nsenter --net` rather than `ip netns exec`: the latter also sets up a mount
 * namespace and remounts /sys for every call (about 100 ms here), which iptables and ipset do not need.
 */
export class NetnsPool {
  private readonly all: Netns[] = [];

  /** Why kernel tests cannot run here, or undefined when they can. */
  static skipReason(): string | undefined {
    if (process.getuid?.() !== 0) return 'needs root to create network namespaces';
    return canCreateNetns() ? undefined : 'cannot create network namespaces (ip netns add failed)';
  }

  constructor(private readonly label: string) {}

  open(): Netns {
    const created = createNetns(this.label);
    const prefix = ['nsenter', `--net=/run/netns/${created.name}`];
    const ns: Netns = {
      ...created,
      prefix,
      runner: commandRunner(prefix),
      exec: (argv) => execFileSync('nsenter', [...prefix.slice(1), ...argv], { encoding: 'utf8' }),
    };
    this.all.push(ns);
    return ns;
  }

  get latest(): Netns {
    const ns = this.all.at(-1);
    if (!ns) throw new Error('no namespace opened yet');
    return ns;
  }

  destroyAll(): void {
    for (const ns of this.all.splice(0)) ns.destroy();
  }
}
