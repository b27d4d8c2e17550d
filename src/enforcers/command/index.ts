import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { normalizeIp, type Cidr } from '../../core/ip.js';
import { swError } from '../../core/errors.js';
import { commandRunner, type CommandRunner } from '../exec.js';
import { BanTable, batchError, deadlineOf, ExpiryTimer, monotonicNow, parseBanTarget, SerialQueue } from '../ban-table.js';
import type { BanEntry, BanState, EnforcementChange, Enforcer, VerifyResult } from '../types.js';

export interface CommandEnforcerOptions {
  /** The program to run: a path, or a name looked up on PATH. */
  path: string;
  /** Arguments before ours, e.g. a config file or an account name. */
  args?: string[];
  runner?: CommandRunner;
  /** Per call; a call that takes longer counts as failed. Default 10 s. */
  timeoutMs?: number;
}

/** Calls in flight at once: enough to hide an API's latency, few enough not to trip its rate limit. */
const CONCURRENCY = 4;

export function createCommandEnforcer(options: CommandEnforcerOptions): Enforcer {
  return new CommandEnforcer(options);
}

interface HookCall {
  verb: 'ban' | 'unban';
  target: string;
  cidr: Cidr;
  expiresAt: number | null;
  /** The third argument: seconds left for a ban (0 = permanent), always 0 for an unban. */
  seconds: number;
}

/**
 * Hands bans to a program of the operator's (a cloud firewall, an SBC's API): argv `[...args, 'ban', target,
 * seconds]` or `[...args, 'unban', target, '0']`, never through a shell. Exit code 0 means done; anything else,
 * or no exit within the timeout, is a failure reported with the program's stderr.
 *
 * The hook must be idempotent: sipwarden sends `ban` again to move an expiry, `ban` for every active ban after a
 * restart (it cannot know what the far side kept), and `unban` for targets that may not be banned there.
 * Expiry: the hook gets the seconds left, and sipwarden also sends `unban` when a ban runs out, for far sides
 * without timeouts; a ban whose `unban` fails stays in the table and is tried again.
 */
class CommandEnforcer implements Enforcer {
  readonly name = 'command';
  private readonly runner: CommandRunner;
  private readonly timeoutMs: number;
  private readonly table = new BanTable();
  private readonly queue = new SerialQueue();
  private readonly timer = new ExpiryTimer(() => this.queue.run(() => this.sweep()));

  constructor(private readonly options: CommandEnforcerOptions) {
    this.timeoutMs = options.timeoutMs ?? 10_000;
    // The runner's own kill comes a little after our timeout, so the error names the timeout, not a signal.
    this.runner = options.runner ?? commandRunner([], this.timeoutMs + 1000);
  }

  async init(): Promise<void> {
    await resolveProgram(this.options.path);
  }

  apply(changes: readonly EnforcementChange[], now: number): Promise<void> {
    return this.queue.run(async () => {
      const failed: { target: string; reason: string }[] = [];
      // One call per target, the last change winning: calls run in parallel, so two for one target could cross.
      const calls = new Map<string, HookCall>(this.expiredCalls().map((call) => [call.target, call]));
      for (const change of changes) {
        const parsed = parseBanTarget(change.target);
        if ('reason' in parsed) failed.push({ target: change.target, reason: parsed.reason });
        else if (change.op === 'ban') calls.set(parsed.canonical, banCall(parsed.canonical, parsed.cidr, change.expiresAt, now));
        else calls.set(parsed.canonical, unbanCall(parsed.canonical, parsed.cidr));
      }
      failed.push(...(await this.send([...calls.values()], now)));
      if (failed.length > 0) throw batchError('command hook', failed);
    });
  }

  /** Sends `ban` for active bans the hook has not been sent with this expiry, `unban` for the ones no longer active. */
  reconcile(active: readonly BanEntry[], now: number): Promise<void> {
    return this.queue.run(async () => {
      const failed: { target: string; reason: string }[] = [];
      const wanted = new Map<string, HookCall>();
      for (const ban of active) {
        const parsed = parseBanTarget(ban.target);
        if ('reason' in parsed) failed.push({ target: ban.target, reason: parsed.reason });
        else wanted.set(parsed.canonical, banCall(parsed.canonical, parsed.cidr, ban.expiresAt, now));
      }
      const calls = [...wanted.values()].filter((call) => call.verb === 'unban' ? this.table.has(call.target) : this.table.get(call.target)?.expiresAt !== call.expiresAt);
      for (const entry of this.table.values()) if (!wanted.has(entry.target)) calls.push(unbanCall(entry.target, entry.cidr));
      failed.push(...(await this.send(calls, now)));
      if (failed.length > 0) throw batchError('command hook', failed);
    });
  }

  /** The hook keeps no objects of ours; all there is to check is that the program is still there. */
  async verify(): Promise<VerifyResult> {
    try {
      const program = await resolveProgram(this.options.path);
      return { ok: true, repaired: false, detail: `command hook: ${program} is executable; ${this.table.size} bans sent` };
    } catch (error) {
      return { ok: false, repaired: false, detail: error instanceof Error ? error.message : String(error) };
    }
  }

  /** From the table of what the hook accepted: the far side cannot be asked. */
  async lookup(ip: string): Promise<BanState> {
    const address = normalizeIp(ip);
    if (!address) throw swError('SW_ERR_ENFORCER', `command hook lookup: "${ip}" is not an address`);
    const entry = this.table.match(address);
    if (!entry || entry.deadline <= monotonicNow()) return { banned: false };
    return { banned: true, expiresAt: entry.expiresAt };
  }

  /** Unbans everything the hook was sent, so the far side keeps nothing of ours. */
  uninstall(): Promise<void> {
    return this.queue.run(async () => {
      this.timer.cancel();
      const failed = await this.send([...this.table.values()].map((entry) => unbanCall(entry.target, entry.cidr)), Date.now());
      if (failed.length > 0) throw batchError('command hook uninstall', failed);
    });
  }

  async close(): Promise<void> {
    this.timer.cancel();
  }

  private expiredCalls(): HookCall[] {
    return this.table.expired().map((entry) => unbanCall(entry.target, entry.cidr));
  }

  private async sweep(): Promise<void> {
    const failed = await this.send(this.expiredCalls(), Date.now());
    if (failed.length > 0) throw batchError('command hook expiry', failed);
  }

  /** Runs the calls CONCURRENCY at a time; the table follows the calls that succeeded. */
  private async send(calls: readonly HookCall[], now: number): Promise<{ target: string; reason: string }[]> {
    const failed: { target: string; reason: string }[] = [];
    let next = 0;
    const worker = async () => {
      for (let call = calls[next++]; call; call = calls[next++]) {
        try {
          await this.run(call);
          if (call.verb === 'ban') this.table.set({ target: call.target, cidr: call.cidr, expiresAt: call.expiresAt, deadline: deadlineOf(call.expiresAt, now) });
          else this.table.delete(call.target);
        } catch (error) {
          failed.push({ target: call.target, reason: `${call.verb} failed: ${error instanceof Error ? error.message : String(error)}` });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, calls.length) }, worker));
    this.timer.schedule(this.table.nextDeadline());
    return failed;
  }

  private async run(call: HookCall): Promise<void> {
    const argv = [this.options.path, ...(this.options.args ?? []), call.verb, call.target, String(call.seconds)];
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no exit within ${this.timeoutMs} ms`)), this.timeoutMs);
    });
    try {
      await Promise.race([this.runner.run(argv), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** A ban already over becomes an unban: seconds 0 would tell the hook "permanent". */
function banCall(target: string, cidr: Cidr, expiresAt: number | null, now: number): HookCall {
  if (expiresAt === null) return { verb: 'ban', target, cidr, expiresAt, seconds: 0 };
  const seconds = Math.ceil((expiresAt - now) / 1000);
  return seconds > 0 ? { verb: 'ban', target, cidr, expiresAt, seconds } : unbanCall(target, cidr);
}

function unbanCall(target: string, cidr: Cidr): HookCall {
  return { verb: 'unban', target, cidr, expiresAt: null, seconds: 0 };
}

/** The program's full path; a clear SW_ERR_ENFORCER when it is missing or not executable. */
async function resolveProgram(path: string): Promise<string> {
  const candidates = path.includes('/') ? [path] : (process.env['PATH'] ?? '').split(delimiter).filter(Boolean).map((dir) => join(dir, path));
  for (const candidate of candidates) {
    const info = await stat(candidate).catch(() => undefined);
    if (!info?.isFile()) continue;
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      throw swError('SW_ERR_ENFORCER', `command hook: ${candidate} is not executable (chmod +x it)`);
    }
  }
  const where = path.includes('/') ? 'no such file' : 'not found on PATH';
  throw swError('SW_ERR_ENFORCER', `command hook: ${path}: ${where}`);
}
