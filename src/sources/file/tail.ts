import { performance } from 'node:perf_hooks';
import type { RecordBatch, SourcePosition } from '../types.js';
import { LineSplitter } from './lines.js';
import { openAtStart, type Cursor } from './start.js';
import { statPath, TailedFile } from './tailed-file.js';
import { Waker } from './waker.js';

export interface TailSettings {
  sourceId: string;
  path: string;
  startAt: 'end' | 'start';
  pollIntervalMs: number;
  maxLineBytes: number;
  batchLines: number;
}

/** Read size: catching up on a 130 MB log takes ~130 reads, and a batch never holds more than one chunk of text. */
const CHUNK_BYTES = 1 << 20;

/**
 * How long a renamed-away file must stay quiet before we stop reading it while the new file at the path is
 * still empty. logrotate renames first and signals the writer afterwards (postrotate), so the writer keeps
 * appending to the old file for a moment; switching at once, as `tail -F` does, would lose those lines.
 */
const ROTATION_GRACE_MS = 1000;

/** What became of the file we hold open, seen from the path. */
type Verdict =
  | { kind: 'same' }
  | { kind: 'truncated' }
  /** The path names another file or nothing. `movedOn`: no writer will append to ours any more. */
  | { kind: 'detached'; movedOn: boolean };

/** Follow one path like `tail -F`; see createFileSource for the behaviour. Ends without throwing on abort. */
export async function* tail(
  settings: TailSettings,
  position: SourcePosition | undefined,
  signal: AbortSignal,
): AsyncGenerator<RecordBatch, void, undefined> {
  const follower = new Follower(settings, signal);
  try {
    yield* follower.run(position);
  } finally {
    await follower.close();
  }
}

class Follower {
  private readonly buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  private readonly splitter: LineSplitter;
  private readonly waker: Waker;
  private cursor: Cursor | undefined;
  private nextLine = 1;
  /** Since when the detached file has given no bytes (monotonic ms; I/O housekeeping, not event time). */
  private quietSince: number | undefined;

  constructor(
    private readonly settings: TailSettings,
    private readonly signal: AbortSignal,
  ) {
    this.splitter = new LineSplitter(settings.maxLineBytes);
    this.waker = new Waker(settings.path, settings.pollIntervalMs, signal);
  }

  async *run(position: SourcePosition | undefined): AsyncGenerator<RecordBatch, void, undefined> {
    this.waker.watch();
    this.cursor = await openAtStart(this.settings.path, this.settings.startAt, position);
    if (this.cursor?.midLine) this.splitter.skipToNewline();
    while (!this.signal.aborted) {
      const cursor = this.cursor ?? (await this.openNew());
      if (cursor === undefined) {
        await this.waker.wait();
        continue;
      }
      const verdict: Verdict = cursor.rotated ? { kind: 'detached', movedOn: true } : await this.inspect(cursor.file);
      if (verdict.kind === 'truncated') {
        cursor.file.restart();
        this.splitter.reset();
      }
      const readSome = yield* this.drain(cursor.file);
      if (this.signal.aborted) return;
      if (verdict.kind === 'detached' && this.mayLeave(verdict.movedOn, readSome)) {
        yield* this.leave(cursor.file);
        continue;
      }
      await this.waker.wait();
    }
  }

  async close(): Promise<void> {
    this.waker.close();
    await this.cursor?.file.close();
    this.cursor = undefined;
  }

  /** A file that appears at the path after we started is new to us: read it from byte 0. */
  private async openNew(): Promise<Cursor | undefined> {
    const file = await TailedFile.open(this.settings.path);
    this.cursor = file && { file, rotated: false, midLine: false };
    return this.cursor;
  }

  private async inspect(file: TailedFile): Promise<Verdict> {
    const stats = await file.stat();
    // copytruncate keeps the inode and cuts the file to 0; the head check also catches a file cut and refilled
    // past our offset between two looks.
    if (stats.size < file.readOffset || (await file.headChanged())) return { kind: 'truncated' };
    const atPath = await statPath(this.settings.path);
    if (atPath !== undefined && file.sameFileAs(atPath)) {
      this.quietSince = undefined;
      return { kind: 'same' };
    }
    // Renamed or deleted. The writer has surely moved on once the new file has bytes or ours is deleted.
    return { kind: 'detached', movedOn: stats.nlink === 0 || (atPath?.size ?? 0) > 0 };
  }

  private mayLeave(movedOn: boolean, readSome: boolean): boolean {
    const now = performance.now();
    if (readSome || this.quietSince === undefined) this.quietSince = now;
    return movedOn || now - this.quietSince >= ROTATION_GRACE_MS;
  }

  /** Done with a rotated file: its unfinished last line will never be finished, so emit it, then let go. */
  private async *leave(file: TailedFile): AsyncGenerator<RecordBatch, void, undefined> {
    const last = this.splitter.flush();
    const batch = last === undefined ? undefined : await this.batch(file, [last], file.readOffset);
    this.splitter.reset();
    this.quietSince = undefined;
    this.cursor = undefined;
    await file.close();
    if (batch !== undefined) yield batch;
  }

  /** Read from the read offset to the end of the file, in batches of at most `batchLines` lines. */
  private async *drain(file: TailedFile): AsyncGenerator<RecordBatch, boolean, undefined> {
    let readSome = false;
    while (!this.signal.aborted) {
      const chunkStart = file.readOffset;
      const length = await file.read(this.buffer);
      if (length === 0) break;
      readSome = true;
      file.readOffset += length;
      this.splitter.feed(this.buffer.subarray(0, length));
      let records: string[] = [];
      for (let line = this.splitter.next(); line !== undefined; line = this.splitter.next()) {
        records.push(line);
        if (records.length === this.settings.batchLines) {
          yield await this.batch(file, records, chunkStart + this.splitter.consumed);
          records = [];
        }
      }
      if (records.length > 0) yield await this.batch(file, records, chunkStart + this.splitter.consumed);
      // A short read was the end of the file; bytes written since then raise a watch event and a new round.
      if (length < this.buffer.length) break;
    }
    return readSome;
  }

  private async batch(file: TailedFile, records: string[], offset: number): Promise<RecordBatch> {
    const position: SourcePosition = {
      sourceId: this.settings.sourceId,
      path: this.settings.path,
      dev: file.dev,
      ino: file.ino,
      offset,
      head: await file.headAt(offset),
    };
    const batch: RecordBatch = { records, firstLine: this.nextLine, position };
    this.nextLine += records.length;
    return batch;
  }
}
