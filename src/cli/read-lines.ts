import { isAscii } from 'node:buffer';
import { accessSync, closeSync, constants, createReadStream, openSync, readSync } from 'node:fs';
import { swError } from '../core/errors.js';

/**
 * Reads a file (or stdin for `-`/undefined) as batches of lines, in 1 MiB chunks. Lines are split on the
 * newline byte before decoding, which is always a character boundary in UTF-8. An all-ASCII chunk (nearly
 * every chunk of a real log) is decoded as latin1, which gives the same string as UTF-8 without the cost of
 * validation; only chunks with other bytes pay for UTF-8 decoding. A trailing `\r` is dropped. Memory stays
 * bounded by the chunk size plus the longest line.
 */
/** Throws SW_ERR_ARGUMENT naming the file when a log file given on the command line cannot be read. */
export function checkReadable(path: string): void {
  try {
    accessSync(path, constants.R_OK);
  } catch (error) {
    throw swError('SW_ERR_ARGUMENT', `cannot read log file ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, error);
  }
}

export async function* readLineBatches(path: string | undefined): AsyncGenerator<string[]> {
  const stream = path === undefined || path === '-' ? process.stdin : createReadStream(path, { highWaterMark: 1 << 20 });
  let carry: Buffer | null = null;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    const end = chunk.lastIndexOf(10);
    if (end < 0) {
      carry = carry ? Buffer.concat([carry, chunk]) : chunk;
      continue;
    }
    let lines: string[];
    if (carry) {
      // Only the partial line from the previous chunk and this chunk's first line are joined, not 1 MiB.
      const first = chunk.indexOf(10);
      const head = decode(Buffer.concat([carry, chunk.subarray(0, first)]), 0, carry.length + first);
      lines = first === end ? [head] : [head, ...splitLines(decode(chunk, first + 1, end))];
    } else {
      lines = splitLines(decode(chunk, 0, end));
    }
    carry = end + 1 < chunk.length ? Buffer.from(chunk.subarray(end + 1)) : null;
    yield lines;
  }
  if (carry && carry.length > 0) yield splitLines(decode(carry, 0, carry.length));
}

/**
 * The same batches, read synchronously: for replays of whole files, where a stream's promise per chunk buys
 * nothing and costs time.
 */
export function* readFileLineBatches(path: string): Generator<string[]> {
  const fd = openSync(path, 'r');
  try {
    let buffer = Buffer.allocUnsafe(1 << 20);
    let filled = 0;
    for (;;) {
      if (filled === buffer.length) {
        // A line longer than the buffer: grow it rather than cut the line.
        const bigger = Buffer.allocUnsafe(buffer.length * 2);
        buffer.copy(bigger, 0, 0, filled);
        buffer = bigger;
      }
      const n = readSync(fd, buffer, filled, buffer.length - filled, null);
      if (n === 0) break;
      filled += n;
      const end = buffer.lastIndexOf(10, filled - 1);
      if (end < 0) continue;
      yield splitLines(decode(buffer, 0, end));
      buffer.copy(buffer, 0, end + 1, filled);
      filled -= end + 1;
    }
    if (filled > 0) yield splitLines(decode(buffer, 0, filled));
  } finally {
    closeSync(fd);
  }
}

function decode(buffer: Buffer, start: number, end: number): string {
  const view = buffer.subarray(start, end);
  return view.toString(isAscii(view) ? 'latin1' : 'utf8');
}

function splitLines(text: string): string[] {
  const lines = text.split('\n');
  if (text.indexOf('\r') < 0) return lines;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line.charCodeAt(line.length - 1) === 13) lines[i] = line.slice(0, -1);
  }
  return lines;
}
