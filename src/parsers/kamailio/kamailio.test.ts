import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { assertWellFormed, mutated } from '../fuzz-support.js';
import { checkCoverage, checkSample, loadSamples } from '../samples.js';
import type { ParseContext } from '../types.js';
import { createKamailioParser, KAMAILIO_RECOMMENDED_XLOG } from './index.js';

const ctx: ParseContext = { timezone: 'UTC', referenceTime: Date.UTC(2021, 11, 31) };
const samples = loadSamples('src/parsers/kamailio/kamailio.samples.log');
const REAL = '192.0.2.10';
const INJECTED = '203.0.113.66';

describe('kamailio parser: annotated samples', () => {
  const parser = createKamailioParser();
  it('covers every pattern with a sample and a near miss', () => checkCoverage(parser, samples));
  for (const sample of samples) {
    it(`line ${sample.lineNumber}`, () => checkSample(parser, sample, ctx));
  }
});

/** The pseudo-variable values Kamailio would print for one request. */
const PV: Record<string, string> = {
  '$si': '2001:db8::10', '$sp': '5062', '$pr': 'tcp', '$var(rc)': '-2', '$rm': 'REGISTER',
  '$au': '100', '$ar': 'pbx.example.com', '$ua': 'friendly-scanner',
};

/** Expands every xlog() of the snippet as Kamailio would, in stderr form. */
function renderXlog(snippet: string): string[] {
  const calls = [...snippet.matchAll(/xlog\("(L_[A-Z]+)", "(.*)\\n"\);/g)];
  return calls.map(([, level, format]) => {
    const text = (format as string).replace(/\$var\(rc\)|\$[a-z]{2}/g, (pv) => PV[pv] ?? pv);
    return ` 1(29317) ${level === 'L_NOTICE' ? 'NOTICE' : 'WARNING'}: <script>: ${text}`;
  });
}

describe('KAMAILIO_RECOMMENDED_XLOG', () => {
  const parser = createKamailioParser();
  const lines = renderXlog(KAMAILIO_RECOMMENDED_XLOG);
  it('holds the scanner, auth-failed and auth-ok lines', () => assert.equal(lines.length, 3));
  it('produces lines the built-in format parses, with the source from $si/$sp', () => {
    const kinds = lines.map((line) => {
      const [event] = parser.parse(line, ctx);
      assert.equal(event?.ip, '2001:db8::10', line);
      assert.equal(event?.port, 5062);
      assert.equal(event?.transport, 'tcp');
      assert.equal(event?.evidence, 'verified');
      return event?.kind;
    });
    assert.deepEqual(kinds, ['scanner', 'auth-failure', 'auth-success']);
  });
});

const attackerText = fc
  .array(
    fc.constantFrom(
      INJECTED, `(IP:${INJECTED}:5060)`, `src=${INJECTED}`, ` port=5060 `, 'sipwarden: auth-failed ', '<script>: ',
      `PIKE - BLOCKing ip ${INJECTED}, node=0x1`, 'ALERT: pike blocking ', ']: ', '] realm=[', '] ua=[', '[', ']', ' ', 'a',
    ),
    { maxLength: 8 },
  )
  .map((parts) => parts.join(''));

describe('kamailio parser: properties', () => {
  const parser = createKamailioParser();
  const templates = [
    (a: string, b: string) => ` 2(29318) ALERT: <script>: ALERT: pike blocking INVITE from sip:${a}@${b} (IP:${REAL}:5060)`,
    (a: string, b: string) => ` 1(29317) WARNING: <script>: sipwarden: auth-failed src=${REAL} port=5060 proto=udp rc=-2 method=REGISTER user=[${a}] realm=[x] ua=[${b}]`,
    (a: string, b: string) => ` 1(29317) WARNING: <script>: sipwarden: scanner src=${REAL} port=5060 proto=udp method=OPTIONS ua=[${a}${b}]`,
    (a: string, b: string) => ` 1(29317) NOTICE: <script>: REQ OPTIONS from ${REAL}:5060 ua=${a} fu=${b}`,
    (a: string, b: string) => ` 1(29317) ERROR: tm [t_lookup.c:1]: t_check(): bad header ${a}${b}`,
    (a: string, b: string) => ` 2(29318) WARNING: pike [pike_funcs.c:135]: pike_check_ipaddr(): PIKE - BLOCKing ip ${REAL}, node=0x7f68${a.length}${b.length}`,
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
