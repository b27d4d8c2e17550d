/**
 * Splits file bytes into lines. It splits on the byte 0x0a before decoding: 0x0a never occurs inside a
 * multi-byte UTF-8 sequence, so every line decodes whole even when a chunk boundary cut a character in two,
 * and the caller can keep exact BYTE offsets. Only the unfinished last line of a chunk is copied, into a carry
 * buffer of at most `maxLineBytes + 1` bytes, so a writer that never writes a newline cannot grow memory.
 */
const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const EMPTY = Buffer.alloc(0);

export class LineSplitter {
  private chunk: Buffer = EMPTY;
  private cursor = 0;
  /** Bytes of the current chunk up to and including the last newline handed out or skipped. */
  private consumedBytes = 0;
  /** The start of a line that began in an earlier chunk; one byte over the limit marks it as too long. */
  private readonly carry: Buffer;
  private carryLength = 0;
  /** Drop bytes up to the next newline: reading started in the middle of a line. */
  private skipping = false;

  constructor(private readonly maxLineBytes: number) {
    this.carry = Buffer.allocUnsafe(maxLineBytes + 1);
  }

  /** Bytes of the chunk given to `feed` that lie before the next line `next` would return. */
  get consumed(): number {
    return this.consumedBytes;
  }

  /** Start on a new chunk; the previous one must have been read to its end with `next`. */
  feed(chunk: Buffer): void {
    this.chunk = chunk;
    this.cursor = 0;
    this.consumedBytes = 0;
  }

  /** The next complete line of the chunk, or undefined once only an unfinished line is left (it is carried). */
  next(): string | undefined {
    const chunk = this.chunk;
    for (;;) {
      const newline = chunk.indexOf(NEWLINE, this.cursor);
      if (newline === -1) {
        this.hold(this.cursor, chunk.length);
        this.cursor = chunk.length;
        return undefined;
      }
      const start = this.cursor;
      this.cursor = newline + 1;
      this.consumedBytes = this.cursor;
      if (this.skipping) {
        this.skipping = false;
        continue;
      }
      if (this.carryLength === 0) return decodeLine(chunk, start, newline, this.maxLineBytes);
      this.hold(start, newline);
      return this.takeCarry();
    }
  }

  /** The unfinished line, once the file is known to get no more bytes; undefined when there is none. */
  flush(): string | undefined {
    this.skipping = false;
    return this.carryLength === 0 ? undefined : this.takeCarry();
  }

  /** Discard everything up to and including the next newline. */
  skipToNewline(): void {
    this.carryLength = 0;
    this.skipping = true;
  }

  /** Forget the carried line, for a file that was truncated or replaced under us. */
  reset(): void {
    this.chunk = EMPTY;
    this.cursor = 0;
    this.consumedBytes = 0;
    this.carryLength = 0;
    this.skipping = false;
  }

  private hold(start: number, end: number): void {
    if (this.skipping) return;
    const room = this.carry.length - this.carryLength;
    const copied = this.chunk.copy(this.carry, this.carryLength, start, Math.min(end, start + room));
    this.carryLength += copied;
  }

  private takeCarry(): string {
    const line = decodeLine(this.carry, 0, this.carryLength, this.maxLineBytes);
    this.carryLength = 0;
    return line;
  }
}

/** Decode bytes [start, end) as one line: cut to `limit` bytes on a character boundary, or drop a trailing CR. */
function decodeLine(bytes: Buffer, start: number, end: number, limit: number): string {
  if (end - start > limit) {
    let cut = start + limit;
    // A continuation byte (10xxxxxx) at the cut means a character straddles it: leave that character out whole.
    while (cut > start && ((bytes[cut] ?? 0) & 0xc0) === 0x80) cut--;
    return bytes.toString('utf8', start, cut);
  }
  if (end > start && bytes[end - 1] === CARRIAGE_RETURN) end--;
  return bytes.toString('utf8', start, end);
}
