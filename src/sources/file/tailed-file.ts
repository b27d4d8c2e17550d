import { createHash } from 'node:crypto';
import { open, stat, type FileHandle } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { swError, type SipwardenError } from '../../core/errors.js';

/**
 * How many leading bytes identify a file's content. A reused inode almost never starts with the same 256 bytes
 * (log lines start with timestamps), and 256 bytes cost one small read.
 */
const HEAD_BYTES = 256;

/** One open log file: its descriptor, its identity (dev, ino) and the byte offset of the next read. */
export class TailedFile {
  readOffset = 0;
  /** The file's first bytes as last seen, at most HEAD_BYTES of them. */
  private head: Buffer = Buffer.alloc(0);
  private headHash: { length: number; hash: string } | undefined;

  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    readonly dev: number,
    readonly ino: number,
  ) {}

  /** Open `path` for reading, or undefined when it does not exist (yet). Any other problem is a source error. */
  static async open(path: string): Promise<TailedFile | undefined> {
    // Check the type before open(): opening a FIFO for reading blocks until a writer shows up.
    const before = await statPath(path);
    if (before === undefined) return undefined;
    if (!before.isFile()) throw notALogFile(path, before);
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return undefined;
      throw fileError(path, error);
    }
    let opened: Stats;
    try {
      opened = await handle.stat();
    } catch (error) {
      await handle.close();
      throw fileError(path, error);
    }
    if (!opened.isFile()) {
      await handle.close();
      throw notALogFile(path, opened);
    }
    return new TailedFile(path, handle, opened.dev, opened.ino);
  }

  sameFileAs(identity: { dev: number; ino: number }): boolean {
    return this.dev === identity.dev && this.ino === identity.ino;
  }

  async stat(): Promise<Stats> {
    try {
      return await this.handle.stat();
    } catch (error) {
      throw fileError(this.path, error);
    }
  }

  /** Read the next bytes from `readOffset` into `buffer` (without moving `readOffset`); 0 at the end. */
  async read(buffer: Buffer): Promise<number> {
    return this.readAt(buffer, buffer.length, this.readOffset);
  }

  /** Does the file end in a newline? False for an empty file. */
  async endsWithNewline(size: number): Promise<boolean> {
    if (size === 0) return false;
    const last = Buffer.alloc(1);
    return (await this.readAt(last, 1, size - 1)) === 1 && last[0] === 0x0a;
  }

  /**
   * The short hash that goes into a position taken at `offset`: sha1 of the first min(HEAD_BYTES, offset)
   * bytes. Hashing only bytes before the offset makes it stable: those bytes are already read and a log file
   * only grows, so the same file always gives the same head for the same position.
   */
  async headAt(offset: number): Promise<string> {
    const length = Math.min(HEAD_BYTES, offset);
    if (this.head.length < length) await this.loadHead();
    const hashed = Math.min(length, this.head.length);
    if (this.headHash?.length !== hashed) {
      const hash = createHash('sha1').update(this.head.subarray(0, hashed)).digest('hex').slice(0, 16);
      this.headHash = { length: hashed, hash };
    }
    return this.headHash.hash;
  }

  /** Have the first bytes we saw changed? Then the file was truncated and rewritten before we noticed. */
  async headChanged(): Promise<boolean> {
    if (this.head.length === 0) return false;
    const now = Buffer.alloc(this.head.length);
    const got = await this.readAt(now, now.length, 0);
    return got < now.length || !now.equals(this.head);
  }

  /** Start over from byte 0, for a file that was truncated or replaced in place. */
  restart(): void {
    this.readOffset = 0;
    this.head = Buffer.alloc(0);
    this.headHash = undefined;
  }

  async close(): Promise<void> {
    await this.handle.close().catch(() => undefined);
  }

  private async loadHead(): Promise<void> {
    const head = Buffer.alloc(HEAD_BYTES);
    this.head = head.subarray(0, await this.readAt(head, HEAD_BYTES, 0));
  }

  private async readAt(buffer: Buffer, length: number, position: number): Promise<number> {
    try {
      return (await this.handle.read(buffer, 0, length, position)).bytesRead;
    } catch (error) {
      throw fileError(this.path, error);
    }
  }
}

/** stat(path), or undefined when nothing is there. */
export async function statPath(path: string): Promise<Stats | undefined> {
  try {
    return await stat(path);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw fileError(path, error);
  }
}

function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  return typeof error.code === 'string' ? error.code : undefined;
}

function notALogFile(path: string, stats: Stats): SipwardenError {
  const what = stats.isDirectory() ? 'a directory' : 'not a regular file';
  return swError('SW_ERR_SOURCE', `file source ${path}: is ${what}, expected a log file`);
}

function fileError(path: string, error: unknown): SipwardenError {
  const code = errorCode(error);
  const problem =
    code === 'EACCES' || code === 'EPERM'
      ? 'permission denied; the daemon user needs read access to the file and search access to its directory'
      : `cannot be read (${code ?? String(error)})`;
  return swError('SW_ERR_SOURCE', `file source ${path}: ${problem}`, error);
}
