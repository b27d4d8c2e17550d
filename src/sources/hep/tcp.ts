import { isHep3Magic } from './decode.js';
import { HEP_MAX_BYTES } from './frame.js';

/**
 * Cuts a HEP-over-TCP byte stream (OpenSIPS proto_hep's default, heplify -nt tcp) into frames, each delimited
 * by its own HEPv3 total-length field. Reads may split a frame anywhere or carry several.
 *
 * Contract: push() never throws. After a bad magic or a length outside 6..maxBytes the stream cannot be
 * resynchronised, so the framer fails for good: `error` says why, push() returns nothing more, and the caller
 * closes the connection. Frames completed before the fault in the same read are still returned. Frames are
 * whole but not validated: pass each to decodeHep.
 */
export class HepTcpFramer {
  private readonly maxBytes: number;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Length of the frame being collected, once its header is in; 0 before. */
  private frameLength = 0;
  error: string | undefined;

  constructor(options: { maxBytes?: number } = {}) {
    this.maxBytes = Math.min(options.maxBytes ?? HEP_MAX_BYTES, HEP_MAX_BYTES);
  }

  get failed(): boolean {
    return this.error !== undefined;
  }

  push(chunk: Buffer): Buffer[] {
    if (this.failed || chunk.length === 0) return [];
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    const frames: Buffer[] = [];
    for (;;) {
      if (this.frameLength === 0) {
        const head = this.peek(Math.min(6, this.pendingBytes));
        // Checked on a partial header too, so garbage fails at its first byte instead of after six.
        if (!isHep3Magic(head, Math.min(4, head.length))) {
          this.fail('bad magic: stream is not HEP3/EEP3');
          break;
        }
        if (this.pendingBytes < 6) break;
        const length = head.readUInt16BE(4);
        if (length < 6 || length > this.maxBytes) {
          this.fail(`frame length ${length} is outside 6..${this.maxBytes}`);
          break;
        }
        this.frameLength = length;
      }
      if (this.pendingBytes < this.frameLength) break;
      frames.push(this.take(this.frameLength));
      this.frameLength = 0;
      if (this.pendingBytes === 0) break;
    }
    return frames;
  }

  private fail(error: string): void {
    this.error = error;
    this.pending = [];
    this.pendingBytes = 0;
  }

  /** The first buffered chunk, merged with the next ones first if it is shorter than `bytes`. */
  private peek(bytes: number): Buffer {
    const first = this.pending[0] as Buffer;
    if (first.length >= bytes) return first;
    const merged = Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [merged];
    return merged;
  }

  /** Removes and returns the first `bytes` buffered bytes, copying only when they span several reads. */
  private take(bytes: number): Buffer {
    const all = this.peek(bytes);
    const frame = all.subarray(0, bytes);
    const rest = all.subarray(bytes);
    this.pending = rest.length > 0 ? [rest, ...this.pending.slice(1)] : this.pending.slice(1);
    this.pendingBytes -= bytes;
    return frame;
  }
}
