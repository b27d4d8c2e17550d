import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createAsteriskParser } from '../asterisk/index.js';
import { checkCoverage, checkSample, loadSamples } from '../samples.js';
import { createAsteriskSecurityParser } from './index.js';

const ctx = { timezone: 'UTC', referenceTime: Date.UTC(2024, 5, 1) };
const samples = loadSamples('src/parsers/asterisk-security/security.samples.log');

describe('asterisk-security parser: annotated samples', () => {
  const parser = createAsteriskSecurityParser();
  for (const sample of samples) {
    it(`${sample.expect.pattern} line ${sample.lineNumber}`, () => checkSample(parser, sample, ctx));
  }
  it('has a sample and a near miss for every pattern', () => checkCoverage(parser, samples));
});

describe('asterisk-security parser: contract', () => {
  const parser = createAsteriskSecurityParser();

  it('names itself', () => {
    assert.equal(parser.format, 'asterisk-security');
    assert.equal(parser.server, 'asterisk');
  });

  it('gives the same events as the asterisk parser for prefixed lines (one shared code path)', () => {
    const full = createAsteriskParser();
    for (const sample of samples) {
      if (!sample.line.startsWith('[')) continue;
      assert.deepEqual(full.parse(sample.line, ctx), parser.parse(sample.line, ctx), `line ${sample.lineNumber}`);
    }
  });

  it('prefers EventTV (it has a zone offset) over the line date', () => {
    const line =
      '[2024-01-01 23:00:00] SECURITY[1] res_security_log.c: SecurityEvent="ChallengeSent",EventTV="2024-01-01T12:00:00.000+0100",' +
      'Severity="Informational",Service="PJSIP",EventVersion="1",AccountID="a",SessionID="b",LocalAddress="IPV4/UDP/1.2.3.4/5060",' +
      'RemoteAddress="IPV4/UDP/198.51.100.7/5062",Challenge="c"';
    assert.equal(parser.parse(line, ctx)[0]?.at, Date.UTC(2024, 0, 1, 11));
    const unreadable = line.replace('2024-01-01T12:00:00.000+0100', 'soon');
    assert.equal(parser.parse(unreadable, ctx)[0]?.at, Date.UTC(2024, 0, 1, 23));
  });

  it('returns no events for other lines', () => {
    for (const line of ['', 'SecurityEvent=', 'SecurityEvent="FailedACL"', '[x] SECURITY[1] res_security_log.c: hello']) {
      assert.deepEqual(parser.parse(line, ctx), []);
    }
  });
});
