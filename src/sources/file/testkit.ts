import { appendFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RecordBatch, Source } from '../types.js';
import { createFileSource, type FileSourceOptions } from './index.js';

/** Shared by the file source tests: a temp dir per test and a consumer that waits for lines, never sleeps. */

/** Sources not stopped yet; a failed test must not leave one running, or the test process never exits. */
const running = new Set<AbortController>();

export async function withTempDir(run: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'sipwarden-tail-'));
  try {
    await run(dir);
  } finally {
    for (const controller of running) controller.abort();
    running.clear();
    await rm(dir, { recursive: true, force: true });
  }
}

export function lines(...records: string[]): string {
  return records.map((record) => `${record}\n`).join('');
}

/** A running source and everything it has yielded so far. */
export class Tailing {
  readonly batches: RecordBatch[] = [];
  private readonly controller = new AbortController();
  private readonly iterator: AsyncIterator<RecordBatch>;
  /** A next() that a timed-out wait left behind; the following wait takes it over, so no batch is dropped. */
  private pending: Promise<IteratorResult<RecordBatch>> | undefined;

  constructor(readonly source: Source) {
    this.iterator = source.records(this.controller.signal)[Symbol.asyncIterator]();
    running.add(this.controller);
  }

  static start(options: Partial<FileSourceOptions> & { path: string }): Tailing {
    return new Tailing(createFileSource({ id: 'test', startAt: 'end', pollIntervalMs: 50, ...options }));
  }

  /** Every line yielded, without the `sync-N` lines of `synced`. */
  get lines(): string[] {
    return this.batches.flatMap((batch) => batch.records).filter((line) => !line.startsWith('sync-'));
  }

  get lastBatch(): RecordBatch | undefined {
    return this.batches.at(-1);
  }

  /** Collect batches until `predicate` holds for all lines so far; fail after `timeoutMs` showing what came. */
  async until(predicate: (lines: string[]) => boolean, timeoutMs = 3000): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.lines)) {
      const result = await this.next(deadline - Date.now());
      if (result === 'timeout') throw new Error(`timed out after ${timeoutMs} ms; ${this.summary()}`);
      if (result.done === true) throw new Error(`source ended early; ${this.summary()}`);
      this.batches.push(result.value);
    }
    return this.lines;
  }

  private summary(): string {
    const seen = this.lines;
    return `got ${seen.length} lines, the last ones ${JSON.stringify(seen.slice(-10))}`;
  }

  /** Wait until the last line equals `last`, the end marker tests append after their real lines. */
  untilLast(last: string, timeoutMs?: number): Promise<string[]> {
    return this.until((seen) => seen.at(-1) === last, timeoutMs);
  }

  /**
   * Make sure a source that starts at the end has taken its starting point: append `sync-N` lines until one
   * shows up. Lines written after this are certain to be after the starting point.
   */
  async synced(path: string): Promise<void> {
    for (let n = 1; ; n++) {
      await appendFile(path, lines(`sync-${n}`));
      const result = await this.next(50);
      if (result === 'timeout') continue;
      if (result.done === true) throw new Error('source ended while syncing');
      this.batches.push(result.value);
      return;
    }
  }

  /** Abort and wait for the loop to end, as the supervisor does. */
  async stop(): Promise<void> {
    this.controller.abort();
    running.delete(this.controller);
    for (;;) {
      const result = await this.next(2000);
      if (result === 'timeout') throw new Error('source did not stop within 2 s of abort');
      if (result.done === true) return;
    }
  }

  private async next(timeoutMs: number): Promise<IteratorResult<RecordBatch> | 'timeout'> {
    this.pending ??= this.iterator.next();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), Math.max(0, timeoutMs));
    });
    const result = await Promise.race([this.pending, timeout]);
    clearTimeout(timer);
    if (result !== 'timeout') this.pending = undefined;
    return result;
  }
}
