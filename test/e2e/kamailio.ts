import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Netns } from '../../src/enforcers/testing/netns.js';

export interface RunningKamailio {
  pid: number;
  /** Where Kamailio's stderr goes: the file sipwarden follows. */
  log: string;
  text(): string;
  stop(): Promise<void>;
}

/**
 * Kamailio in the foreground inside `ns` (-DD: no daemon, -E: log to stderr, which goes to `dir/kamailio.log`).
 * Everything it writes stays in `dir`: -Y runtime dir, -P pid file, -w working dir. It serves UDP on the given
 * addresses only (-l), which exist only inside the namespace.
 *
 * It runs in its own process group, so stop() reaches the worker processes even if the main one must be killed.
 */
export function startKamailio(ns: Netns, config: string, listen: readonly string[], dir: string): RunningKamailio {
  const log = join(dir, 'kamailio.log');
  const fd = openSync(log, 'a');
  const argv = [
    ...ns.prefix, 'kamailio', '-DD', '-E', '-f', config,
    ...listen.flatMap((address) => ['-l', `udp:${address}:5060`]),
    '-Y', dir, '-P', join(dir, 'kamailio.pid'), '-w', dir,
  ];
  const child: ChildProcess = spawn(argv[0] as string, argv.slice(1), { stdio: ['ignore', fd, fd], detached: true });
  closeSync(fd);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const pid = child.pid;
  if (pid === undefined) throw new Error(`kamailio did not start: ${argv.join(' ')}`);
  return {
    pid,
    log,
    text: () => readFileSync(log, 'utf8'),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      signalGroup(pid, 'SIGTERM');
      const killed = setTimeout(() => signalGroup(pid, 'SIGKILL'), 3000);
      await exited;
      clearTimeout(killed);
    },
  };
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}
