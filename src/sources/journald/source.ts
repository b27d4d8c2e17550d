import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { swError } from '../../core/errors.js';
import { commandRunner, type CommandRunner } from '../../enforcers/exec.js';
import { parseJournalEntry, type JournalRecord } from './entry.js';
import { NdjsonLines } from './lines.js';

export interface JournaldSourceOptions {
  /** systemd units to follow (`asterisk.service`). */
  units: readonly string[];
  /** The journalctl program and leading args (default `journalctl`); the follow flags are appended. */
  command?: readonly string[];
  /** Zone the entries are dated in for the line parsers (see entry.ts). */
  timezone: string;
  runner?: CommandRunner;
}

export interface JournaldCounters {
  /** Entries parsed and queued. */
  received: number;
  /** Lines that were not a journal entry (bad JSON, no MESSAGE or timestamp). */
  malformed: number;
  /** Lines longer than JOURNAL_LINE_LIMIT, skipped whole. */
  oversized: number;
}

/**
 * Follows units in the systemd journal through `journalctl -f -o json`.
 *
 * Contract:
 * - `messages(signal)` starts journalctl at the journal's end (`-n 0`: what was logged while sipwarden was down is
 *   not replayed, as there is no saved position) and yields batches of entries, oldest first, at most MAX_BATCH
 *   each. One `messages` at a time.
 * - It ends, without throwing, when `signal` aborts or the consumer stops iterating; either way journalctl is
 *   killed and has exited before the iteration returns.
 * - journalctl never exits on its own while following, so any exit is a fault: it throws SW_ERR_SOURCE with the
 *   exit code and stderr, after yielding what was read. It never restarts journalctl; the supervisor does.
 * - A line that is not an entry is skipped and counted; it never ends the iteration.
 */
export interface JournaldSource {
  messages(signal: AbortSignal): AsyncIterable<JournalRecord[]>;
  counters(): JournaldCounters;
}

export const MAX_BATCH = 4096;
/** Entries queued for a slow consumer at most; past it journalctl's stdout is paused and the pipe pushes back. */
const QUEUE_LIMIT = 4 * MAX_BATCH;
const STDERR_KEPT = 4096;
const KILL_GRACE_MS = 2000;

/** The argv that follows `units` as JSON lines from now on. */
export function journalctlArgv(command: readonly string[], units: readonly string[]): string[] {
  return [...command, '-f', '-o', 'json', '--no-pager', '-n', '0', ...units.flatMap((unit) => ['-u', unit])];
}

export function createJournaldSource(options: JournaldSourceOptions): JournaldSource {
  const counters: JournaldCounters = { received: 0, malformed: 0, oversized: 0 };
  const runner = options.runner ?? commandRunner();
  const argv = journalctlArgv(options.command ?? ['journalctl'], options.units);
  return {
    counters: () => ({ ...counters }),
    async *messages(signal) {
      if (signal.aborted) return;
      const child = runner.spawn(argv);
      const lines = new NdjsonLines();
      const queue: JournalRecord[] = [];
      let stderr = '';
      let failure: Error | undefined;
      let wake: (() => void) | undefined;
      const notify = (): void => {
        wake?.();
        wake = undefined;
      };
      const take = (text: readonly string[]): void => {
        for (const line of text) {
          const record = parseJournalEntry(line, options.timezone);
          if (record) {
            queue.push(record);
            counters.received++;
          } else counters.malformed++;
        }
        counters.oversized += lines.oversized;
        lines.oversized = 0;
        if (queue.length >= QUEUE_LIMIT) child.stdout?.pause();
        notify();
      };
      child.stdout?.on('data', (chunk: Buffer) => take(lines.push(chunk)));
      child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-STDERR_KEPT)));
      child.on('error', (error: NodeJS.ErrnoException) => {
        const missing = error.code === 'ENOENT' ? ` (is ${argv[0]} installed and on PATH?)` : '';
        failure ??= swError('SW_ERR_SOURCE', `journald source: cannot run ${argv[0]}: ${error.message}${missing}`, error);
        notify();
      });
      child.on('close', (code, killedBy) => {
        take(lines.end());
        const why = killedBy ? `killed by ${killedBy}` : `exit code ${code}`;
        failure ??= swError('SW_ERR_SOURCE', `journald source: ${argv[0]} exited (${why}): ${stderr.trim().slice(0, 2000) || 'no error output'}`);
        notify();
      });
      signal.addEventListener('abort', notify);
      try {
        for (;;) {
          if (signal.aborted) return;
          if (queue.length > 0) {
            const batch = queue.splice(0, MAX_BATCH);
            if (queue.length < QUEUE_LIMIT) child.stdout?.resume();
            yield batch;
            continue;
          }
          if (failure) throw failure;
          await new Promise<void>((resolve) => (wake = resolve));
        }
      } finally {
        signal.removeEventListener('abort', notify);
        await stop(child);
      }
    },
  };
}

/** SIGTERM, then SIGKILL if journalctl has not exited within the grace period. */
async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = once(child, 'exit').catch(() => undefined);
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
  await exited;
  clearTimeout(timer);
}
