import assert from 'node:assert/strict';
import { appendFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { LineSplitter } from './lines.js';
import { Tailing, lines, withTempDir } from './testkit.js';

/** Feed `chunks` one after another and collect every line, as the tail loop does. */
function split(splitter: LineSplitter, chunks: Buffer[]): string[] {
  const out: string[] = [];
  for (const chunk of chunks) {
    splitter.feed(chunk);
    for (let line = splitter.next(); line !== undefined; line = splitter.next()) out.push(line);
  }
  return out;
}

test('every cut of the input into two chunks gives the same lines, multi-byte characters included', () => {
  const text = 'é€😀 ascii\r\n\nzwölf €\r\nlast 😀\n';
  const bytes = Buffer.from(text);
  for (let cut = 0; cut <= bytes.length; cut++) {
    const got = split(new LineSplitter(1024), [bytes.subarray(0, cut), bytes.subarray(cut)]);
    assert.deepEqual(got, ['é€😀 ascii', '', 'zwölf €', 'last 😀'], `cut at byte ${cut}`);
  }
});

test('consumed counts the bytes through the last newline handed out', () => {
  const splitter = new LineSplitter(1024);
  splitter.feed(Buffer.from('ab\ncd\nef'));
  assert.equal(splitter.next(), 'ab');
  assert.equal(splitter.consumed, 3);
  assert.equal(splitter.next(), 'cd');
  assert.equal(splitter.next(), undefined);
  assert.equal(splitter.consumed, 6);
  assert.equal(splitter.flush(), 'ef');
});

test('a long line is cut to maxLineBytes on a character boundary, in one chunk or across many', () => {
  const long = `${'x'.repeat(7)}€€ tail`;
  const bytes = Buffer.from(`${long}\nnext\n`);
  assert.deepEqual(split(new LineSplitter(8), [bytes]), ['xxxxxxx', 'next']);
  const oneByteChunks = [...bytes].map((byte) => Buffer.from([byte]));
  assert.deepEqual(split(new LineSplitter(8), oneByteChunks), ['xxxxxxx', 'next']);
  assert.deepEqual(split(new LineSplitter(10), oneByteChunks), ['xxxxxxx€', 'next']);
});

test('skipToNewline drops the fragment before the first newline, in whatever chunk it ends', () => {
  const splitter = new LineSplitter(64);
  splitter.skipToNewline();
  assert.deepEqual(split(splitter, [Buffer.from('frag'), Buffer.from('ment\nwhole\n')]), ['whole']);
});

test('a 3 MiB line without newline for a while is cut, never buffered, and the next line is intact', () =>
  withTempDir(async (dir) => {
    const path = join(dir, 'messages');
    await writeFile(path, 'y'.repeat(3 << 20));
    const tailing = Tailing.start({ path, startAt: 'start', maxLineBytes: 1000 });
    await appendFile(path, lines(' end of the long one', 'short'));
    assert.deepEqual(await tailing.untilLast('short'), ['y'.repeat(1000), 'short']);
    assert.equal(tailing.lastBatch?.position?.offset, (3 << 20) + 27);
    await tailing.stop();
  }));

test('multi-byte characters split across the 1 MiB read boundary decode whole, offsets stay in bytes', () =>
  withTempDir(async (dir) => {
    const path = join(dir, 'messages');
    const filler = `${'f'.repeat(99)}\n`.repeat(10_485);
    const straddling = `${'s'.repeat((1 << 20) - filler.length - 1)}€😀`;
    await writeFile(path, `${filler}${straddling}\nafter ü\n`);
    const tailing = Tailing.start({ path, startAt: 'start' });
    const got = await tailing.untilLast('after ü');
    assert.equal(got.length, 10_487);
    assert.equal(got.at(-2), straddling);
    assert.equal(tailing.lastBatch?.position?.offset, Buffer.byteLength(`${filler}${straddling}\nafter ü\n`));
    await tailing.stop();
  }));

test('batches hold at most batchLines records', () =>
  withTempDir(async (dir) => {
    const path = join(dir, 'messages');
    await writeFile(path, lines(...Array.from({ length: 10 }, (_, n) => `line-${n}`)));
    const tailing = Tailing.start({ path, startAt: 'start', batchLines: 4 });
    await tailing.untilLast('line-9');
    assert.deepEqual(
      tailing.batches.map((batch) => [batch.firstLine, batch.records.length]),
      [
        [1, 4],
        [5, 4],
        [9, 2],
      ],
    );
    await tailing.stop();
  }));
