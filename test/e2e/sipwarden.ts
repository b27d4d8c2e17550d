import { spawn } from 'node:child_process';
import type { Netns } from '../../src/enforcers/testing/netns.js';
import { CLI } from '../helpers.js';
import { runTool } from './run.js';

export interface LogLine {
  msg: string;
  level: number;
  time?: number;
  [key: string]: unknown;
}

export interface NamespacedDaemon {
  pid: number;
  logs: LogLine[];
  stderr(): string;
  /** The first log line matching `match`, waiting up to `timeoutMs`. */
  waitForLog(match: RegExp, timeoutMs?: number): Promise<LogLine>;
  stop(): Promise<void>;
}

/**
 * `sipwarden run` inside `ns`, the way an operator runs it on the PBX: its nft commands reach the namespace's
 * ruleset and nothing else. The namespace prefix (nsenter, or ip netns exec) execs the program, so the child's pid is
 * the daemon's own.
 */
export function startSipwardenIn(ns: Netns, config: string): NamespacedDaemon {
  const child = spawn(ns.prefix[0] as string, [...ns.prefix.slice(1), process.execPath, CLI, 'run', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  const pid = child.pid;
  if (pid === undefined) throw new Error('sipwarden did not start');
  const logs: LogLine[] = [];
  let buffered = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      try {
        logs.push(JSON.parse(line) as LogLine);
      } catch {
        logs.push({ msg: line, level: 0 });
      }
    }
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const running = (): boolean => child.exitCode === null && child.signalCode === null;
  return {
    pid,
    logs,
    stderr: () => stderr,
    async waitForLog(match, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = logs.find((l) => match.test(l.msg));
        if (found) return found;
        if (!running()) throw new Error(`sipwarden exited (${child.exitCode ?? child.signalCode}) before logging ${match}:\n${stderr}`);
        if (Date.now() >= deadline) {
          throw new Error(`sipwarden logged nothing matching ${match} within ${timeoutMs} ms; it logged:\n${logs.map((l) => l.msg).join('\n')}\n${stderr}`);
        }
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    async stop() {
      if (!running()) return;
      child.kill('SIGTERM');
      const killed = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(killed);
    },
  };
}

/** `sipwarden <args>` with the test's config; the store is a file, so this needs no namespace. */
/** Runs the CLI; inside `ns` when given, so that commands asking the kernel (why, doctor) see that namespace. */
export async function sipwardenCli(args: readonly string[], config: string, ns?: Netns): Promise<string> {
  const result = await runTool([...(ns?.prefix ?? []), process.execPath, CLI, ...args, '--config', config], { timeoutMs: 20_000 });
  if (result.code !== 0) throw new Error(`sipwarden ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
  return result.stdout;
}

/** The element of sipwarden's IPv4 ban set holding `address` as nft prints it (with its expiry), or null. */
export async function banElement(ns: Netns, address: string, table = 'sipwarden', set = 'ban4'): Promise<string | null> {
  const result = await runTool([...ns.prefix, 'nft', 'get', 'element', 'inet', table, set, `{ ${address} }`], { timeoutMs: 5000 });
  return result.code === 0 ? result.stdout : null;
}

export async function inBanSet(ns: Netns, address: string): Promise<boolean> {
  return (await banElement(ns, address)) !== null;
}

/** Whether the namespace has sipwarden's table (the table names alone: listing it would list every ban). */
export async function hasTable(ns: Netns, table = 'sipwarden'): Promise<boolean> {
  const result = await runTool([...ns.prefix, 'nft', 'list', 'tables', 'inet'], { timeoutMs: 5000 });
  return result.code === 0 && result.stdout.split('\n').includes(`table inet ${table}`);
}
