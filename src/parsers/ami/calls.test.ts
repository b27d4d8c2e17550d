import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { RAW_LIMIT } from '../../core/event.js';
import { AmiDecoder, type AmiMessage } from '../../sources/ami/decoder.js';
import { cdrEvent } from '../asterisk-cdr/index.js';
import { fuzzCtx } from '../fuzz-support.js';
import { DESTINATION_LIMIT, endpointOf, numberInDialString } from './channel.js';
import { parseAmiEvent } from './index.js';

const decode = (fields: [string, string][]): AmiMessage | undefined =>
  new AmiDecoder().push(`${fields.map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n`)[0];

const caller = (channel: string, uniqueId = '1704114000.18', linkedId = uniqueId): [string, string][] => [
  ['Channel', channel], ['ChannelState', '4'], ['CallerIDNum', '1001'], ['Exten', '0097259123456'],
  ['Uniqueid', uniqueId], ['Linkedid', linkedId],
];

describe('AMI call events: account rule', () => {
  it('reads the same account from a channel name as the CDR parser does', () => {
    const names = [
      'PJSIP/1001-00000012', 'SIP/trunk-0000000a', 'IAX2/1001-1234', 'DAHDI/1-1', 'WebRTC/alice-00ff', 'pjsip/x-y-00000001',
      'PJSIP/anonymous-00000001', 'Local/1001@from-internal-00000004;2', 'PJSIP/1001', 'PJSIP/-00000001', 'PJSIP/a b-0001', '',
    ];
    for (const channel of names) {
      const cdr = cdrEvent({
        accountcode: '', dst: '', channel, start: '2024-01-01 12:00:00', answer: '', end: '2024-01-01 12:00:00',
        duration: '0', billsec: '0', disposition: 'NO ANSWER', uniqueId: undefined,
      }, fuzzCtx, '', 't');
      assert.equal(endpointOf(channel), cdr?.account, channel);
    }
  });

  it('finds the number in the Dial argument forms', () => {
    const cases: [string, string | undefined][] = [
      ['0097259123456@trunk', '0097259123456'], ['trunk/0097259123456', '0097259123456'],
      ['trunk/sip:+97259123456@203.0.113.20:5060', '+97259123456'], ['PJSIP/0097259123456@trunk,60,tT', '0097259123456'],
      ['PJSIP/1002&PJSIP/0097259123456@trunk', '1002'], ['PJSIP/alice', undefined], ['', undefined],
      [`trunk/${'9'.repeat(200)}`, undefined],
    ];
    for (const [text, number] of cases) assert.equal(numberInDialString(text), number, text);
  });
});

describe('AMI call events: contract', () => {
  it('reads a frame that repeats Channel, Uniqueid or Linkedid as no one\'s call', () => {
    for (const extra of [['Channel', 'PJSIP/1002-00000001'], ['Uniqueid', '1.2'], ['linkedid', '1704114000.18']] as [string, string][]) {
      const message = decode([['Event', 'DialBegin'], ['Privilege', 'call,all'], ...caller('PJSIP/1001-00000012'), extra, ['DialString', '0097259123456@trunk']]);
      assert.ok(message);
      assert.deepEqual(parseAmiEvent(message, fuzzCtx), [], extra[0]);
    }
  });

  it('bounds raw, channel, unique id and destination', () => {
    const long = 'f'.repeat(4000);
    const message = decode([['Event', 'Hangup'], ['Privilege', 'call,all'], ...caller(`PJSIP/${long}-00000001`, long), ['Cause', '16'], ['Cause-txt', long], ['Pad', long]]);
    assert.ok(message);
    const [event] = parseAmiEvent(message, fuzzCtx);
    assert.equal(event?.raw.length, RAW_LIMIT);
    assert.equal(event?.account?.length, 128);
    assert.equal(event?.call?.channel?.length, 128);
    assert.equal(event?.call?.uniqueId?.length, 128);
    assert.equal(event?.reason?.length, 128);
  });

  it('never throws and keeps its invariants for any values in the fields it reads', () => {
    const names = ['DialBegin', 'DialEnd', 'Hangup', 'CEL'];
    const keys = ['Exten', 'DialString', 'DialStatus', 'Cause', 'Cause-txt', 'ChannelState',
      'EventName', 'Application', 'AppData', 'EventTime', 'Extra', 'Timestamp', 'CallerIDNum'];
    const value = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.constantFrom('PJSIP/1001-00000012', 'Local/1@x-1;2', '1704114000.18', 'ANSWER', 'Dial', 'APP_START', 'HANGUP', 'ANSWER',
        'BRIDGE_ENTER', '16', '17', '6', '{"hangupcause":17,"dialstatus":"BUSY"}', '{"dialstatus":[1]}', 'null', '{', '2024-01-01 14:00:00',
        '99999999999.999999', 'trunk/sip:+1@h', `${'9'.repeat(70)}@trunk`),
    ).map((v) => v.replace(/[\r\n]/g, ' '));
    const field = fc.tuple(fc.constantFrom(...keys), value);
    // Mostly a caller the parser accepts, so the fields it reads after that are exercised too.
    const id = fc.constantFrom('1704114000.18', '1704114000.19', '');
    const who = fc.tuple(fc.constantFrom('PJSIP/1001-00000012', 'SIP/a-1', 'Local/1@x-1;2', ''), id, id)
      .map(([channel, u, l]): [string, string][] => [['Channel', channel], ['Uniqueid', u], ['Linkedid', l]]);
    let produced = 0;
    fc.assert(fc.property(fc.constantFrom(...names), who, fc.array(field, { maxLength: 14 }), (name, base, fields) => {
      const message = decode([['Event', name], ['Privilege', 'call,all'], ...base, ...fields]);
      if (message === undefined) return;
      for (const event of parseAmiEvent(message, fuzzCtx)) {
        assert.ok(event.kind === 'call-start' || event.kind === 'call-answer' || event.kind === 'call-end');
        assert.equal(event.ip, undefined);
        assert.ok(Number.isFinite(event.at));
        assert.ok(event.raw.length <= RAW_LIMIT);
        assert.ok((event.destination?.length ?? 0) <= DESTINATION_LIMIT);
        assert.equal(event.account, endpointOf(message.get('Channel') ?? ''));
        assert.equal(event.call?.uniqueId, message.get('Linkedid'));
        produced++;
      }
    }), { numRuns: 3000 });
    assert.ok(produced > 100, `only ${produced} events`);
  });
});
