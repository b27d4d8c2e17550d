import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { checkCoverage, checkSample, loadSamples } from '../samples.js';
import type { ParseContext } from '../types.js';
import { createAsteriskCdrParser, splitCsv } from './index.js';

const ctx: ParseContext = { timezone: 'UTC', referenceTime: Date.UTC(2026, 10, 21) };
const samples = loadSamples('src/parsers/asterisk-cdr/asterisk-cdr.samples.log');

describe('asterisk-cdr parser: annotated samples', () => {
  const parser = createAsteriskCdrParser();
  it('covers every pattern with a sample and a near miss', () => checkCoverage(parser, samples));
  for (const sample of samples) {
    it(`line ${sample.lineNumber}`, () => checkSample(parser, sample, ctx));
  }
});

describe('asterisk-cdr parser: properties', () => {
  it('reads local times in the configured zone', () => {
    const line = '"","1001","900","ctx","","PJSIP/1001-00000001","","Dial","","2026-07-01 12:00:00",,"2026-07-01 12:00:10",10,0,"NO ANSWER","DOCUMENTATION"';
    const [event] = createAsteriskCdrParser().parse(line, { timezone: 'Europe/Berlin', referenceTime: 0 });
    assert.equal(event?.at, Date.UTC(2026, 6, 1, 10, 0, 10));
  });

  it('splits CSV as cdr_csv writes it, and refuses what it never writes', () => {
    assert.deepEqual(splitCsv('"a","b ""c"", d",,12,"x"'), ['a', 'b "c", d', '', '12', 'x']);
    assert.deepEqual(splitCsv('"a",'), ['a', '']);
    assert.equal(splitCsv('"a"b,"c"'), null);
    assert.equal(splitCsv('"a,b'), null);
    assert.equal(splitCsv('a"b,c'), null);
  });

  it('never throws, and every event it yields is a well-formed call-end', () => {
    const parser = createAsteriskCdrParser();
    const field = fc.oneof(fc.string(), fc.constantFrom('"', '""', ',', '",', 'PJSIP/1-0', '2026-11-21 02:10:00', '5', 'ANSWERED'));
    fc.assert(fc.property(fc.array(field, { minLength: 14, maxLength: 22 }), fc.boolean(), (parts, quote) => {
      const line = parts.map((p) => (quote ? `"${p}"` : p)).join(',');
      for (const event of parser.parse(line, ctx)) {
        assert.equal(event.kind, 'call-end');
        assert.equal(event.ip, undefined, 'a CDR never names an address');
        assert.ok(event.call?.disposition);
      }
    }), { numRuns: 2000 });
  });
});
