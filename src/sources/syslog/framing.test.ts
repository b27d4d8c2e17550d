import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isSipwardenError } from '../../core/errors.js';
import { SyslogTcpFramer } from './framing.js';

const KAMAILIO = '<28>Jan  1 12:00:00 sip1 kamailio[1234]: WARNING: pike [pike_funcs.c:135]: x';
const UNICODE = '<13>1 - h a - - - \uFEFFnaïve 東京 🚀';

function octetCounted(message: string): string {
  return `${Buffer.byteLength(message)} ${message}`;
}

/** Octet-counted and newline/NUL-delimited frames on one connection, as RFC 6587 allows per frame. */
const MIXED = [
  octetCounted(KAMAILIO),
  `${KAMAILIO}\n`,
  octetCounted(`${KAMAILIO}\nwith a newline inside`),
  `${UNICODE}\r\n`,
  octetCounted(UNICODE),
  `${KAMAILIO}\0`,
  '\n',
  octetCounted('<13>x'),
].join('');
const EXPECTED = [KAMAILIO, KAMAILIO, `${KAMAILIO}\nwith a newline inside`, UNICODE, UNICODE, KAMAILIO, '<13>x'];

function feed(framer: SyslogTcpFramer, bytes: Buffer, cuts: number[]): string[] {
  const frames: string[] = [];
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    frames.push(...framer.push(bytes.subarray(from, cut)));
    from = cut;
  }
  return frames;
}

describe('SyslogTcpFramer', () => {
  const bytes = Buffer.from(MIXED);

  it('reads mixed octet-counted and delimited frames from one chunk', () => {
    const framer = new SyslogTcpFramer();
    assert.deepEqual(framer.push(bytes), EXPECTED);
    assert.equal(framer.error, undefined);
  });

  it('gives the same frames byte by byte, even inside UTF-8 characters', () => {
    const framer = new SyslogTcpFramer();
    const cuts = Array.from({ length: bytes.length - 1 }, (_, i) => i + 1);
    assert.deepEqual(feed(framer, bytes, cuts), EXPECTED);
  });

  it('gives the same frames for any split', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: bytes.length - 1 }), { maxLength: 40 }), (cuts) => {
        assert.deepEqual(feed(new SyslogTcpFramer(), bytes, cuts.sort((a, b) => a - b)), EXPECTED);
      }),
    );
  });

  it('flushes a last delimited frame without its delimiter, but not half an octet-counted one', () => {
    const framer = new SyslogTcpFramer();
    assert.deepEqual(framer.push(Buffer.from('<13>a\n<13>b')), ['<13>a']);
    assert.deepEqual(framer.flush(), ['<13>b']);
    assert.deepEqual(framer.push(Buffer.from('10 <13>')), []);
    assert.deepEqual(framer.flush(), []);
  });

  it('accepts a frame of exactly the limit', () => {
    const message = `<13>${'a'.repeat(96)}`;
    const framer = new SyslogTcpFramer(100);
    assert.deepEqual(framer.push(Buffer.from(`${octetCounted(message)}${message}\n`)), [message, message]);
    assert.equal(framer.error, undefined);
  });

  const failures: [string, string, RegExp][] = [
    ['an octet count over the limit', '101 <13>x', /octet count "101" is over the frame limit \(frame limit 100 bytes\)/],
    ['an octet count with too many digits', '00000000001 x', /over the frame limit/],
    ['a bogus octet count', '12ab <13>x', /bogus octet count "12a"/],
    ['a zero-padded octet count', '05 <13>x', /bogus octet count "05"/],
    ['a delimited frame over the limit', `<13>${'a'.repeat(200)}\n`, /runs over the frame limit/],
    ['an undelimited run over the limit', `<13>${'a'.repeat(200)}`, /frame without a delimiter runs over the frame limit/],
  ];
  for (const [name, stream, message] of failures) {
    it(`fails for good on ${name}, naming the limit, in one chunk or byte by byte`, () => {
      for (const bytewise of [false, true]) {
        const framer = new SyslogTcpFramer(100);
        const input = Buffer.from(`<13>ok\n${stream}`);
        const cuts = bytewise ? Array.from({ length: input.length - 1 }, (_, i) => i + 1) : [];
        assert.deepEqual(feed(framer, input, cuts), ['<13>ok']);
        assert.ok(isSipwardenError(framer.error, 'SW_ERR_SOURCE'), String(framer.error));
        assert.match(framer.error.message, message);
        assert.deepEqual(framer.push(Buffer.from('<13>after\n')), []);
        assert.deepEqual(framer.flush(), []);
      }
    });
  }

  it('never throws on random bytes in random chunks, and never returns a frame over the limit', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 20 }), (chunks) => {
        const framer = new SyslogTcpFramer(50);
        for (const chunk of chunks) {
          for (const frame of framer.push(Buffer.from(chunk))) assert.ok(frame.length <= 50);
        }
        framer.flush();
      }),
      { numRuns: 2000 },
    );
  });
});
