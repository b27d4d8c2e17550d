import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeHep } from './decode.js';
import { HepTcpFramer } from './tcp.js';
import { encodeHep3, hep3, u16 } from './testing.js';

const first = encodeHep3({ srcIp: '203.0.113.9', dstIp: '192.0.2.1', payload: 'REGISTER sip:a SIP/2.0\r\n\r\n' });
const second = encodeHep3({ srcIp: '2001:db8::9', dstIp: '2001:db8::1', payload: 'INVITE sip:b SIP/2.0\r\n\r\n' });
const stream = Buffer.concat([first, second]);

function frame(chunks: Buffer[], framer = new HepTcpFramer()): Buffer[] {
  return chunks.flatMap((c) => framer.push(c));
}

describe('HepTcpFramer', () => {
  it('cuts byte-by-byte input into the same frames as one chunk', () => {
    const whole = frame([stream]);
    assert.deepEqual(whole, [first, second]);
    assert.deepEqual(frame([...stream].map((b) => Buffer.from([b]))), whole);
  });

  it('returns two frames from one chunk, and each decodes', () => {
    const frames = new HepTcpFramer().push(stream);
    assert.equal(frames.length, 2);
    assert.deepEqual(
      frames.map((f) => (decodeHep(f).ok ? 'ok' : 'bad')),
      ['ok', 'ok'],
    );
  });

  it('gives the same frames whatever the split points', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 10 }), (cuts) => {
        const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
        const chunks: Buffer[] = [];
        let from = 0;
        for (const point of [...points, stream.length]) {
          chunks.push(stream.subarray(from, point));
          from = point;
        }
        assert.deepEqual(frame(chunks), [first, second]);
      }),
    );
  });

  it('keeps a partial frame until the rest arrives', () => {
    const framer = new HepTcpFramer();
    assert.deepEqual(framer.push(stream.subarray(0, first.length + 3)), [first]);
    assert.deepEqual(framer.push(stream.subarray(first.length + 3)), [second]);
    assert.equal(framer.failed, false);
  });

  it('fails for good on a bad magic, at the first wrong byte', () => {
    const framer = new HepTcpFramer();
    assert.deepEqual(framer.push(Buffer.from('H')), []);
    assert.deepEqual(framer.push(Buffer.from('T')), []);
    assert.equal(framer.failed, true);
    assert.match(framer.error ?? '', /bad magic/);
    assert.deepEqual(framer.push(first), []);
  });

  it('fails on a frame length over the limit or below 6', () => {
    const limit = first.length;
    const big = new HepTcpFramer({ maxBytes: limit });
    assert.deepEqual(big.push(Buffer.concat([first, Buffer.from('HEP3'), u16(limit + 1)])), [first]);
    assert.equal(big.error, `frame length ${limit + 1} is outside 6..${limit}`);
    const small = new HepTcpFramer();
    small.push(Buffer.concat([Buffer.from('HEP3'), u16(5)]));
    assert.match(small.error ?? '', /frame length 5/);
  });

  it('passes a header-only frame through for the decoder to reject', () => {
    assert.deepEqual(frame([hep3([])]), [hep3([])]);
  });

  it('never throws on random input', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 10 }), (chunks) => {
        const framer = new HepTcpFramer();
        for (const c of chunks) framer.push(Buffer.from(c));
      }),
    );
  });
});
