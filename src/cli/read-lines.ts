import { createReadStream } from 'node:fs';

/**
 * Reads a file (or stdin for `-`/undefined) as batches of lines, in 1 MiB chunks. Lines are split on the
 * newline byte before decoding, which is always a character boundary in UTF-8, so no decoder state is needed;
 * a trailing `\r` is dropped. Memory stays bounded by the chunk size plus the longest line.
 */
export async function* readLineBatches(path: string | undefined): AsyncGenerator<string[]> {
  const stream = path === undefined || path === '-' ? process.stdin : createReadStream(path, { highWaterMark: 1 << 20 });
  let carry: Buffer | null = null;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    const data: Buffer = carry ? Buffer.concat([carry, chunk]) : chunk;
    const end = data.lastIndexOf(10);
    if (end < 0) {
      carry = data;
      continue;
    }
    carry = end + 1 < data.length ? data.subarray(end + 1) : null;
    yield splitLines(data.toString('utf8', 0, end));
  }
  if (carry && carry.length > 0) yield splitLines(carry.toString('utf8'));
}

function splitLines(text: string): string[] {
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line.charCodeAt(line.length - 1) === 13) lines[i] = line.slice(0, -1);
  }
  return lines;
}
