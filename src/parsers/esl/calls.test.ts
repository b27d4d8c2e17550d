import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { RAW_LIMIT, type SecurityEvent } from '../../core/event.js';
import { normalizeIp } from '../../core/ip.js';
import { EslDecoder, parseEventPlain } from '../../sources/esl/decoder.js';
import type { ParseContext } from '../types.js';
import { ESL_CALL_PATTERNS } from './calls.js';
import { parseEslEvent } from './index.js';

const ctx: ParseContext = { timezone: 'UTC', referenceTime: Date.UTC(2023, 0, 1) };
const A = '6f1c2a3b-4d5e-4f60-8172-93a4b5c6d7e8';
const T0 = Date.UTC(2026, 10, 21, 2, 10);

/** The channel events of the calls transcript, in order, through the decoder and the event-plain helper. */
function transcriptEvents(): Map<string, string>[] {
  const frames = new EslDecoder().push(readFileSync('src/parsers/esl/esl-calls.transcript'));
  return frames.filter((f) => f.headers.get('Content-Type') === 'text/event-plain').map((f) => parseEventPlain(f.body ?? ''));
}

const user1000 = { account: '1000', domain: '203.0.113.10', ip: '198.51.100.20', port: 5060, evidence: 'verified', destination: '0097259123456' } as const;

/** What each transcript event yields: the fields given must match, `null` means no event. */
const EXPECTED: (Partial<SecurityEvent> | null)[] = [
  {
    ...user1000, pattern: 'esl-call-start', kind: 'call-start', at: T0 + 10, userAgent: 'Yealink SIP-T46S 66.86.0.15',
    callId: 'a84b4c76e66710@198.51.100.20', call: { uniqueId: A, channel: 'sofia/internal/1000@203.0.113.10' },
  },
  null, // B-leg to the gateway: outbound, its sip_network_ip is the gateway's
  null, // CHANNEL_ORIGINATE of the B-leg
  null, // B-leg answered
  { ...user1000, pattern: 'esl-call-answer', kind: 'call-answer', at: T0 + 5010 },
  null, // B-leg hangup complete
  {
    ...user1000, pattern: 'esl-call-end', kind: 'call-end', at: T0 + 3605010, reason: 'NORMAL_CLEARING',
    call: { uniqueId: A, channel: 'sofia/internal/1000@203.0.113.10', durationSec: 3605, billSec: 3600, disposition: 'answered' },
  },
  {
    pattern: 'esl-call-end', account: '1001', ip: '192.0.2.21', port: 5062, destination: '442079460000', reason: 'NO_ANSWER',
    call: { uniqueId: 'c1d2e3f4-a5b6-4c7d-8e9f-a0b1c2d3e4f5', channel: 'sofia/internal/1001@203.0.113.10', durationSec: 30, billSec: 0, disposition: 'no-answer' },
  },
  {
    pattern: 'esl-call-end', account: '1001', destination: '900123', reason: 'USER_BUSY',
    call: { uniqueId: 'e3f4a5b6-c7d8-4e9f-a0b1-c2d3e4f5a6b7', channel: 'sofia/internal/1001@203.0.113.10', durationSec: 12, billSec: 0, disposition: 'busy' },
  },
  // an unauthenticated INVITE on the external profile whose From claims 1000: no account, spoofable
  { pattern: 'esl-call-start', kind: 'call-start', evidence: 'spoofable', account: undefined, domain: undefined, ip: '192.0.2.66', port: 5070, destination: '011972599000123' },
  { pattern: 'esl-call-end', evidence: 'spoofable', account: undefined, reason: 'NO_ROUTE_DESTINATION', call: { uniqueId: 'd2e3f4a5-b6c7-4d8e-9fa0-b1c2d3e4f5a6', channel: 'sofia/external/1000@203.0.113.10', durationSec: 0, billSec: 0, disposition: 'failed' } },
  // URL-encoded values: an IPv6 source, a + and a space in the number, a newline in the user agent
  {
    pattern: 'esl-call-start', account: '1002', domain: 'pbx.example.com', ip: '2001:db8::20', port: 5061, destination: '+4930 1234#',
    userAgent: 'evil\nvariable_sip_network_ip: 203.0.113.66', callId: 'x@[2001:db8::20]',
  },
  null, // an inbound loopback leg that copied the A-leg's variables
];

describe('ESL parser: channel events', () => {
  const events = transcriptEvents();
  it('has one expectation per event and every call pattern covered', () => {
    assert.equal(events.length, EXPECTED.length);
    const seen = new Set(EXPECTED.map((e) => e?.pattern));
    for (const pattern of ESL_CALL_PATTERNS) assert.ok(seen.has(pattern), pattern);
  });
  EXPECTED.forEach((expected, index) => {
    const event = events[index] ?? new Map<string, string>();
    it(`event ${index + 1}: ${event.get('Event-Name')} ${event.get('Call-Direction')} ${expected ? expected.kind ?? expected.pattern : 'yields nothing'}`, () => {
      const result = parseEslEvent(event, ctx);
      if (!expected) {
        assert.equal(result.length, 0);
        return;
      }
      assert.equal(result.length, 1);
      const [found] = result;
      for (const [field, value] of Object.entries(expected)) assert.deepEqual(found?.[field as keyof SecurityEvent], value, field);
      assert.equal(found?.server, 'freeswitch');
      assert.ok(found?.raw.startsWith(`Event-Name: ${event.get('Event-Name')}\nUnique-ID: `));
      assert.ok((found?.raw.length ?? 0) <= RAW_LIMIT);
      assert.ok(!found?.raw.includes('\nvariable_sip_network_ip: 203.0.113.66'), 'a decoded newline stays escaped in raw');
    });
  });
});

describe('ESL parser: channel event fields', () => {
  const base = (extra: [string, string][]): Map<string, string> => new Map([
    ['Event-Name', 'CHANNEL_HANGUP_COMPLETE'], ['Call-Direction', 'inbound'], ['Caller-Source', 'mod_sofia'],
    ['variable_sip_network_ip', '198.51.100.20'], ['variable_sip_auth_username', '1000'], ['Caller-Destination-Number', '900'],
    ['Hangup-Cause', 'ORIGINATOR_CANCEL'], ['variable_answer_epoch', '0'], ['variable_duration', '7'], ['variable_billsec', '0'], ...extra,
  ]);

  it('maps an unanswered ORIGINATOR_CANCEL to cancel, and any answered call to answered', () => {
    assert.equal(parseEslEvent(base([]), ctx)[0]?.call?.disposition, 'cancel');
    assert.equal(parseEslEvent(base([['variable_answer_epoch', '1795227005']]), ctx)[0]?.call?.disposition, 'answered');
  });
  it('keeps the event but leaves out what is not a number or a cause name', () => {
    const [event] = parseEslEvent(base([['Hangup-Cause', 'bogus'], ['variable_billsec', '99']]), ctx);
    assert.deepEqual(event?.call, { durationSec: 7 }, 'billable seconds longer than the call are dropped');
    assert.deepEqual(parseEslEvent(base([['variable_duration', '-1'], ['variable_billsec', '1e3']]), ctx)[0]?.call, { disposition: 'cancel' });
    assert.equal(event?.reason, undefined);
    assert.equal(event?.account, '1000');
  });
  it('yields the call without ip when sip_network_ip is missing or not one address, never from Caller-Network-Addr or Via', () => {
    for (const ip of ['', 'pbx1', '198.51.100.7:5060', '198.51.100.7 203.0.113.1']) {
      const [event] = parseEslEvent(base([['variable_sip_network_ip', ip], ['variable_sip_received_ip', '203.0.113.66']]), ctx);
      assert.equal(event?.ip, undefined);
      assert.equal(event?.kind, 'call-end');
    }
  });
  it('takes no account from the From user, the caller id or the channel name', () => {
    const event = base([['Caller-Username', '1001'], ['Caller-Caller-ID-Number', '1001'], ['Channel-Name', 'sofia/internal/1001@pbx'], ['variable_sip_from_user', '1001']]);
    event.delete('variable_sip_auth_username');
    const [found] = parseEslEvent(event, ctx);
    assert.equal(found?.account, undefined);
    assert.equal(found?.evidence, 'spoofable');
  });
  it('yields nothing for outbound legs, other modules and other channel events', () => {
    assert.deepEqual(parseEslEvent(base([['Call-Direction', 'outbound']]), ctx), []);
    assert.deepEqual(parseEslEvent(base([['Caller-Source', 'mod_verto']]), ctx), []);
    assert.deepEqual(parseEslEvent(base([['Event-Name', 'CHANNEL_HANGUP']]), ctx), []);
    assert.deepEqual(parseEslEvent(base([['Event-Name', 'CHANNEL_ORIGINATE']]), ctx), []);
  });
  it('never throws and takes the address only from variable_sip_network_ip', () => {
    const names = ['Call-Direction', 'Caller-Source', 'variable_sip_auth_username', 'Caller-Network-Addr', 'variable_sip_received_ip', 'Hangup-Cause',
      'variable_duration', 'variable_billsec', 'variable_answer_epoch', 'variable_sip_network_port', 'Event-Date-Timestamp', 'Channel-Name'];
    const value = fc.oneof(fc.string(), fc.ipV4(), fc.constantFrom('inbound', 'mod_sofia', 'NORMAL_CLEARING', '0', '17', '99999999999999999'));
    fc.assert(
      fc.property(
        fc.constantFrom('CHANNEL_CREATE', 'CHANNEL_ANSWER', 'CHANNEL_HANGUP_COMPLETE', 'CHANNEL_ORIGINATE', 'CUSTOM'),
        fc.option(fc.oneof(fc.ipV4(), fc.ipV6(), fc.string())), fc.array(fc.tuple(fc.constantFrom(...names), value)),
        (name, networkIp, rest) => {
          const event = new Map<string, string>([['Event-Name', name], ['Call-Direction', 'inbound'], ['Caller-Source', 'mod_sofia'], ...rest]);
          if (networkIp !== null) event.set('variable_sip_network_ip', networkIp);
          for (const found of parseEslEvent(event, ctx)) {
            assert.equal(found.ip, normalizeIp(event.get('variable_sip_network_ip') ?? '') ?? undefined);
            assert.ok(found.raw.length <= RAW_LIMIT);
            assert.ok(Number.isFinite(found.at));
            const call = found.call ?? {};
            if (call.billSec !== undefined && call.durationSec !== undefined) assert.ok(call.billSec <= call.durationSec);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});
