import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NdjsonLines } from './lines.js';

function feedBytewise(lines: NdjsonLines, bytes: Buffer): string[] {
  const out: string[] = [];
  for (let i = 0; i < bytes.length; i++) out.push(...lines.push(bytes.subarray(i, i + 1)));
  return out;
}

describe('NdjsonLines', () => {
  it('joins lines cut anywhere, even inside a UTF-8 sequence, and skips empty lines', () => {
    const text = '{"MESSAGE":"Müller"}\n\n{"MESSAGE":"b"}\n{"MESS';
    const lines = new NdjsonLines();
    assert.deepEqual(feedBytewise(lines, Buffer.from(text)), ['{"MESSAGE":"Müller"}', '{"MESSAGE":"b"}']);
    assert.deepEqual(lines.end(), ['{"MESS']);
    assert.deepEqual(lines.end(), []);
  });

  it('drops a line longer than the limit whole, in one chunk or many, and counts it once', () => {
    const long = `{"MESSAGE":"${'x'.repeat(40)}"}`;
    const oneChunk = new NdjsonLines(32);
    assert.deepEqual(oneChunk.push(Buffer.from(`${long}\n{"a":1}\n`)), ['{"a":1}']);
    assert.equal(oneChunk.oversized, 1);
    const manyChunks = new NdjsonLines(32);
    assert.deepEqual(feedBytewise(manyChunks, Buffer.from(`{"a":1}\n${long}\n{"b":2}\n${long}`)), ['{"a":1}', '{"b":2}']);
    assert.equal(manyChunks.oversized, 2);
    assert.deepEqual(manyChunks.end(), [], 'the unterminated oversized tail is not returned either');
  });

  it('keeps a line of exactly the limit', () => {
    const lines = new NdjsonLines(8);
    assert.deepEqual(lines.push(Buffer.from('12345678\n123456789\n')), ['12345678']);
    assert.equal(lines.oversized, 1);
  });
});
