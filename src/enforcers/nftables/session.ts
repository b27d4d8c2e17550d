import type { ChildProcess } from 'node:child_process';
import { swError } from '../../core/errors.js';
import type { CommandRunner } from '../exec.js';

const GENERATION = /^# new generation \d+/m;
const CARETS = /\n *\^+ *\n/;
const TIMEOUT_MS = 2000;

interface Pending {
  resolve: () => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * A long-lived `nft -e -i`: each input line is one transaction (commands joined with `;`), committed in well
 * under a millisecond, where spawning `nft -f -` costs 3-4 ms. That spawn was most of the time from a log line
 * to a ban in the kernel. With `-e` every committed transaction answers `# new generation N`; a failed one
 * answers `Error: ...` on stderr, then the input line, then a line of carets. One transaction is in flight at a
 * time. Any failure, a timeout or the process dying rejects; the caller falls back to `nft -f -`, which also
 * isolates the entries that failed.
 */
export class NftSession {
  private child: ChildProcess | undefined;
  private pending: Pending | undefined;
  private out = '';
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
    const child = this.runner.spawn(['nft', '-e', '-i'], { stdin: true });
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      this.out += chunk;
      if (GENERATION.test(this.out)) this.settle();
    });
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      this.err += chunk;
      if (CARETS.test(this.err)) this.settle();
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
      this.out = '';
      this.err = '';
      const timer = setTimeout(() => {
        this.settle(new Error(`nft -i gave no answer within ${TIMEOUT_MS} ms`));
        this.close();
      }, TIMEOUT_MS);
      this.pending = { resolve, reject, timer };
      child.stdin?.write(`${line}\n`);
    });
  }

  private settle(failure?: Error): void {
    const pending = this.pending;
    if (!pending) return;
    this.pending = undefined;
    clearTimeout(pending.timer);
    const error = failure ?? (this.err.includes('Error:') ? new Error(this.err.trim().slice(0, 2000)) : undefined);
    if (error) pending.reject(swError('SW_ERR_ENFORCER', `nft: ${error.message}`, error));
    else pending.resolve();
  }
}
