import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { BODY_LIMIT, EslDecoder, HEADER_LIMIT, parseEventPlain, urlDecode, type EslFrame } from './decoder.js';

const transcript = readFileSync('src/parsers/esl/esl.transcript');

function decodeAll(chunks: Buffer[]): { frames: EslFrame[]; decoder: EslDecoder } {
  const decoder = new EslDecoder();
  const frames: EslFrame[] = [];
  for (const chunk of chunks) frames.push(...decoder.push(chunk));
  return { frames, decoder };
}

function bytes(stream: Buffer): Buffer[] {
  return [...stream].map((b) => Buffer.from([b]));
}

/** Splits `stream` at the given offsets (any order, duplicates allowed). */
function splitAt(stream: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const point of [...points, stream.length]) {
    chunks.push(stream.subarray(from, point));
    from = point;
  }
  return chunks;
}

function plainEvent(lines: string[]): Buffer {
  const body = `${lines.join('\n')}\n\n`;
  return Buffer.from(`Content-Length: ${Buffer.byteLength(body)}\nContent-Type: text/event-plain\n\n${body}`);
}

describe('ESL decoder: framing', () => {
  it('reads auth/request, command/reply and events from one stream', () => {
    const { frames, decoder } = decodeAll([transcript]);
    assert.equal(decoder.error, undefined);
    assert.equal(frames.length, 12);
    assert.deepEqual(frames[0], { headers: new Map([['Content-Type', 'auth/request']]) });
    assert.equal(frames[1]?.headers.get('Reply-Text'), '+OK accepted');
    assert.equal(frames[2]?.headers.get('Reply-Text'), '+OK event listener enabled plain');
    for (const frame of frames.slice(3)) {
      assert.equal(frame.headers.get('Content-Type'), 'text/event-plain');
      assert.equal(Buffer.byteLength(frame.body ?? ''), Number(frame.headers.get('Content-Length')));
      assert.match(frame.body ?? '', /^Event-Subclass: sofia%3A%3A/);
    }
  });

  it('gives the same frames byte by byte as in one chunk', () => {
    assert.deepEqual(decodeAll(bytes(transcript)).frames, decodeAll([transcript]).frames);
  });

  it('gives the same frames for any split', () => {
    const whole = decodeAll([transcript]).frames;
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 40 }), (cuts) => {
        assert.deepEqual(decodeAll(splitAt(transcript, cuts)).frames, whole);
      }),
      { numRuns: 500 },
    );
  });

  it('counts the body in bytes, and decodes UTF-8 split anywhere', () => {
    const stream = Buffer.concat([plainEvent(['user-agent: Jürgen 電話 🦊', 'to-user: ü']), Buffer.from('Content-Type: command/reply\n\n')]);
    for (const chunks of [bytes(stream), [stream]]) {
      const { frames } = decodeAll(chunks);
      assert.equal(frames.length, 2);
      assert.equal(frames[0]?.body, 'user-agent: Jürgen 電話 🦊\nto-user: ü\n\n');
      assert.equal(frames[1]?.headers.get('Content-Type'), 'command/reply');
    }
  });

  it('returns frames only once they are complete', () => {
    const decoder = new EslDecoder();
    const event = plainEvent(['Event-Name: CUSTOM']);
    assert.deepEqual(decoder.push(event.subarray(0, event.length - 1)), []);
    assert.equal(decoder.push(event.subarray(event.length - 1)).length, 1);
  });

  it('reads Content-Length: 0 as an empty body, skips blank lines between frames, accepts CRLF', () => {
    const { frames, decoder } = decodeAll([Buffer.from('\n\nContent-Length: 0\nX: 1\n\n\r\nA: b\r\n\r\n')]);
    assert.equal(decoder.error, undefined);
    assert.deepEqual(frames, [
      { headers: new Map([['Content-Length', '0'], ['X', '1']]), body: '' },
      { headers: new Map([['A', 'b']]) },
    ]);
  });
});

describe('ESL decoder: limits', () => {
  function assertFailed(stream: Buffer, limit: RegExp, framesBefore: number): void {
    for (const chunks of [[stream], bytes(stream)]) {
      const { frames, decoder } = decodeAll(chunks);
      assert.equal(frames.length, framesBefore);
      assert.match(decoder.error?.message ?? '', limit);
      assert.equal(decoder.error?.code, 'SW_ERR_SOURCE');
      // Once failed, even a well-formed frame yields nothing.
      assert.deepEqual(decoder.push(Buffer.from('Content-Type: command/reply\n\n')), []);
    }
  }
  const good = Buffer.from('Content-Type: command/reply\nReply-Text: +OK\n\n');

  it('fails on a header block over 16 KiB', () => {
    assertFailed(Buffer.concat([good, Buffer.from(`X: ${'a'.repeat(HEADER_LIMIT)}\n\n`)]), /16384 bytes/, 1);
  });
  it('accepts a header block of exactly 16 KiB', () => {
    const block = Buffer.from(`X: ${'a'.repeat(HEADER_LIMIT - 4)}\n\n`);
    const { frames, decoder } = decodeAll([block]);
    assert.equal(decoder.error, undefined);
    assert.equal(frames.length, 1);
  });
  it('fails on a Content-Length over 1 MiB', () => {
    assertFailed(Buffer.concat([good, Buffer.from(`Content-Length: ${BODY_LIMIT + 1}\n\nxx`)]), /1048576/, 1);
  });
  it('fails on a Content-Length that is not a number', () => {
    for (const bogus of ['-1', '12abc', '1e3', '', '0x10', '9'.repeat(400), ' 1 2']) {
      assertFailed(Buffer.concat([good, Buffer.from(`Content-Length: ${bogus}\n\nxx`)]), /Content-Length/, 1);
    }
  });
  it('fails on a header line without a name', () => {
    assertFailed(Buffer.concat([good, Buffer.from('no colon here\n\n')]), /without a name/, 1);
    assertFailed(Buffer.from(': value\n\n'), /without a name/, 0);
  });
  it('never throws on garbage, and every frame it gives is well formed', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 10 }), (parts) => {
        const { frames } = decodeAll(parts.map((p) => Buffer.from(p)));
        for (const frame of frames) {
          const length = frame.headers.get('Content-Length');
          if (length !== undefined) assert.equal(Buffer.from(frame.body ?? '').length <= Number(length), true);
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe('event-plain bodies', () => {
  it('URL-decodes values; bad escapes and invalid UTF-8 stay as written', () => {
    assert.equal(urlDecode('sofia%3A%3Aregister_failure'), 'sofia::register_failure');
    assert.equal(urlDecode('Yealink%20SIP-T46S'), 'Yealink SIP-T46S');
    assert.equal(urlDecode('a%zzb%'), 'a%zzb%');
    assert.equal(urlDecode('%C3%A9t%C3'), 'ét%C3');
    assert.equal(urlDecode('%FF%FE'), '%FF%FE');
    assert.equal(urlDecode('a+b'), 'a+b');
  });

  it('keeps the first of a repeated header and stops at the event body', () => {
    const event = parseEventPlain('profile-name: internal\nprofile-name: other\nno-colon\nContent-Length: 3\n\nnetwork-ip: 192.0.2.1\n');
    assert.deepEqual(event, new Map([['profile-name', 'internal'], ['Content-Length', '3']]));
  });

  it('never throws on random text', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (text) => void parseEventPlain(text)), { numRuns: 1000 });
  });
});
