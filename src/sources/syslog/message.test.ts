import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseSyslog, SYSLOG_MESSAGE_LIMIT } from './message.js';

describe('parseSyslog: RFC 3164', () => {
  it('reads PRI, date, host, tag and pid (RFC 3164 section 5.4 example)', () => {
    assert.deepEqual(parseSyslog("<34>Oct 11 22:14:15 mymachine su[230]: 'su root' failed for lonvick on /dev/pts/8"), {
      facility: 4, severity: 2, timestamp: 'Oct 11 22:14:15', host: 'mymachine', app: 'su', pid: '230',
      message: "'su root' failed for lonvick on /dev/pts/8",
    });
  });

  it('reads a message without a host, as syslog(3) sends to /dev/log', () => {
    assert.deepEqual(parseSyslog('<28>Jan  1 12:00:00 /usr/sbin/kamailio[1234]: WARNING: <script>: x'), {
      facility: 3, severity: 4, timestamp: 'Jan  1 12:00:00', app: '/usr/sbin/kamailio', pid: '1234',
      message: 'WARNING: <script>: x',
    });
  });

  it('pads a one-column day, as the parsers expect', () => {
    assert.equal(parseSyslog('<13>Jan 1 12:00:00 h a: m')?.timestamp, 'Jan  1 12:00:00');
    assert.equal(parseSyslog('<13>Jan 21 12:00:00 h a: m')?.timestamp, 'Jan 21 12:00:00');
  });

  it('reads a tag without a pid, and a host without a tag', () => {
    assert.deepEqual(parseSyslog('<13>Feb  3 04:05:06 pbx asterisk: NOTICE[1]: x'), {
      facility: 1, severity: 5, timestamp: 'Feb  3 04:05:06', host: 'pbx', app: 'asterisk', message: 'NOTICE[1]: x',
    });
    assert.deepEqual(parseSyslog('<13>Feb  3 04:05:06 pbx some text: here'), {
      facility: 1, severity: 5, timestamp: 'Feb  3 04:05:06', host: 'pbx', message: 'some text: here',
    });
  });

  it('reads an IPv6 host, which holds colons but is not a tag', () => {
    const message = parseSyslog('<13>Feb  3 04:05:06 2001:db8::1 opensips[7]: NOTICE:x');
    assert.equal(message?.host, '2001:db8::1');
    assert.equal(message?.app, 'opensips');
    assert.equal(message?.message, 'NOTICE:x');
  });

  it('reads an RFC 3339 date (rsyslog forward format) and fractional seconds', () => {
    const message = parseSyslog('<29>2021-06-01T08:00:00.123456+00:00 sip1 kamailio[1234]: WARNING: x');
    assert.equal(message?.timestamp, '2021-06-01T08:00:00.123456+00:00');
    assert.equal(message?.host, 'sip1');
    assert.equal(parseSyslog('<29>Jun  1 08:00:00.123 sip1 a: b')?.timestamp, 'Jun  1 08:00:00.123');
  });

  it('turns a BSD date with a year (Cisco) into a zoneless RFC 3339 date, and skips the `*` clock mark', () => {
    assert.equal(parseSyslog('<189>Mar  1 2024 18:48:50 router x: y')?.timestamp, '2024-03-01T18:48:50');
    assert.equal(parseSyslog('<189>*Mar  1 18:48:50.483 router x: y')?.timestamp, 'Mar  1 18:48:50.483');
  });

  it('keeps a message without a date whole, after a tag if there is one', () => {
    assert.deepEqual(parseSyslog('<13>kamailio[9]: INFO: x'), { facility: 1, severity: 5, app: 'kamailio', pid: '9', message: 'INFO: x' });
    assert.deepEqual(parseSyslog('<13>just text'), { facility: 1, severity: 5, message: 'just text' });
    assert.deepEqual(parseSyslog('<13>Foo  1 12:00:00 h a: m'), { facility: 1, severity: 5, message: 'Foo  1 12:00:00 h a: m' });
  });

  it('drops the trailing newline, CR or NUL of the transport and a BOM, but keeps other text', () => {
    assert.equal(parseSyslog('<13>Jan  1 12:00:00 h a: m \r\n\0')?.message, 'm ');
    assert.equal(parseSyslog('<13>Jan  1 12:00:00 h a: \uFEFFm')?.message, 'm');
  });
});

describe('parseSyslog: RFC 5424', () => {
  it('reads every header field (RFC 5424 section 6.5 example 1)', () => {
    assert.deepEqual(parseSyslog("<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - \uFEFF'su root' failed"), {
      facility: 4, severity: 2, timestamp: '2003-10-11T22:14:15.003Z', host: 'mymachine.example.com', app: 'su',
      message: "'su root' failed",
    });
  });

  it('leaves nil values out', () => {
    assert.deepEqual(parseSyslog('<165>1 - - - - - -'), { facility: 20, severity: 5, message: '' });
    assert.deepEqual(parseSyslog('<165>1 - - - - - - hello'), { facility: 20, severity: 5, message: 'hello' });
  });

  it('skips structured data, with escaped quotes and brackets inside values (example 3)', () => {
    const text =
      '<165>1 2003-10-11T22:14:15.003Z pbx kamailio 1234 ID47 [exampleSDID@32473 iut="3" eventSource="Appl\\"ic]ation"]' +
      '[examplePriority@32473 class="high\\]" path="C:\\\\"] WARNING: <script>: x';
    assert.deepEqual(parseSyslog(text), {
      facility: 20, severity: 5, timestamp: '2003-10-11T22:14:15.003Z', host: 'pbx', app: 'kamailio', pid: '1234',
      message: 'WARNING: <script>: x',
    });
  });

  it('reads structured data with no message after it', () => {
    assert.equal(parseSyslog('<165>1 2003-08-24T05:14:15.000003-07:00 h a 1 - [id@1 k="v"]')?.message, '');
  });

  it('keeps all text after the header when the structured data is broken', () => {
    assert.equal(parseSyslog('<165>1 - h a 1 - [id k="unterminated] msg')?.message, '[id k="unterminated] msg');
    assert.equal(parseSyslog('<165>1 - h a 1 - [id]x msg')?.message, '[id]x msg');
    assert.equal(parseSyslog('<165>1 - h a 1 - nonsense')?.message, 'nonsense');
  });

  it('reads a header that is not RFC 5424 as RFC 3164', () => {
    assert.deepEqual(parseSyslog('<13>1 not a header'), { facility: 1, severity: 5, message: '1 not a header' });
    assert.equal(parseSyslog('<13>1 2003-13-45 h a 1 - -')?.timestamp, undefined);
  });
});

describe('parseSyslog: what it refuses', () => {
  for (const text of ['', 'no pri', '<>x', '<192>x', '<1000>x', '<01>x', '<-1>x', '<13', ' <13>x', '<1a>x']) {
    it(`no valid PRI: ${JSON.stringify(text)}`, () => assert.equal(parseSyslog(text), null));
  }

  it('accepts PRI 0 and 191', () => {
    assert.deepEqual(parseSyslog('<0>x'), { facility: 0, severity: 0, message: 'x' });
    assert.deepEqual(parseSyslog('<191>x'), { facility: 23, severity: 7, message: 'x' });
  });

  it('reads no more than the limit', () => {
    const message = parseSyslog(`<13>${'a'.repeat(SYSLOG_MESSAGE_LIMIT * 4)}`);
    assert.ok(message && message.message.length <= SYSLOG_MESSAGE_LIMIT);
  });

  it('never throws, on text or on random bytes, and keeps the limit', () => {
    const pieces = fc.constantFrom('<13>', '<165>1 ', '-', ' ', '[', ']', '"', '\\', '=', ':', 'Jan  1 12:00:00 ', '2003-10-11T22:14:15Z ', 'a[1]: ', '\uFEFF', '\n', '\0');
    const text = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.array(pieces, { maxLength: 20 }).map((parts) => parts.join('')),
      fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes).toString('utf8')),
      fc.uint8Array({ maxLength: 300 }).map((bytes) => `<13>${Buffer.from(bytes).toString('latin1')}`),
    );
    fc.assert(
      fc.property(text, (input) => {
        const message = parseSyslog(input);
        if (message === null) return;
        assert.ok(message.facility >= 0 && message.facility <= 23 && message.severity >= 0 && message.severity <= 7);
        assert.ok(message.message.length <= input.length);
      }),
      { numRuns: 2000 },
    );
  });
});
