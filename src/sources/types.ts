/**
 * A source produces raw records and never parses them.
 *
 * Contract:
 * - `records(signal)` is an async iterable of batches. It ends, without throwing, when `signal` aborts; the
 *   consumer owns the signal and cancels it.
 * - It may throw on a fault it cannot get past (a file that cannot be opened, a socket error). The supervisor
 *   (sources/supervisor.ts) restarts it with backoff; a source never retries on its own in a tight loop.
 * - A batch carries the position after its last complete record, so the consumer can persist the position
 *   together with what it derived from the batch. Positions are opaque to everyone but the source.
 */
export interface RecordBatch {
  /** Complete records, oldest first (for a file: lines without their newline). */
  records: string[];
  /** 1-based number of the first record in this batch, counted from where the source started reading. */
  firstLine: number;
  /** Where to resume to continue right after this batch, or undefined for sources without positions. */
  position?: SourcePosition;
}

/** A resumable place in a file: the file identity and the byte offset after the last complete line. */
export interface SourcePosition {
  sourceId: string;
  path: string;
  dev: number;
  ino: number;
  offset: number;
  /** A short hash of the file's first bytes, to tell a reused inode from the same file. */
  head: string;
}

export interface Source {
  readonly id: string;
  records(signal: AbortSignal): AsyncIterable<RecordBatch>;
}
