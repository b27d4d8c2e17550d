import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { assertWellFormed, mutated } from '../fuzz-support.js';
import { checkCoverage, checkSample, loadSamples } from '../samples.js';
import type { ParseContext } from '../types.js';
import { createOpensipsParser, OPENSIPS_RECOMMENDED_XLOG } from './index.js';

const ctx: ParseContext = { timezone: 'UTC', referenceTime: Date.UTC(2021, 11, 31) };
const samples = loadSamples('src/parsers/opensips/opensips.samples.log');
const REAL = '192.0.2.10';
const INJECTED = '203.0.113.66';

describe('opensips parser: annotated samples', () => {
  const parser = createOpensipsParser();
  it('covers every pattern with a sample and a near miss', () => checkCoverage(parser, samples));
  for (const sample of samples) {
    it(`line ${sample.lineNumber}`, () => checkSample(parser, sample, ctx));
  }
});

const PV: Record<string, string> = {
  '$si': '192.0.2.44', '$sp': '5060', '$pr': 'udp', '$var(rc)': '-1', '$rm': 'REGISTER',
  '$au': '100', '$ar': 'pbx', '$ua': 'friendly-scanner',
};

describe('OPENSIPS_RECOMMENDED_XLOG', () => {
  const parser = createOpensipsParser();
  const lines = [...OPENSIPS_RECOMMENDED_XLOG.matchAll(/xlog\("(L_[A-Z]+)", "(.*)\\n"\);/g)].map(([, level, format]) => {
    const text = (format as string).replace(/\$var\(rc\)|\$[a-z]{2}/g, (pv) => PV[pv] ?? pv);
    return `Dec 31 12:00:00 sip1 opensips[1234]: ${level === 'L_NOTICE' ? 'NOTICE' : 'WARNING'}:${text}`;
  });
  it('produces lines the built-in format parses', () => {
    const events = lines.map((line) => parser.parse(line, ctx)[0]);
    assert.deepEqual(events.map((e) => e?.kind), ['scanner', 'unknown-account', 'auth-success']);
    for (const event of events) assert.equal(event?.ip, '192.0.2.44');
  });
});

const attackerText = fc
  .array(
    fc.constantFrom(
      INJECTED, `src=${INJECTED}`, 'sipwarden: auth-failed ', 'WARNING:', `PIKE - BLOCKing ip ${INJECTED}, node=0x1`,
      '] realm=[', '] ua=[', '[', ']', ' ', 'a', ':',
    ),
    { maxLength: 8 },
  )
  .map((parts) => parts.join(''));

describe('opensips parser: properties', () => {
  const parser = createOpensipsParser();
  const templates = [
    (a: string, b: string) => `Dec 31 12:00:00 [1234] WARNING:sipwarden: auth-failed src=${REAL} port=5060 proto=udp rc=-2 method=REGISTER user=[${a}] realm=[x] ua=[${b}]`,
    (a: string, b: string) => `Dec 31 12:00:00 [1234] NOTICE:REQ from ${REAL} ua=${a} fu=${b}`,
    (a: string, b: string) => `Dec 31 12:00:00 sip1 opensips[1]: ERROR:core:parse_headers: bad header ${a}${b}`,
  ];
  it('never attributes an address injected into attacker-controlled fields', () => {
    fc.assert(
      fc.property(fc.nat(templates.length - 1), attackerText, attackerText, (t, a, b) => {
        for (const event of parser.parse((templates[t] as (a: string, b: string) => string)(a, b), ctx)) {
          assert.ok(event.ip === undefined || event.ip === REAL, `attributed ${event.ip}`);
        }
      }),
      { numRuns: 3000 },
    );
  });
  it('never throws on random or mutated lines; every event is well formed', () => {
    const lines = samples.map((s) => s.line);
    fc.assert(
      fc.property(fc.oneof(mutated(lines), fc.string({ unit: 'binary', maxLength: 300 })), (line) => assertWellFormed(parser, line, ctx)),
      { numRuns: 3000 },
    );
  });
});
