import { swError } from '../../core/errors.js';
import type { RecordBatch, Source, SourcePosition } from '../types.js';
import { tail, type TailSettings } from './tail.js';

export interface FileSourceOptions {
  /** Source id from the config. */
  id: string;
  path: string;
  /** Where to begin when there is no saved position (the daemon's default is 'end'). */
  startAt: 'end' | 'start';
  /** Saved position from the store, if any. */
  position?: SourcePosition;
  /** Default 250. fs.watch wakes the source at once where it works; polling is the safety net. */
  pollIntervalMs?: number;
  /** Default 64 KiB. Longer lines are cut, and the rest up to the newline is skipped, never buffered. */
  maxLineBytes?: number;
  /** Most records per batch, default 4096. A batch also never holds more than one 1 MiB read of text. */
  batchLines?: number;
}

/**
 * A file source follows one log file like `tail -F`.
 *
 * - Records are lines without '\n' and without a trailing '\r'. An unfinished last line is held back until its
 *   newline arrives; a position never includes it. It is emitted as is only once its file is rotated away.
 * - Rotation by rename: the old file is read to its end through the open descriptor, then the new one from 0.
 *   Truncation (copytruncate): reading restarts at 0. A missing file is waited for.
 * - Each batch carries the position after its last line; see start.ts for how a saved position is resumed,
 *   also across a rotation that happened while the daemon was down.
 * - A second call of `records` (the supervisor restarting the source) resumes after the last batch yielded.
 * - Throws SW_ERR_SOURCE for what waiting cannot fix: no permission, a directory at the path, a read error.
 */
export function createFileSource(options: FileSourceOptions): Source {
  const settings: TailSettings = {
    sourceId: options.id,
    path: options.path,
    startAt: options.startAt,
    pollIntervalMs: positive(options, 'pollIntervalMs', 250),
    maxLineBytes: positive(options, 'maxLineBytes', 64 * 1024),
    batchLines: positive(options, 'batchLines', 4096),
  };
  let resumeAt = options.position;
  return {
    id: options.id,
    async *records(signal: AbortSignal): AsyncGenerator<RecordBatch, void, undefined> {
      for await (const batch of tail(settings, resumeAt, signal)) {
        resumeAt = batch.position;
        yield batch;
      }
    },
  };
}

type Tunable = 'pollIntervalMs' | 'maxLineBytes' | 'batchLines';

function positive(options: FileSourceOptions, key: Tunable, fallback: number): number {
  const value = options[key] ?? fallback;
  if (Number.isSafeInteger(value) && value > 0) return value;
  throw swError('SW_ERR_CONFIG', `file source ${options.id}: ${key} must be a positive integer, got ${value}`);
}
