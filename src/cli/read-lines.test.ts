import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { mkdtempSync } from 'node:fs';
import { readFileLineBatches, readLineBatches } from './read-lines.js';

const dir = mkdtempSync(join(tmpdir(), 'sw-lines-'));

async function both(content: string | Buffer): Promise<[string[], string[]]> {
  const file = join(dir, `f${Math.random()}`);
  writeFileSync(file, content);
  const sync = [...readFileLineBatches(file)].flat();
  const streamed: string[] = [];
  for await (const batch of readLineBatches(file)) streamed.push(...batch);
  return [sync, streamed];
}

describe('line readers (sync and streamed agree)', () => {
  it('splits lines, drops CR, keeps a last line without newline', async () => {
    for (const lines of await both('a\r\nb\nc')) assert.deepEqual(lines, ['a', 'b', 'c']);
  });

  it('keeps multi-byte UTF-8 whole across 1 MiB reads', async () => {
    const filler = 'x'.repeat((1 << 20) - 2);
    for (const lines of await both(`${filler}€\n😀 ok\n`)) {
      assert.equal(lines[0], `${filler}€`);
      assert.equal(lines[1], '😀 ok');
    }
  });

  it('a line longer than the read buffer comes out whole', async () => {
    const long = 'y'.repeat(3 << 20);
    for (const lines of await both(`first\n${long}\nlast\n`)) assert.deepEqual(lines.map((l) => l.length), [5, long.length, 4]);
  });

  it('latin1 bytes that are not UTF-8 do not throw', async () => {
    for (const lines of await both(Buffer.from([0x61, 0xff, 0xfe, 0x0a, 0x62, 0x0a]))) assert.equal(lines.length, 2);
  });
});
