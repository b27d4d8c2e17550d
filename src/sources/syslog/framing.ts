import { swError, type SipwardenError } from '../../core/errors.js';

/** Largest frame accepted on a syslog TCP connection, in bytes (the same bound as SYSLOG_MESSAGE_LIMIT). */
export const SYSLOG_FRAME_LIMIT = 64 * 1024;

const NUL = 0;
const LF = 10;
const CR = 13;
const SPACE = 32;
const ZERO = 48;
const NINE = 57;

/**
 * Splits a syslog TCP byte stream into messages (RFC 6587). Each frame is detected on its own: one that starts
 * with a digit is octet-counted (`<len> <msg>`), anything else (a message starts with `<`) runs to the next LF
 * or NUL. Line ends, NULs and spaces between frames are skipped, since senders add them after octet-counted
 * frames too. Chunks may split anywhere, even inside the length or a UTF-8 character.
 *
 * Contract: never throws. A frame over the limit, or a length that is not a number, leaves no way to find where
 * the next frame starts, so the framer fails for good: `error` names the fault and the limit, and every later
 * push returns nothing. The caller closes the connection; frames returned before the failure are good.
 */
export class SyslogTcpFramer {
  /** Set once the stream cannot be framed any more. */
  error: SipwardenError | undefined;
  private buffer: Buffer;
  private start = 0;
  private end = 0;
  /** Bytes of a non-transparent frame already searched for its delimiter. */
  private scanned = 0;

  constructor(readonly limit: number = SYSLOG_FRAME_LIMIT) {
    this.buffer = Buffer.alloc(Math.min(limit, 4096) + 16);
  }

  push(chunk: Buffer): string[] {
    if (this.error || chunk.length === 0) return [];
    this.append(chunk);
    const frames: string[] = [];
    for (;;) {
      this.skipSeparators();
      if (this.start === this.end) break;
      const first = this.buffer[this.start] ?? 0;
      const frame = first >= ZERO && first <= NINE ? this.octetCounted() : this.delimited();
      if (frame === null) break;
      frames.push(frame);
    }
    this.compact();
    return frames;
  }

  /** The last non-transparent frame when the peer closes without a final delimiter; nothing after a failure. */
  flush(): string[] {
    if (this.error || this.start === this.end) return [];
    const first = this.buffer[this.start] ?? 0;
    if (first >= ZERO && first <= NINE) return [];
    const frame = this.decode(this.start, this.end);
    this.start = this.end = this.scanned = 0;
    return [frame];
  }

  private append(chunk: Buffer): void {
    const needed = this.end + chunk.length;
    if (needed > this.buffer.length) {
      const grown = Buffer.alloc(Math.max(needed, this.buffer.length * 2));
      this.buffer.copy(grown, 0, this.start, this.end);
      this.end -= this.start;
      this.start = 0;
      this.buffer = grown;
    }
    chunk.copy(this.buffer, this.end);
    this.end += chunk.length;
  }

  private compact(): void {
    if (this.start === this.end) {
      this.start = this.end = 0;
    } else if (this.start > 0) {
      this.buffer.copyWithin(0, this.start, this.end);
      this.end -= this.start;
      this.start = 0;
    }
  }

  private skipSeparators(): void {
    if (this.scanned > 0) return;
    while (this.start < this.end) {
      const c = this.buffer[this.start];
      if (c !== LF && c !== CR && c !== NUL && c !== SPACE) return;
      this.start++;
    }
  }

  /** `<len> <msg>`: null while incomplete or after a failure. */
  private octetCounted(): string | null {
    const maxDigits = String(this.limit).length;
    let pos = this.start;
    let length = 0;
    while (pos < this.end && pos - this.start <= maxDigits) {
      const c = this.buffer[pos] ?? 0;
      if (c === SPACE) break;
      if (c < ZERO || c > NINE) return this.fail(`bogus octet count "${this.preview(pos + 1)}"`);
      length = length * 10 + (c - ZERO);
      pos++;
    }
    if (pos - this.start > maxDigits || length > this.limit) {
      return this.fail(`octet count "${this.preview(pos)}" is over the frame limit`);
    }
    if (pos === this.end) return null;
    if (this.buffer[this.start] === ZERO) return this.fail(`bogus octet count "${this.preview(pos)}"`);
    const body = pos + 1;
    if (this.end - body < length) return null;
    const frame = this.decode(body, body + length);
    this.start = body + length;
    return frame;
  }

  /** A frame ending at LF or NUL (a CR before the LF is dropped): null while incomplete or after a failure. */
  private delimited(): string | null {
    let pos = this.start + this.scanned;
    while (pos < this.end) {
      const c = this.buffer[pos];
      if (c === LF || c === NUL) {
        if (pos - this.start > this.limit) return this.fail('frame runs over the frame limit');
        const stop = pos > this.start && this.buffer[pos - 1] === CR ? pos - 1 : pos;
        const frame = this.decode(this.start, stop);
        this.start = pos + 1;
        this.scanned = 0;
        return frame;
      }
      pos++;
    }
    this.scanned = pos - this.start;
    if (this.scanned > this.limit) return this.fail('frame without a delimiter runs over the frame limit');
    return null;
  }

  private decode(from: number, to: number): string {
    return this.buffer.toString('utf8', from, to);
  }

  /** The first bytes of a bad length, printable, for the error message. */
  private preview(to: number): string {
    return this.buffer.toString('latin1', this.start, Math.min(to, this.start + 12)).replace(/[^\x20-\x7e]/g, '?');
  }

  private fail(fault: string): null {
    this.error = swError('SW_ERR_SOURCE', `syslog TCP framing: ${fault} (frame limit ${this.limit} bytes); the stream cannot be resynchronised`);
    this.start = this.end = this.scanned = 0;
    return null;
  }
}
