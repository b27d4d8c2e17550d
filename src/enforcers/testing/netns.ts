import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { commandRunner, type CommandRunner } from '../exec.js';

/**
 * A network namespace that a test creates and removes: firewall tests run their commands inside it, so the
 * host's own ruleset is never touched. Needs root (as CI runs) and iproute2.
 */
export interface Netns {
  name: string;
  /** Runs commands inside the namespace. */
  runner: CommandRunner;
  /** argv prefix that runs a program inside the namespace. */
  prefix: string[];
  exec(argv: readonly string[]): string;
  destroy(): void;
}

export function createNetns(label = 'sw'): Netns {
  const name = `${label}-${randomBytes(4).toString('hex')}`;
  execFileSync('ip', ['netns', 'add', name]);
  // nsenter enters only the network namespace (about 3 ms); `ip netns exec` also remounts /sys (about 100 ms).
  const prefix = ['nsenter', `--net=/run/netns/${name}`];
  execFileSync('nsenter', [`--net=/run/netns/${name}`, 'ip', 'link', 'set', 'lo', 'up']);
  return {
    name,
    prefix,
    runner: commandRunner(prefix),
    exec(argv) {
      // stderr is kept in the thrown error, not printed: callers often probe for things that may not exist yet.
      return execFileSync(prefix[0] as string, [...prefix.slice(1), ...argv], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    },
    destroy() {
      try {
        execFileSync('ip', ['netns', 'delete', name]);
      } catch {
        // Already gone.
      }
    },
  };
}

/** True when this process may create namespaces (root with iproute2); tests skip with a reason otherwise. */
export function canCreateNetns(): boolean {
  try {
    const ns = createNetns('sw-probe');
    ns.destroy();
    return true;
  } catch {
    return false;
  }
}
