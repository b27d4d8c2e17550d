import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RAW_LIMIT } from '../../core/event.js';
import { checkCoverage, checkSample, loadSamples } from '../samples.js';
import { createAsteriskParser } from './index.js';

const ctx = { timezone: 'UTC', referenceTime: Date.UTC(2024, 5, 1) };
const samples = loadSamples('src/parsers/asterisk/asterisk.samples.log');
// The full log carries SECURITY lines too; bare bodies without the logger prefix are the security parser's alone.
const securitySamples = loadSamples('src/parsers/asterisk-security/security.samples.log').filter(
  (sample) => !sample.line.startsWith('SecurityEvent='),
);

describe('asterisk parser: annotated samples', () => {
  const parser = createAsteriskParser();
  for (const sample of samples) {
    it(`${sample.expect.pattern} line ${sample.lineNumber}`, () => checkSample(parser, sample, ctx));
  }
  for (const sample of securitySamples) {
    it(`${sample.expect.pattern} security line ${sample.lineNumber}`, () => checkSample(parser, sample, ctx));
  }
  it('has a sample and a near miss for every pattern', () => checkCoverage(parser, [...samples, ...securitySamples]));
});

describe('asterisk parser: contract', () => {
  const parser = createAsteriskParser();
  const attack = "[2024-01-01 12:00:00] NOTICE[1] chan_sip.c: Registration from '<sip:1@x>' failed for '203.0.113.5:5060' - Wrong password";

  it('names itself', () => {
    assert.equal(parser.format, 'asterisk');
    assert.equal(parser.server, 'asterisk');
    assert.equal(new Set(parser.patterns).size, parser.patterns.length);
  });

  it('gives a line without a date the reference time', () => {
    const [event] = parser.parse(attack.slice(22), ctx);
    assert.equal(event?.at, ctx.referenceTime);
    assert.equal(event?.ip, '203.0.113.5');
  });

  it('gives a line with an unreadable date the reference time', () => {
    const [event] = parser.parse(attack.replace('2024-01-01 12:00:00', 'yesterday noon'), ctx);
    assert.equal(event?.at, ctx.referenceTime);
  });

  it('reads the date in the configured zone', () => {
    const [event] = parser.parse(attack, { timezone: 'Europe/Berlin', referenceTime: ctx.referenceTime });
    assert.equal(event?.at, Date.UTC(2024, 0, 1, 11));
  });

  it('bounds raw and client fields on a huge line', () => {
    const huge = attack.replace('<sip:1@x>', `<sip:${'1'.repeat(1_000_000)}@x>`);
    const [event] = parser.parse(huge, ctx);
    assert.equal(event?.raw.length, RAW_LIMIT);
    assert.ok((event?.account?.length ?? 0) <= 256);
    assert.equal(event?.ip, '203.0.113.5');
  });

  it('returns no events for empty, binary and prefix-only lines', () => {
    for (const line of ['', '[', '[]', 'NOTICE[', 'NOTICE[1] ', '\u0000\uffff', '[2024-01-01 12:00:00] NOTICE[1] chan_sip.c:']) {
      assert.deepEqual(parser.parse(line, ctx), []);
    }
  });

  it('keeps no state between lines', () => {
    const fresh = createAsteriskParser();
    for (const sample of samples) parser.parse(sample.line, ctx);
    for (const sample of samples) assert.deepEqual(parser.parse(sample.line, ctx), fresh.parse(sample.line, ctx));
  });
});
