import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { AMI_LINE_LIMIT, AMI_MESSAGE_LIMIT, AmiDecoder, formatAmiMessage } from './decoder.js';
import type { AmiMessage } from './decoder.js';

const SESSION =
  'Asterisk Call Manager/9.0.0\r\n' +
  'Response: Success\r\nActionID: 1\r\nMessage: Authentication accepted\r\n\r\n' +
  'Event: ChallengeResponseFailed\r\nPrivilege: security,all\r\nEventTV: 2024-01-01T12:00:00.123+0000\r\n' +
  'AccountID: <unknown>\r\nSessionID: caf\u00e9-\u{1F4DE}@x\r\nRemoteAddress: IPV4/UDP/198.51.100.7/5062\r\n' +
  'ExpectedResponse: \r\nRequestParams: Channel: PJSIP/100\r\n\r\n';

/** Plain data, so messages from different decoders compare by value. */
function plain(messages: AmiMessage[]): { kind: string; fields: [string, string][] }[] {
  return messages.map((m) => ({ kind: m.kind, fields: m.fields }));
}

function decodeIn(chunks: (Buffer | string)[]): { messages: ReturnType<typeof plain>; dropped: number } {
  const decoder = new AmiDecoder();
  const messages = chunks.flatMap((chunk) => decoder.push(chunk));
  return { messages: plain(messages), dropped: decoder.dropped };
}

function splitAt(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const parts: Buffer[] = [];
  let last = 0;
  for (const point of points) {
    parts.push(bytes.subarray(last, point));
    last = point;
  }
  parts.push(bytes.subarray(last));
  return parts;
}

describe('AmiDecoder: framing', () => {
  it('reads the banner, a response and an event with fields in order', () => {
    const decoder = new AmiDecoder();
    const [banner, response, event, ...rest] = decoder.push(SESSION);
    assert.deepEqual(rest, []);
    assert.equal(banner?.kind, 'banner');
    assert.equal(banner?.get('version'), '9.0.0');
    assert.equal(response?.kind, 'message');
    assert.equal(response?.get('MESSAGE'), 'Authentication accepted');
    assert.deepEqual(event?.fields.map(([key]) => key), [
      'Event', 'Privilege', 'EventTV', 'AccountID', 'SessionID', 'RemoteAddress', 'ExpectedResponse', 'RequestParams',
    ]);
    assert.equal(event?.get('sessionid'), 'caf\u00e9-\u{1F4DE}@x');
    assert.equal(event?.get('ExpectedResponse'), '');
    assert.equal(event?.get('RequestParams'), 'Channel: PJSIP/100');
    assert.equal(event?.get('Missing'), undefined);
    assert.equal(decoder.dropped, 0);
  });

  it('gives the same messages byte by byte as in one chunk, from Buffers or strings', () => {
    const whole = decodeIn([SESSION]);
    const bytes = Buffer.from(SESSION, 'utf8');
    assert.equal(whole.messages.length, 3);
    assert.deepEqual(decodeIn([...bytes].map((b) => Buffer.from([b]))), whole);
    assert.deepEqual(decodeIn([...SESSION]), whole);
  });

  it('gives the same messages for any split points (UTF-8 characters cut in half included)', () => {
    const bytes = Buffer.from(SESSION, 'utf8');
    const whole = decodeIn([bytes]);
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 40 }), (cuts) => {
        assert.deepEqual(decodeIn(splitAt(bytes, cuts)), whole);
      }),
    );
  });

  it('accepts bare LF line ends and mixed ends', () => {
    const crlf = decodeIn([SESSION]);
    assert.deepEqual(decodeIn([SESSION.replaceAll('\r\n', '\n')]), crlf);
    let toggle = false;
    const mixed = SESSION.replace(/\r\n/g, () => ((toggle = !toggle) ? '\n' : '\r\n'));
    assert.deepEqual(decodeIn([mixed]), crlf);
  });

  it('takes the banner only as the first line', () => {
    const late = 'Response: Success\r\n\r\nAsterisk Call Manager/9.0.0\r\n\r\n';
    const { messages, dropped } = decodeIn([late]);
    assert.deepEqual(messages.map((m) => m.kind), ['message']);
    assert.equal(dropped, 1);
  });

  it('skips blank lines between frames and keeps a value with no space after the colon', () => {
    const { messages } = decodeIn(['\r\n\r\nEvent: X\r\nKey:\r\nOther:\tv\r\n\r\n\r\n']);
    assert.deepEqual(messages, [{ kind: 'message', fields: [['Event', 'X'], ['Key', ''], ['Other', 'v']] }]);
  });

  it('renders a message back as Key: value lines', () => {
    const [message] = new AmiDecoder().push('Event: A\r\nEmpty: \r\nB: c: d\r\n\r\n');
    assert.equal(message && formatAmiMessage(message), 'Event: A\nEmpty: \nB: c: d');
  });
});

describe('AmiDecoder: bounds and broken frames', () => {
  const good = 'Event: Good\r\nRemoteAddress: IPV4/UDP/198.51.100.7/5060\r\n\r\n';

  it('drops a line over the limit, skips to the blank line, counts it, and reads the next frame', () => {
    const long = `Event: Bad\r\nRemoteAddress: IPV4/UDP/5.6.7.8/1\r\nPad: ${'x'.repeat(AMI_LINE_LIMIT)}\r\nRemoteAddress: IPV4/UDP/1.1.1.1/1\r\n\r\n`;
    for (const chunks of [[long + good], [...(long + good)]]) {
      const { messages, dropped } = decodeIn(chunks);
      assert.deepEqual(messages.map((m) => m.fields[0]), [['Event', 'Good']]);
      assert.equal(dropped, 1);
    }
  });

  it('keeps a line exactly at the limit', () => {
    const key = 'K: ';
    const line = key + 'v'.repeat(AMI_LINE_LIMIT - key.length);
    for (const chunks of [[`${line}\r\n\r\n`], [...`${line}\r\n\r\n`]]) {
      const { messages, dropped } = decodeIn(chunks);
      assert.equal(messages[0]?.fields[0]?.[1].length, AMI_LINE_LIMIT - key.length);
      assert.equal(dropped, 0);
    }
  });

  it('drops a message over the limit made of lines under it', () => {
    const line = `Pad: ${'y'.repeat(1000)}\r\n`;
    const big = 'Event: Big\r\n' + line.repeat(Math.ceil(AMI_MESSAGE_LIMIT / line.length)) + '\r\n';
    const { messages, dropped } = decodeIn([big, good, big.slice(0, 5000), big.slice(5000), good]);
    assert.deepEqual(messages.map((m) => m.fields[0]), [['Event', 'Good'], ['Event', 'Good']]);
    assert.equal(dropped, 2);
  });

  it('drops a frame with a line that is not Key: value', () => {
    const { messages, dropped } = decodeIn(['Event: A\r\nno colon here\r\nRemoteAddress: x\r\n\r\n', good]);
    assert.deepEqual(messages.map((m) => m.fields[0]), [['Event', 'Good']]);
    assert.equal(dropped, 1);
  });

  it('never throws on garbage or binary, and still reads a good frame after a blank line', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.uint8Array({ maxLength: 300 }), fc.string({ maxLength: 300 })), { maxLength: 20 }), (chunks) => {
        const decoder = new AmiDecoder();
        for (const chunk of chunks) decoder.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk));
        const after = decoder.push(`\r\n\r\n${good}`);
        assert.deepEqual(after.at(-1)?.fields, [['Event', 'Good'], ['RemoteAddress', 'IPV4/UDP/198.51.100.7/5060']]);
      }),
    );
  });

  it('survives a megabyte without a line end, holding no more than the line limit', () => {
    const decoder = new AmiDecoder();
    const blob = Buffer.alloc(1024 * 1024, 0x41);
    for (let i = 0; i < 4; i++) assert.deepEqual(decoder.push(blob), []);
    assert.equal(decoder.dropped, 1);
    assert.deepEqual(plain(decoder.push(`\r\n\r\n${good}`)).map((m) => m.fields[0]), [['Event', 'Good']]);
  });
});
