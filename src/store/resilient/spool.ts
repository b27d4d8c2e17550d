import { closeSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { swError } from '../../core/errors.js';
import type { AuditEntry, NewDecision } from '../types.js';

/** A write that must outlive the process while PostgreSQL is down. `id` of a decision is its provisional id. */
export type SpooledWrite =
  | { op: 'decision'; id: number; decision: NewDecision }
  | { op: 'revoke'; id: number; by: string; reason: string; at: number }
  | { op: 'audit'; entry: AuditEntry }
  | { op: 'known-good'; ip: string; account: string; at: number };

export type SpoolRecord = SpooledWrite & { seq: number };

/** What a spool file held when opened: the writes not yet replayed, in order, and the ids already replayed. */
export interface SpoolContents {
  pending: SpoolRecord[];
  /** Provisional decision id -> the id PostgreSQL gave it, for writes that still name the provisional one. */
  replayed: Map<number, number>;
  /** The lowest provisional id in the file (0 when none), so new ones never repeat an id a write still names. */
  lowestId: number;
}

type Line = SpoolRecord | { done: number; id?: number };

/**
 * An append-only NDJSON file: one line per write, then a `done` line once PostgreSQL has it. A decision's line
 * is fsynced before the caller goes on, so a crash or power loss right after a ban keeps it. A torn last
 * line (a crash mid-write) is ignored. The file is emptied when every write in it is replayed.
 *
 * Used by one process at a time (the daemon); the CLI never opens it.
 */
export class Spool {
  private fd: number;
  private nextSeq: number;

  private constructor(
    readonly path: string,
    fd: number,
    nextSeq: number,
  ) {
    this.fd = fd;
    this.nextSeq = nextSeq;
  }

  /** Opens (creating it and its directory if needed) and reads the file. Throws SW_ERR_STORE when it cannot. */
  static open(path: string): { spool: Spool; contents: SpoolContents } {
    let text = '';
    try {
      mkdirSync(dirname(path), { recursive: true, mode: 0o750 });
      text = readFileSync(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw swError('SW_ERR_STORE', `cannot read the fleet spool ${path}: ${(error as Error).message}`, error);
    }
    const contents = parse(text);
    let fd: number;
    try {
      fd = openSync(path, 'a', 0o600);
    } catch (error) {
      throw swError('SW_ERR_STORE', `cannot open the fleet spool ${path}: ${(error as Error).message}`, error);
    }
    const spool = new Spool(path, fd, contents.lastSeq + 1);
    if (contents.pending.length === 0 && text !== '') spool.clear();
    return { spool, contents: { pending: contents.pending, replayed: contents.replayed, lowestId: contents.lowestId } };
  }

  /**
   * Appends a write; returns its sequence number. `sync` (the default) waits for the disk. Without it the line
   * survives a crash of the process but not of the machine, for writes too frequent to wait each on a disk
   * flush (a known-good pair per registration); the next synced line flushes it too.
   */
  append(write: SpooledWrite, sync = true): number {
    const seq = this.nextSeq++;
    this.write({ ...write, seq }, sync);
    return seq;
  }

  /**
   * Marks a write replayed; `id` is the stored id of a replayed decision. Not synced: a `done` lost to a power
   * cut only means a replay that finds the write already stored.
   */
  done(seq: number, id?: number): void {
    this.write(id === undefined ? { done: seq } : { done: seq, id }, false);
  }

  /** Empties the file: everything in it is in PostgreSQL. */
  clear(): void {
    ftruncateSync(this.fd, 0);
    fsyncSync(this.fd);
  }

  close(): void {
    closeSync(this.fd);
  }

  private write(line: Line, sync = true): void {
    try {
      writeSync(this.fd, `${JSON.stringify(line)}\n`);
      if (sync) fsyncSync(this.fd);
    } catch (error) {
      throw swError('SW_ERR_STORE', `cannot write the fleet spool ${this.path}: ${(error as Error).message}`, error);
    }
  }
}

function parse(text: string): SpoolContents & { lastSeq: number } {
  const records = new Map<number, SpoolRecord>();
  const replayed = new Map<number, number>();
  let lastSeq = 0;
  let lowestId = 0;
  for (const raw of text.split('\n')) {
    if (raw.trim() === '') continue;
    let line: Line;
    try {
      line = JSON.parse(raw) as Line;
    } catch {
      continue; // the torn tail of a crash mid-write: the caller never heard it was stored
    }
    if ('done' in line) {
      const record = records.get(line.done);
      if (record?.op === 'decision' && line.id !== undefined) replayed.set(record.id, line.id);
      records.delete(line.done);
    } else {
      records.set(line.seq, line);
      lastSeq = Math.max(lastSeq, line.seq);
      if (line.op === 'decision') lowestId = Math.min(lowestId, line.id);
    }
  }
  return { pending: [...records.values()].sort((a, b) => a.seq - b.seq), replayed, lastSeq, lowestId };
}
