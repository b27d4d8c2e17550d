import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { parseSipMessage } from './message.js';
import { SipStreamDecoder } from './stream.js';
import {
  CHALLENGE_401, FORBIDDEN_403, INVITE_WITH_SDP, REGISTER_OK, SIPP_REGISTER, SVCRACK_REGISTER, SVMAP_OPTIONS, SVWAR_REGISTER,
} from './samples.js';

const SAMPLES = [SVMAP_OPTIONS, SVWAR_REGISTER, SVCRACK_REGISTER, SIPP_REGISTER, CHALLENGE_401, FORBIDDEN_403, REGISTER_OK, INVITE_WITH_SDP];
const PIECES = ['\r\n', '\n', ' ', '\t', ':', ';', ',', '"', '\\', '<', '>', '@', '=', 'sip:', 'tel:', 'SIP/2.0', '[', ']', '\0', '\u00ff', '\ud800'];

/** A real message with a few bytes replaced, deleted or spliced with delimiters the parser splits on. */
const mutated = fc.tuple(
  fc.constantFrom(...SAMPLES),
  fc.array(fc.tuple(fc.nat(), fc.nat(8), fc.oneof(fc.constantFrom(...PIECES), fc.string({ maxLength: 4 }))), { minLength: 1, maxLength: 6 }),
).map(([sample, edits]) => edits.reduce((text, [at, cut, insert]) => {
  const i = at % (text.length + 1);
  return text.slice(0, i) + insert + text.slice(i + cut);
}, sample));

test('random bytes never throw, and anything returned is a request or a response', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
    const message = parseSipMessage(Buffer.from(bytes));
    assert.ok(message === null || message.kind === 'request' || message.kind === 'response');
  }), { numRuns: 2000 });
});

test('random bytes after a valid start line never throw', () => {
  fc.assert(fc.property(fc.constantFrom('OPTIONS sip:x SIP/2.0\r\n', 'SIP/2.0 401 Unauthorized\r\n'), fc.uint8Array({ maxLength: 600 }), (line, bytes) => {
    const message = parseSipMessage(Buffer.concat([Buffer.from(line), Buffer.from(bytes)]));
    assert.ok(message !== null);
    for (const via of message.vias) assert.ok(via.port === undefined || (via.port >= 0 && via.port <= 65535));
  }), { numRuns: 2000 });
});

test('mutated real messages never throw; string and Buffer input agree', () => {
  fc.assert(fc.property(mutated, (text) => {
    const fromString = parseSipMessage(text);
    const fromBuffer = parseSipMessage(Buffer.from(text, 'utf8'));
    assert.deepEqual(fromString, fromBuffer);
    if (fromString !== null) assert.ok(Buffer.byteLength(fromString.body) <= Buffer.byteLength(text));
  }), { numRuns: 3000 });
});

test('the stream decoder never throws on random chunks, and stays failed once failed', () => {
  fc.assert(fc.property(fc.array(fc.oneof(fc.uint8Array({ maxLength: 200 }), mutated.map((t) => new Uint8Array(Buffer.from(t)))), { maxLength: 8 }), (chunks) => {
    const decoder = new SipStreamDecoder();
    for (const chunk of chunks) {
      const wasFailed = decoder.failed;
      const messages = decoder.push(Buffer.from(chunk));
      if (wasFailed) assert.deepEqual(messages, []);
    }
  }), { numRuns: 1000 });
});
