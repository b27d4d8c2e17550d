import { swError, type SipwardenError } from '../../core/errors.js';
import { readHeaders } from './headers.js';
import { findHeaderEnd, parseSipMessage } from './message.js';
import { SIP_MESSAGE_LIMIT, type SipMessage } from './types.js';

/**
 * Frames SIP over a stream transport (TCP, TLS after decryption): each message is its header section up to the
 * blank line, then Content-Length body bytes (RFC 3261 §18.3; a missing Content-Length means 0 here, since a
 * stream gives no other way to find the end). CRLF keep-alives between messages (RFC 5626 §3.5.1) are skipped.
 *
 * Contract: push() never throws and accepts any split of the bytes. Once a frame cannot be delimited (past
 * SIP_MESSAGE_LIMIT, an unreadable or conflicting Content-Length, a frame that is not SIP) the decoder is
 * `failed`, keeps `error`, drops further input and returns []; the caller should close the connection, since
 * no later byte can be trusted to start a message.
 */
export class SipStreamDecoder {
  private buffer = Buffer.alloc(0);
  private length = 0;
  /** Bytes already searched for the blank line, so a byte-by-byte sender costs linear time. */
  private scanned = 0;
  error: SipwardenError | undefined;

  get failed(): boolean {
    return this.error !== undefined;
  }

  push(chunk: Buffer): SipMessage[] {
    if (this.failed) return [];
    try {
      this.append(chunk);
      return this.drain();
    } catch (cause) {
      this.fail('SIP stream decoder stopped on an unexpected error', cause);
      return [];
    }
  }

  private append(chunk: Buffer): void {
    if (this.length + chunk.length > this.buffer.length) {
      const grown = Buffer.alloc(Math.max(this.length + chunk.length, this.buffer.length * 2, 4096));
      this.buffer.copy(grown, 0, 0, this.length);
      this.buffer = grown;
    }
    chunk.copy(this.buffer, this.length);
    this.length += chunk.length;
  }

  private drain(): SipMessage[] {
    const messages: SipMessage[] = [];
    for (;;) {
      this.skipKeepAlives();
      const view = this.buffer.subarray(0, this.length);
      const end = findHeaderEnd(view, Math.max(0, this.scanned - 2));
      if (end === null) {
        this.scanned = this.length;
        if (this.length > SIP_MESSAGE_LIMIT) this.fail(`SIP header section exceeds ${SIP_MESSAGE_LIMIT} bytes`);
        return messages;
      }
      const bodyLength = this.contentLength(view.subarray(0, end.head).toString('utf8'));
      if (bodyLength === null) return messages;
      const total = end.body + bodyLength;
      if (total > SIP_MESSAGE_LIMIT) {
        this.fail(`SIP message of ${total} bytes exceeds ${SIP_MESSAGE_LIMIT} bytes`);
        return messages;
      }
      if (this.length < total) {
        // Search from the blank line again next time: the body may take many more chunks.
        this.scanned = end.head;
        return messages;
      }
      const message = parseSipMessage(Buffer.from(view.subarray(0, total)));
      if (message === null) {
        this.fail('SIP stream frame is not a SIP request or response');
        return messages;
      }
      messages.push(message);
      this.consume(total);
    }
  }

  /** Content-Length of a header section; 0 when absent, null (and failed) when it cannot frame the stream. */
  private contentLength(head: string): number | null {
    const headers = readHeaders(head.split('\n').slice(1).map((line) => line.replace(/\r$/, '')));
    if (headers === null) {
      this.fail('SIP stream frame has too many header fields');
      return null;
    }
    const values = headers.get('content-length') ?? [];
    // Two different lengths would let the sender and the server frame the stream differently (smuggling).
    if (values.length === 0) return 0;
    if (!values.every((value) => /^\d{1,10}$/.test(value) && Number(value) === Number(values[0]))) {
      this.fail(`SIP stream frame has an unusable Content-Length (${values.join(', ').slice(0, 40)})`);
      return null;
    }
    return Number(values[0]);
  }

  private skipKeepAlives(): void {
    let start = 0;
    while (start < this.length && (this.buffer[start] === 0x0d || this.buffer[start] === 0x0a)) start += 1;
    if (start > 0) this.consume(start);
  }

  private consume(count: number): void {
    this.buffer.copy(this.buffer, 0, count, this.length);
    this.length -= count;
    this.scanned = 0;
  }

  private fail(message: string, cause?: unknown): void {
    this.error = swError('SW_ERR_SOURCE', message, cause);
    this.buffer = Buffer.alloc(0);
    this.length = 0;
  }
}
