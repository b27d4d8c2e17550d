/**
 * Incremental framing of the Asterisk Manager Interface (reference §1.5), with no I/O: the network client
 * pushes whatever the socket delivers and gets back the complete messages.
 *
 * The stream is a one-line banner (`Asterisk Call Manager/9.0.0\r\n`), then messages of `Key: value` lines,
 * each message ended by a blank line. Asterisk writes `\r\n`; a bare `\n` is accepted too, for relays and
 * test tools that drop the `\r`.
 *
 * The decoder works on bytes, so a UTF-8 character split between two chunks is decoded whole, and the limits
 * below are byte counts. A frame that breaks a limit or has a line that is not `Key: value` is dropped whole:
 * its lines are skipped up to the next blank line and it is counted in `dropped`. A partial frame must never
 * reach the parser, because the field it lost could be the one that makes it tampered (a second
 * RemoteAddress). `push` never throws.
 */

export interface AmiMessage {
  /** `banner`: the greeting line, with one field `Version` (`9.0.0`). `message`: a frame of fields. */
  kind: 'banner' | 'message';
  /** Fields in wire order; a key may repeat. */
  fields: [string, string][];
  /** Value of the first field named `key`, compared without case (Asterisk reads keys that way). */
  get(key: string): string | undefined;
}

/** Longest line, without its line end. Asterisk's own longest values (a Cdr's UserField) stay far below. */
export const AMI_LINE_LIMIT = 8 * 1024;
/** Longest message, line ends included, without the blank line that ends it. */
export const AMI_MESSAGE_LIMIT = 64 * 1024;

const BANNER = 'Asterisk Call Manager/';
const LF = 0x0a;
const CR = 0x0d;

class Frame implements AmiMessage {
  constructor(
    readonly kind: 'banner' | 'message',
    readonly fields: [string, string][],
  ) {}

  get(key: string): string | undefined {
    const wanted = key.toLowerCase();
    for (const [name, value] of this.fields) if (name.toLowerCase() === wanted) return value;
    return undefined;
  }
}

/** `Key: value` as Asterisk reads it: key up to the first colon, blanks after the colon skipped. */
function splitField(line: string): [string, string] | null {
  const colon = line.indexOf(':');
  if (colon <= 0) return null;
  let start = colon + 1;
  while (start < line.length && (line.charCodeAt(start) === 32 || line.charCodeAt(start) === 9)) start++;
  return [line.slice(0, colon), line.slice(start)];
}

/** The message back as `Key: value` lines joined by `\n`, e.g. for an event's `raw`. */
export function formatAmiMessage(message: AmiMessage): string {
  return message.fields.map(([key, value]) => `${key}: ${value}`).join('\n');
}

export class AmiDecoder {
  /** Frames dropped for breaking a limit or for a line that is not `Key: value`. */
  dropped = 0;

  /** Bytes of the line being read, when it is split across chunks. */
  private lineParts: Buffer[] = [];
  private lineBytes = 0;
  /** The kept part ends with CR: known even while skipping, when the bytes themselves are not kept. */
  private partEndsWithCr = false;
  private fields: [string, string][] = [];
  private messageBytes = 0;
  /** The current frame is broken: skip lines up to the next blank one. */
  private skipping = false;
  private firstLine = true;

  push(chunk: Buffer | string): AmiMessage[] {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    const out: AmiMessage[] = [];
    let pos = 0;
    while (pos < bytes.length) {
      const lf = bytes.indexOf(LF, pos);
      if (lf < 0) {
        this.keepPartial(bytes.subarray(pos));
        break;
      }
      this.endLine(bytes, pos, lf, out);
      pos = lf + 1;
    }
    return out;
  }

  private keepPartial(part: Buffer): void {
    this.lineBytes += part.length;
    this.partEndsWithCr = part[part.length - 1] === CR;
    // One byte of slack for the CR that may end the line; past that the line is too long whatever follows.
    if (this.lineBytes > AMI_LINE_LIMIT + 1) {
      this.breakFrame();
      this.lineParts = [];
      return;
    }
    if (!this.skipping) this.lineParts.push(Buffer.from(part));
  }

  /** The line is the kept part plus bytes[start, lf). */
  private endLine(bytes: Buffer, start: number, lf: number, out: AmiMessage[]): void {
    let length = this.lineBytes + (lf - start);
    const lineEnd = length + 1;
    let line: Buffer | null = null;
    if (!this.skipping && length <= AMI_LINE_LIMIT + 1) {
      line = this.lineParts.length === 0
        ? bytes.subarray(start, lf)
        : Buffer.concat([...this.lineParts, bytes.subarray(start, lf)]);
    }
    const endsWithCr = lf > start ? bytes[lf - 1] === CR : this.partEndsWithCr;
    if (endsWithCr) length--;
    this.lineParts = [];
    this.lineBytes = 0;
    this.partEndsWithCr = false;
    const first = this.firstLine;
    this.firstLine = false;

    if (length === 0) {
      this.endFrame(out);
      return;
    }
    if (this.skipping) return;
    if (length > AMI_LINE_LIMIT || this.messageBytes + lineEnd > AMI_MESSAGE_LIMIT || !line) {
      this.breakFrame();
      return;
    }
    this.messageBytes += lineEnd;
    const text = line.toString('utf8', 0, length);
    if (first && text.startsWith(BANNER)) {
      out.push(new Frame('banner', [['Version', text.slice(BANNER.length)]]));
      this.messageBytes = 0;
      return;
    }
    const field = splitField(text);
    if (!field) {
      this.breakFrame();
      return;
    }
    this.fields.push(field);
  }

  private endFrame(out: AmiMessage[]): void {
    // Blank lines between frames carry nothing and are not messages.
    if (!this.skipping && this.fields.length > 0) out.push(new Frame('message', this.fields));
    this.fields = [];
    this.messageBytes = 0;
    this.skipping = false;
  }

  private breakFrame(): void {
    if (!this.skipping) this.dropped++;
    this.skipping = true;
    this.fields = [];
    this.messageBytes = 0;
  }
}
