import { swError, type SipwardenError } from '../../core/errors.js';

/**
 * The FreeSWITCH event socket (mod_event_socket) framing, without I/O.
 *
 * A frame is a block of `Name: value` lines ended by an empty line; when the block has `Content-Length: N`,
 * exactly N bytes of body follow. Bodies are counted in bytes, so a multi-byte UTF-8 character split across
 * reads is only decoded once the whole body is in.
 *
 * Contract:
 * - `push` takes any split of the byte stream (down to single bytes) and returns the frames completed by it,
 *   oldest first. It never throws.
 * - A byte stream has no marker to resynchronise on: once the framing is broken (a header block over
 *   HEADER_LIMIT bytes, a header line without a name, a Content-Length that is not a count up to BODY_LIMIT),
 *   the decoder fails for good. It returns no further frames, `error` says which limit was passed, and the
 *   caller drops the connection and reconnects with a new decoder. Frames completed before the fault are valid.
 */

export const HEADER_LIMIT = 16 * 1024;
export const BODY_LIMIT = 1024 * 1024;

export interface EslFrame {
  /** Envelope headers as sent (not URL-decoded); the first of a repeated name wins, as in libesl. */
  headers: Map<string, string>;
  /** Present when the frame had a Content-Length. */
  body?: string;
}

const LF = 10;
const CR = 13;

export class EslDecoder {
  /** One fixed buffer: a peer that never ends its header block costs HEADER_LIMIT bytes, not more. */
  private readonly header = Buffer.alloc(HEADER_LIMIT);
  private headerLength = 0;
  private lineHasText = false;
  /** Headers of the frame whose body is being read. */
  private framing: Map<string, string> | null = null;
  private body: Buffer = Buffer.alloc(0);
  private bodyFilled = 0;
  private failure: SipwardenError | undefined;

  /** Why the decoder stopped; undefined while the stream is well framed. */
  get error(): SipwardenError | undefined {
    return this.failure;
  }

  push(chunk: Buffer): EslFrame[] {
    const frames: EslFrame[] = [];
    let offset = 0;
    while (this.failure === undefined && offset < chunk.length) {
      offset = this.framing ? this.readBody(chunk, offset, frames) : this.readHeader(chunk, offset, frames);
    }
    return frames;
  }

  private readHeader(chunk: Buffer, offset: number, frames: EslFrame[]): number {
    for (let i = offset; i < chunk.length; i++) {
      const byte = chunk[i] as number;
      // mod_event_socket ends lines with LF; a CR is dropped so that CRLF peers frame the same way.
      if (byte === CR) continue;
      if (byte === LF) {
        if (this.lineHasText) {
          this.lineHasText = false;
        } else {
          // An empty line before any header is padding between frames, not an empty frame.
          if (this.headerLength > 0) {
            this.endHeader(frames);
            return i + 1;
          }
          continue;
        }
      } else {
        this.lineHasText = true;
      }
      if (this.headerLength === HEADER_LIMIT) {
        this.fail(`ESL header block exceeds ${HEADER_LIMIT} bytes without an empty line`);
        return chunk.length;
      }
      this.header[this.headerLength++] = byte;
    }
    return chunk.length;
  }

  private endHeader(frames: EslFrame[]): void {
    const text = this.header.toString('utf8', 0, this.headerLength);
    this.headerLength = 0;
    const headers = new Map<string, string>();
    for (const line of text.split('\n')) {
      if (line === '') continue;
      const colon = line.indexOf(':');
      const name = colon > 0 ? line.slice(0, colon).trim() : '';
      if (name === '') {
        this.fail(`ESL header line without a name: "${line.slice(0, 40)}"`);
        return;
      }
      if (!headers.has(name)) headers.set(name, line.slice(colon + 1).trim());
    }
    const length = headers.get('Content-Length');
    if (length === undefined) {
      frames.push({ headers });
      return;
    }
    // At most 7 digits before Number(): a 400-digit length must not become Infinity or 1e400 checks.
    if (!/^\d{1,7}$/.test(length) || Number(length) > BODY_LIMIT) {
      this.fail(`ESL Content-Length "${length.slice(0, 40)}" is not a byte count of at most ${BODY_LIMIT}`);
      return;
    }
    const bytes = Number(length);
    if (bytes === 0) {
      frames.push({ headers, body: '' });
      return;
    }
    this.framing = headers;
    this.body = Buffer.allocUnsafe(bytes);
    this.bodyFilled = 0;
  }

  private readBody(chunk: Buffer, offset: number, frames: EslFrame[]): number {
    const take = Math.min(this.body.length - this.bodyFilled, chunk.length - offset);
    chunk.copy(this.body, this.bodyFilled, offset, offset + take);
    this.bodyFilled += take;
    if (this.bodyFilled === this.body.length && this.framing) {
      frames.push({ headers: this.framing, body: this.body.toString('utf8') });
      this.framing = null;
      this.body = Buffer.alloc(0);
    }
    return offset + take;
  }

  private fail(message: string): void {
    this.failure = swError('SW_ERR_SOURCE', `${message}; the stream cannot be resynchronised, reconnect`);
    this.framing = null;
    this.body = Buffer.alloc(0);
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * `%XX` escapes decoded as UTF-8, the way switch_url_decode reverses switch_url_encode. A run of escapes that is
 * not valid UTF-8, and a `%` not followed by two hex digits, stay as written: a peer-chosen value must not make
 * decoding throw, and the raw text is still evidence. `+` is not a space in FreeSWITCH's encoding.
 */
export function urlDecode(text: string): string {
  if (text.indexOf('%') < 0) return text;
  return text.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
    try {
      return utf8.decode(Buffer.from(run.replace(/%/g, ''), 'hex'));
    } catch {
      return run;
    }
  });
}

/**
 * The headers of a `text/event-plain` body: `Name: url-encoded-value` lines. Parsing stops at the first empty
 * line, after which an event carries its own body (not needed here). The first of a repeated name wins, as
 * esl_event_get_header does (sofia adds `profile-name` twice). Values are URL-encoded on the wire, so a peer
 * cannot smuggle a line break, and with it a header line of its own, into a value.
 */
export function parseEventPlain(body: string): Map<string, string> {
  const event = new Map<string, string>();
  for (const line of body.split('\n')) {
    if (line === '' || line === '\r') break;
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon);
    if (event.has(name)) continue;
    event.set(name, urlDecode(line.slice(colon + 1).trim()));
  }
  return event;
}
