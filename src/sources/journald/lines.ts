/** Longest journal entry read, in bytes of its JSON line; longer lines are skipped whole (see NdjsonLines). */
export const JOURNAL_LINE_LIMIT = 64 * 1024;

const NEWLINE = 0x0a;

/**
 * Splits `journalctl -o json` output into lines as it arrives, in chunks cut anywhere, even inside a UTF-8
 * sequence. A line longer than the limit is dropped from its start to its newline and counted: journald entries
 * can be huge (a binary MESSAGE, a core dump's fields), and buffering them without bound would let one noisy
 * unit grow the daemon's memory.
 */
export class NdjsonLines {
  /** Lines dropped for being longer than the limit. */
  oversized = 0;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private skipping = false;

  constructor(private readonly limit = JOURNAL_LINE_LIMIT) {}

  /** The lines completed by this chunk, without their newline. */
  push(chunk: Buffer): string[] {
    const lines: string[] = [];
    let start = 0;
    for (let nl = chunk.indexOf(NEWLINE, start); nl >= 0; nl = chunk.indexOf(NEWLINE, start)) {
      const tail = chunk.subarray(start, nl);
      if (this.skipping || this.pendingBytes + tail.length > this.limit) {
        if (!this.skipping) this.oversized++;
      } else {
        lines.push(Buffer.concat([...this.pending, tail]).toString('utf8'));
      }
      this.reset();
      start = nl + 1;
    }
    this.hold(chunk.subarray(start));
    return lines.filter((line) => line.length > 0);
  }

  /** What is left when the stream ends: a last line without its newline, if any. */
  end(): string[] {
    const rest = this.skipping || this.pendingBytes === 0 ? [] : [Buffer.concat(this.pending).toString('utf8')];
    this.reset();
    return rest;
  }

  private hold(part: Buffer): void {
    if (part.length === 0 || this.skipping) return;
    if (this.pendingBytes + part.length > this.limit) {
      this.oversized++;
      this.pending = [];
      this.pendingBytes = 0;
      this.skipping = true;
      return;
    }
    this.pending.push(part);
    this.pendingBytes += part.length;
  }

  private reset(): void {
    this.pending = [];
    this.pendingBytes = 0;
    this.skipping = false;
  }
}
