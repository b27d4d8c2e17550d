import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { createParser } from '../../parsers/index.js';
import { lineFor } from '../syslog/route.js';
import { bsdDate, parseJournalEntry } from './entry.js';
import { CAPTURE } from './testing/capture.js';

const AT = Date.UTC(2025, 10, 21, 10, 0, 0, 123);
const MICROS = String(AT * 1000 + 456);

describe('parseJournalEntry', () => {
  it('reads the capture: app, pid, host, severity and the time in microseconds', () => {
    const lines = readFileSync(CAPTURE, 'utf8').split('\n').filter(Boolean);
    const records = lines.map((line) => parseJournalEntry(line, 'UTC'));
    assert.equal(records.filter((r) => r === null).length, 1, 'exactly the one truncated line is not an entry');
    const first = records[0];
    assert.ok(first);
    assert.equal(first.receivedAt, Date.UTC(2025, 10, 21, 10, 0, 0, 123));
    assert.deepEqual({ ...first.message, message: '' }, { facility: 3, severity: 6, timestamp: 'Nov 21 10:00:00', host: 'pbx1', app: 'asterisk', pid: '1861', message: '' });
  });

  it('decodes a MESSAGE written as bytes (not UTF-8), and takes the first of a repeated field', () => {
    const bytes = [...Buffer.from('user m', 'latin1'), 0xfc, ...Buffer.from('ller')];
    const record = parseJournalEntry(JSON.stringify({ __REALTIME_TIMESTAMP: MICROS, MESSAGE: bytes, SYSLOG_IDENTIFIER: ['a', 'b'] }), 'UTC');
    assert.equal(record?.message.message, 'user m\uFFFDller');
    assert.equal(record?.message.app, 'a');
    assert.equal(record?.message.severity, 6, 'no PRIORITY: info');
  });

  it('falls back to SYSLOG_PID and _COMM, and drops the trailing newline', () => {
    const record = parseJournalEntry(JSON.stringify({ __REALTIME_TIMESTAMP: MICROS, MESSAGE: 'hi\n', SYSLOG_PID: '7', _COMM: 'kamailio' }), 'UTC');
    assert.deepEqual([record?.message.pid, record?.message.app, record?.message.message, record?.message.host], ['7', 'kamailio', 'hi', undefined]);
  });

  it('returns null for what is not an entry, never throwing', () => {
    for (const line of ['{', 'null', '[]', '"x"', '{}', `{"MESSAGE":"x"}`, `{"__REALTIME_TIMESTAMP":"${MICROS}","MESSAGE":null}`,
      `{"__REALTIME_TIMESTAMP":"soon","MESSAGE":"x"}`, `{"__REALTIME_TIMESTAMP":"${MICROS}","MESSAGE":[1,300]}`]) {
      assert.equal(parseJournalEntry(line, 'UTC'), null, line);
    }
  });
});

describe('bsdDate', () => {
  it('writes the syslog date in the zone, the day padded to two columns', () => {
    assert.equal(bsdDate(Date.UTC(2025, 0, 5, 23, 30, 7), 'UTC'), 'Jan  5 23:30:07');
    assert.equal(bsdDate(Date.UTC(2025, 0, 5, 23, 30, 7), 'Europe/Berlin'), 'Jan  6 00:30:07');
    assert.equal(bsdDate(Date.UTC(2025, 6, 15, 12, 0, 0), 'Europe/Berlin'), 'Jul 15 14:00:00');
    assert.match(bsdDate(AT, 'local'), /^Nov [ \d]\d \d\d:\d\d:\d\d$/);
  });
});

/** What each built-in server writes to syslog, and the address its parser must find in the file form. */
const PER_FORMAT: [format: string, app: string, message: string, ip: string][] = [
  ['asterisk', 'asterisk', "NOTICE[1877]: chan_sip.c:28926 handle_request_register: Registration from '<sip:1001@pbx>' failed for '203.0.113.50:5070' - Wrong password", '203.0.113.50'],
  ['asterisk-security', 'asterisk', 'SECURITY[2345]: res_security_log.c:123 in security_event_stasis_cb: SecurityEvent="InvalidAccountID",EventTV="2024-01-01T12:00:00.123+0000",Severity="Error",Service="PJSIP",EventVersion="1",AccountID="100",SessionID="c1",LocalAddress="IPV4/UDP/203.0.113.10/5060",RemoteAddress="IPV4/UDP/198.51.100.7/5062"', '198.51.100.7'],
  ['freeswitch', 'freeswitch', "2025-11-21 10:00:00.000001 [WARNING] sofia_reg.c:1716 SIP auth failure (REGISTER) on sofia profile 'internal' for [300@pbx] from ip 198.51.100.9", '198.51.100.9'],
  ['kamailio', 'kamailio', 'WARNING: pike [pike_funcs.c:135]: pike_check_ipaddr(): PIKE - BLOCKing ip 198.51.100.77, node=0x7f68eac03498', '198.51.100.77'],
  ['opensips', 'opensips', 'WARNING:PIKE - BLOCKing ip 198.51.100.8, node=0x7f3c2a1b4c58', '198.51.100.8'],
];

describe('journal entries through lineFor and every built-in parser', () => {
  for (const timezone of ['UTC', 'Europe/Berlin']) {
    for (const [format, app, message, ip] of PER_FORMAT) {
      it(`${format} (${timezone}): yields its event, dated by the journal`, () => {
        const record = parseJournalEntry(JSON.stringify({ __REALTIME_TIMESTAMP: MICROS, _HOSTNAME: 'pbx1', SYSLOG_IDENTIFIER: app, _PID: '42', MESSAGE: message }), timezone);
        assert.ok(record);
        const events = createParser(format).parse(lineFor(record.message, format), { timezone, referenceTime: record.receivedAt });
        assert.equal(events.length, 1, lineFor(record.message, format));
        assert.equal(events[0]?.ip, ip);
        // Asterisk and FreeSWITCH stamp their own text; the syslog date is what the rest are dated by.
        if (format === 'kamailio' || format === 'opensips' || format === 'asterisk') assert.equal(events[0]?.at, AT - 123);
      });
    }
  }
});
