import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The compiled CLI next to this compiled test (dist/test -> dist/src/cli/main.js). */
export const CLI = join(dirname(fileURLToPath(import.meta.url)), '../src/cli/main.js');

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function cli(args: string[], env: NodeJS.ProcessEnv = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export interface RunningDaemon {
  child: ChildProcess;
  /** Every JSON log line so far. */
  logs: { msg: string; level: number; [key: string]: unknown }[];
  waitForLog(match: RegExp, timeoutMs?: number): Promise<{ msg: string }>;
  stop(): Promise<number | null>;
}

export function startDaemon(config: string): RunningDaemon {
  const child = spawn(process.execPath, [CLI, 'run', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: RunningDaemon['logs'] = [];
  let buffered = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      try {
        logs.push(JSON.parse(line));
      } catch {
        logs.push({ msg: line, level: 0 });
      }
    }
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    logs,
    async waitForLog(match, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const found = logs.find((l) => match.test(l.msg));
        if (found) return found;
        if (child.exitCode !== null) throw new Error(`daemon exited (${child.exitCode}): ${stderr}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error(`no log line matching ${match} within ${timeoutMs} ms; got:\n${logs.map((l) => l.msg).join('\n')}\n${stderr}`);
    },
    async stop() {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

export async function waitFor<T>(probe: () => T | undefined | null | false, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = probe();
    if (value) return value;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const pad = (n: number): string => String(n).padStart(2, '0');

/** An Asterisk log timestamp in local time (the configs of these tests leave `timezone` at local). */
export function asteriskStamp(d = new Date()): string {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** A failed registration (chan_sip): the default bruteforce rule bans on five within a minute. */
export const wrongPasswordLine = (ip: string, account = '1001'): string =>
  `[${asteriskStamp()}] NOTICE[1638] chan_sip.c: Registration from '<sip:${account}@192.0.2.10>' failed for '${ip}:5060' - Wrong password\n`;

/** What a dry-run enforcer journalled (`enforce.journal`), in order; empty until the file exists. */
export function dryRunJournal(path: string): { op: string; target?: string; count?: number }[] {
  try {
    return readFileSync(path, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { op: string; target?: string; count?: number });
  } catch {
    return [];
  }
}

/** A log timestamp in UTC (configs with `timezone: UTC`). */
export const utcStamp = (d: Date): string =>
  `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;

/** An Asterisk Master.csv line (UTC times) for a call of `account` to `dst` that ended now after `seconds`, answered 5 s in. */
export function cdrLine(account: string, dst: string, seconds: number, uniqueId: string): string {
  const end = new Date();
  const start = new Date(end.getTime() - seconds * 1000);
  const answer = new Date(start.getTime() + 5000);
  return `"","${account}","${dst}","from-internal","""Desk"" <${account}>","PJSIP/${account}-0000000${uniqueId.slice(-1)}","PJSIP/trunk-00000001","Dial","PJSIP/${dst}@trunk","${utcStamp(start)}","${utcStamp(answer)}","${utcStamp(end)}",${seconds},${seconds - 5},"ANSWERED","DOCUMENTATION","${uniqueId}"\n`;
}
