import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { assertWellFormed, mutated } from '../fuzz-support.js';
import { checkCoverage, checkSample, loadSamples } from '../samples.js';
import type { ParseContext } from '../types.js';
import { createFreeswitchParser } from './index.js';

const ctx: ParseContext = { timezone: 'UTC', referenceTime: Date.UTC(2021, 11, 31) };
const samples = loadSamples('src/parsers/freeswitch/freeswitch.samples.log');
const REAL = '5.11.47.236';
const INJECTED = '203.0.113.66';

describe('freeswitch parser: annotated samples', () => {
  const parser = createFreeswitchParser();
  it('covers every pattern with a sample and a near miss', () => checkCoverage(parser, samples));
  for (const sample of samples) {
    it(`line ${sample.lineNumber}`, () => checkSample(parser, sample, ctx));
  }
  it('leaves the account empty on INVITE lines, whose user is the dialled number', () => {
    const line = samples.find((s) => s.line.includes('(INVITE) on sofia') && s.line.includes('auth failure'));
    const [event] = parser.parse(line?.line ?? '', ctx);
    assert.equal(event?.account, undefined);
    assert.equal(event?.destination, '000972543480510');
  });
  it('keeps raw bounded', () => {
    const long = `2013-12-31 17:39:54.767815 [WARNING] sofia_reg.c:1 SIP auth failure (REGISTER) on sofia profile 'p' for [${'a'.repeat(5000)}@h] from ip ${REAL}`;
    const [event] = parser.parse(long, ctx);
    assert.equal(event?.ip, REAL);
    assert.equal(event?.raw.length, 1024);
  });
});

/** Pieces an attacker can put into To user/host or a digest username. */
const attackerText = fc
  .array(
    fc.constantFrom(
      INJECTED, `from ip ${INJECTED}`, `] from ${INJECTED}`, `] from ip ${INJECTED}`, '[', ']', '@', ' ', "'", '"',
      `[${INJECTED}]`, `${INJECTED}:5060`, 'for [', 'a', '100', '\t',
    ),
    { maxLength: 8 },
  )
  .map((parts) => parts.join(''));

describe('freeswitch parser: properties', () => {
  const parser = createFreeswitchParser();
  const templates = [
    (u: string, h: string) => `2013-12-31 17:39:54.767815 [WARNING] sofia_reg.c:1478 SIP auth failure (REGISTER) on sofia profile 'internal' for [${u}@${h}] from ip ${REAL}`,
    (u: string, h: string) => `2013-12-31 17:39:54.767815 [WARNING] sofia_reg.c:1478 SIP auth challenge (INVITE) on sofia profile 'internal' for [${u}@${h}] from ip ${REAL}`,
    (u: string, h: string) => `2021-10-29 21:04:58.150982 00.00% [WARNING] sofia_reg.c:2889 Can't find user [${u}@${h}] from ${REAL}`,
    (u: string, h: string) => `2021-10-29 21:04:58.150982 [WARNING] sofia_reg.c:1649 SIP auth failure (REGISTER) due to user-agent-filter.  Filter "x" User-Agent "${u}${h}"`,
  ];

  it('never attributes an address injected into attacker-controlled fields', () => {
    fc.assert(
      fc.property(fc.nat(templates.length - 1), attackerText, attackerText, (t, user, host) => {
        for (const event of parser.parse((templates[t] as (u: string, h: string) => string)(user, host), ctx)) {
          assert.ok(event.ip === undefined || event.ip === REAL, `attributed ${event.ip}`);
          if (event.kind === 'tampered') assert.equal(event.ip, undefined);
        }
      }),
      { numRuns: 2000 },
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
