import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isSipwardenError } from '../../core/errors.js';
import { parseSipMessage } from './message.js';
import { SipStreamDecoder } from './stream.js';
import { CHALLENGE_401, INVITE_WITH_SDP, SVCRACK_REGISTER, SVMAP_OPTIONS } from './samples.js';

const STREAM = Buffer.from(`${SVMAP_OPTIONS}\r\n\r\n${INVITE_WITH_SDP}\r\n${CHALLENGE_401}${SVCRACK_REGISTER}`);
const EXPECTED = [SVMAP_OPTIONS, INVITE_WITH_SDP, CHALLENGE_401, SVCRACK_REGISTER].map((text) => parseSipMessage(text));

test('one chunk: every message, keep-alive CRLFs between them skipped', () => {
  const decoder = new SipStreamDecoder();
  assert.deepEqual(decoder.push(STREAM), EXPECTED);
  assert.equal(decoder.failed, false);
});

test('byte by byte gives the same messages as one chunk', () => {
  const decoder = new SipStreamDecoder();
  const messages = [...STREAM].flatMap((byte) => decoder.push(Buffer.from([byte])));
  assert.deepEqual(messages, EXPECTED);
});

test('every two-way split gives the same messages', () => {
  for (let at = 0; at <= STREAM.length; at += 7) {
    const decoder = new SipStreamDecoder();
    assert.deepEqual([...decoder.push(STREAM.subarray(0, at)), ...decoder.push(STREAM.subarray(at))], EXPECTED, `split at ${at}`);
  }
});

test('a body split across chunks waits for its last byte', () => {
  const invite = Buffer.from(INVITE_WITH_SDP);
  const decoder = new SipStreamDecoder();
  assert.deepEqual(decoder.push(invite.subarray(0, invite.length - 30)), []);
  assert.deepEqual(decoder.push(invite.subarray(invite.length - 30, invite.length - 1)), []);
  const [message] = decoder.push(invite.subarray(invite.length - 1));
  assert.deepEqual(message, parseSipMessage(INVITE_WITH_SDP));
});

test('keep-alive pings alone give nothing; a message without Content-Length ends at the blank line', () => {
  const decoder = new SipStreamDecoder();
  assert.deepEqual(decoder.push(Buffer.from('\r\n\r\n\r\n\r\n')), []);
  const messages = decoder.push(Buffer.from('OPTIONS sip:x SIP/2.0\r\nCall-ID: 1\r\n\r\nOPTIONS sip:y SIP/2.0\r\nCall-ID: 2\r\n\r\n'));
  assert.deepEqual(messages.map((m) => [m.callId, m.body]), [['1', ''], ['2', '']]);
  assert.equal(decoder.failed, false);
});

test('oversized header section, oversized Content-Length, conflicting Content-Length and non-SIP frames fail', () => {
  const cases = [
    Buffer.from(`OPTIONS sip:x SIP/2.0\r\nX: ${'a'.repeat(70 * 1024)}`),
    Buffer.from('INVITE sip:x SIP/2.0\r\nContent-Length: 70000\r\n\r\n'),
    Buffer.from('INVITE sip:x SIP/2.0\r\nContent-Length: 4\r\nl: 40\r\n\r\nbody'),
    Buffer.from('INVITE sip:x SIP/2.0\r\nContent-Length: -1\r\n\r\n'),
    Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'),
  ];
  for (const bytes of cases) {
    const decoder = new SipStreamDecoder();
    assert.deepEqual(decoder.push(bytes), []);
    assert.ok(decoder.failed, bytes.subarray(0, 40).toString());
    assert.ok(isSipwardenError(decoder.error, 'SW_ERR_SOURCE'));
    assert.deepEqual(decoder.push(Buffer.from(SVMAP_OPTIONS)), [], 'stays failed');
  }
});

test('an oversized header section fed byte by byte fails without quadratic cost', () => {
  const decoder = new SipStreamDecoder();
  const started = performance.now();
  const bytes = Buffer.from(`OPTIONS sip:x SIP/2.0\r\nX: ${'a'.repeat(65 * 1024)}`);
  for (let i = 0; i < bytes.length && !decoder.failed; i += 1) decoder.push(bytes.subarray(i, i + 1));
  assert.ok(decoder.failed);
  assert.ok(performance.now() - started < 2000);
});
