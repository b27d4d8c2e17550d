import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { RAW_LIMIT } from '../../core/event.js';
import { checkCoverage, checkSample, loadSamples } from '../samples.js';
import type { ParseContext } from '../types.js';
import { createFreeswitchCdrParser, hangupDisposition } from './index.js';

const ctx: ParseContext = { timezone: 'UTC', referenceTime: Date.UTC(2026, 10, 21) };
const samples = loadSamples('src/parsers/freeswitch-cdr/freeswitch-cdr.samples.log');

/** An `example` template line with the caller's three columns given. */
function exampleLine(name: string, number: string, destination: string, accountcode = '1000'): string {
  return `"${name}","${number}","${destination}","default","2026-11-21 02:10:00","2026-11-21 02:10:05","2026-11-21 02:10:09","9","4","NORMAL_CLEARING","4e33b719-d915-45f2-a12c-d276ee073288","","${accountcode}","PCMU","PCMU"`;
}

describe('freeswitch-cdr parser: annotated samples', () => {
  const parser = createFreeswitchCdrParser();
  it('covers every pattern with a sample and a near miss', () => checkCoverage(parser, samples));
  for (const sample of samples) {
    it(`line ${sample.lineNumber}`, () => checkSample(parser, sample, ctx));
  }
});

describe('freeswitch-cdr parser: properties', () => {
  it('reads local times in the configured zone', () => {
    const [event] = createFreeswitchCdrParser().parse(exampleLine('a', '1000', '900'), { timezone: 'Europe/Berlin', referenceTime: 0 });
    assert.equal(event?.at, Date.UTC(2026, 10, 21, 1, 10, 9));
  });

  it('leaves the destination out when the caller columns do not split into three', () => {
    const [event] = createFreeswitchCdrParser().parse(exampleLine('x","1000', '1000', '0044'), ctx);
    assert.equal(event?.account, '1000');
    assert.equal(event?.destination, undefined);
    assert.equal(event?.call?.billSec, 4);
  });

  it('maps hangup causes: answered wins, then busy, no answer, cancel, congestion, else failed', () => {
    assert.equal(hangupDisposition('MEDIA_TIMEOUT', true), 'answered');
    assert.equal(hangupDisposition('USER_BUSY', false), 'busy');
    assert.equal(hangupDisposition('NO_USER_RESPONSE', false), 'no-answer');
    assert.equal(hangupDisposition('NORMAL_CLEARING', false), 'no-answer');
    assert.equal(hangupDisposition('LOSE_RACE', false), 'cancel');
    assert.equal(hangupDisposition('SWITCH_CONGESTION', false), 'congestion');
    assert.equal(hangupDisposition('CALL_REJECTED', false), 'failed');
    assert.equal(hangupDisposition('', false), null);
    assert.equal(hangupDisposition('no_answer', true), null);
  });

  it('never throws; every event is a call-end with no address and its account from the accountcode column', () => {
    const parser = createFreeswitchCdrParser();
    const caller = fc.oneof(fc.string(), fc.constantFrom('"', '","', '", "', ',', '1000', '","1001","', '\u0000'));
    fc.assert(fc.property(caller, caller, caller, fc.constantFrom('', '1000', 'tenant7'), (name, number, destination, accountcode) => {
      const events = parser.parse(exampleLine(name, number, destination, accountcode), ctx);
      assert.equal(events.length, 1, 'the server-written columns always parse');
      const [event] = events;
      assert.equal(event?.kind, 'call-end');
      assert.equal(event?.ip, undefined);
      assert.equal(event?.account, accountcode === '' ? undefined : accountcode);
      assert.equal(event?.call?.durationSec, 9);
      assert.ok((event?.raw.length ?? 0) <= RAW_LIMIT);
    }), { numRuns: 2000 });
    const field = fc.oneof(fc.string(), fc.constantFrom('"', '""', ',', '","', '2026-11-21 02:10:00', '5', 'NORMAL_CLEARING'));
    fc.assert(fc.property(fc.array(field, { minLength: 10, maxLength: 22 }), fc.boolean(), (parts, quote) => {
      const line = parts.map((p) => (quote ? `"${p}"` : p)).join(',');
      for (const event of parser.parse(line, ctx)) {
        assert.equal(event.kind, 'call-end');
        assert.equal(event.ip, undefined);
        assert.ok(event.call?.disposition);
      }
    }), { numRuns: 2000 });
  });
});
