import type { ChildProcess } from 'node:child_process';
import { swError } from '../../core/errors.js';
import type { CommandRunner } from '../exec.js';

const TIMEOUT_MS = 2000;
/** A table that never exists: listing it fails at once, and its error marks the end of each transaction's answer. */
const MARKER = `swmark_${process.pid}_${Math.floor(Math.random() * 1e9)}`;
const MARKER_LINE = `list table inet ${MARKER}`;
/** The marker's error: its input line, then a line of carets. */
const MARKER_DONE = new RegExp(`${MARKER_LINE}\\n *\\^+ *\\n`);

interface Pending {
  resolve: () => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * A long-lived `nft -i`: each input line is one transaction (commands joined with `;`), committed in well
 * under a millisecond, where spawning `nft -f -` costs 3-4 ms. That spawn was most of the time from a log line
 * to a ban in the kernel. A committed transaction answers nothing, and a failed one answers `Error: ...` on
 * stderr, then the input line, then a line of carets; so each transaction is followed by a listing of a table
 * that does not exist, whose error (on the same stream, after any error of the transaction) says the
 * transaction is done. Not `-e` to get an answer: nft 1.0.6 with `-e` first fetches the elements of every set,
 * which at 100k bans made a single ban take 0.8 s instead of under a millisecond. One transaction is in flight
 * at a time. Any failure, a timeout or the process dying rejects; the caller falls back to `nft -f -`, which
 * also isolates the entries that failed.
 */
export class NftSession {
  private child: ChildProcess | undefined;
  private pending: Pending | undefined;
  private err = '';
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly runner: CommandRunner) {}

  /** Runs the commands of `text` (one per line) as one transaction. */
  run(text: string): Promise<void> {
    const line = text.split('\n').filter((l) => l.trim() !== '').join('; ');
    const result = this.queue.then(() => this.send(line));
    this.queue = result.catch(() => undefined);
    return result;
  }

  close(): void {
    const child = this.child;
    this.child = undefined;
    child?.kill();
    this.settle(new Error('nft session closed'));
  }

  private start(): ChildProcess {
    const child = this.runner.spawn(['nft', '-i'], { stdin: true });
    // Nothing useful comes on stdout; it is drained so a chatty nft never blocks on a full pipe.
    child.stdout?.resume();
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      this.err += chunk;
      if (MARKER_DONE.test(this.err)) this.settle();
    });
    const gone = (): void => {
      // Only the current process may settle a request: an old one, closed or replaced, exits later.
      if (this.child !== child) return;
      this.child = undefined;
      this.settle(new Error('nft -i exited'));
    };
    child.on('exit', gone);
    child.on('error', gone);
    child.stdin?.on('error', gone);
    // An idle session must not keep the process alive (a CLI command, a test that never closes its enforcer).
    child.unref();
    for (const stream of [child.stdin, child.stdout, child.stderr]) (stream as unknown as { unref?: () => void } | null)?.unref?.();
    return child;
  }

  private send(line: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const child = this.child ?? (this.child = this.start());
      this.err = '';
      const timer = setTimeout(() => {
        this.settle(new Error(`nft -i gave no answer within ${TIMEOUT_MS} ms`));
        this.close();
      }, TIMEOUT_MS);
      this.pending = { resolve, reject, timer };
      child.stdin?.write(`${line}\n${MARKER_LINE}\n`);
    });
  }

  private settle(failure?: Error): void {
    const pending = this.pending;
    if (!pending) return;
    this.pending = undefined;
    clearTimeout(pending.timer);
    // What came before the marker's own error belongs to the transaction.
    const answer = this.err.slice(0, this.err.lastIndexOf(MARKER_LINE));
    const own = answer.slice(0, answer.lastIndexOf('Error:'));
    const error = failure ?? (own.includes('Error:') ? new Error(own.trim().slice(0, 2000)) : undefined);
    if (error) pending.reject(swError('SW_ERR_ENFORCER', `nft: ${error.message}`, error));
    else pending.resolve();
  }
}
