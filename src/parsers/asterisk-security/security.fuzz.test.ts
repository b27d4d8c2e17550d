import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { createAsteriskParser } from '../asterisk/index.js';
import { loadSamples } from '../samples.js';
import { assertWellFormed, fieldWith, fuzzCtx, injectedIp, mutated, TRUE_IP } from '../fuzz-support.js';
import { createAsteriskSecurityParser } from './index.js';

const PREFIX = '[2024-01-01 12:00:00] SECURITY[2345] res_security_log.c: ';
const REMOTE = `RemoteAddress="IPV4/UDP/${TRUE_IP}/5062"`;

/** Every event type, with the client's fields as parameters: [AccountID, SessionID, a field after the address]. */
const TEMPLATES: ReadonlyArray<(a: string, s: string, t: string) => string> = [
  ['FailedACL', ',ACLName="no_extension_match"'],
  ['InvalidAccountID', ''],
  ['SessionLimit', ''],
  ['RequestNotSupported', ',RequestType="%t"'],
  ['RequestNotAllowed', ',RequestType="%t",RequestParams="%t"'],
  ['AuthMethodNotAllowed', ',AuthMethod="%t"'],
  ['SuccessfulAuth', ',UsingPassword="0"'],
  ['UnexpectedAddress', ',ExpectedAddress="IPV4/UDP/203.0.113.50/5060"'],
  ['ChallengeResponseFailed', ',Challenge="1/2",Response="%t",ExpectedResponse=""'],
  ['InvalidPassword', ',Challenge="abc",ReceivedChallenge="%t",ReceivedHash="%t"'],
  ['ChallengeSent', ',Challenge="1/2"'],
  ['InvalidTransport', ',AttemptedTransport="TCP"'],
].map(([name, tail]) => (a: string, s: string, t: string) =>
  `${PREFIX}SecurityEvent="${name}",EventTV="2024-01-01T12:00:00.000+0000",Severity="Error",Service="PJSIP",` +
  `EventVersion="1",AccountID="${a}",SessionID="${s}",LocalAddress="IPV4/UDP/203.0.113.10/5060",${REMOTE}` +
  (tail as string).replaceAll('%t', t));

describe('asterisk-security parser: fuzz', () => {
  const parsers = [createAsteriskSecurityParser(), createAsteriskParser()];

  it('never attributes an address injected into AccountID, SessionID or a later client field', () => {
    const line = fc.tuple(injectedIp, fc.nat(TEMPLATES.length - 1), fc.nat(2)).chain(([ip, template, slot]) =>
      fieldWith(ip).map((field) => {
        const values = ['100', 'call-1', 'x'];
        values[slot] = field;
        return { ip, line: (TEMPLATES[template] as (a: string, s: string, t: string) => string)(...(values as [string, string, string])) };
      }),
    );
    fc.assert(
      fc.property(line, ({ ip, line: text }) => {
        for (const parser of parsers) {
          for (const event of parser.parse(text, fuzzCtx)) {
            assert.notEqual(event.ip, ip, text);
            if (event.ip !== undefined) assert.equal(event.ip, TRUE_IP, text);
          }
        }
      }),
      { numRuns: 1500 },
    );
  });

  it('never throws on mutated samples, and keeps its invariants', () => {
    const lines = loadSamples('src/parsers/asterisk-security/security.samples.log').map((s) => s.line);
    fc.assert(fc.property(mutated(lines), (text) => parsers.forEach((p) => assertWellFormed(p, text))), { numRuns: 1500 });
  });

  it('never throws on random text behind a SECURITY prefix', () => {
    const body = fc.string({ unit: 'binary', maxLength: 300 });
    fc.assert(
      fc.property(fc.constantFrom('', PREFIX, `${PREFIX}SecurityEvent="`), body, (head, tail) =>
        parsers.forEach((p) => assertWellFormed(p, head + tail))),
      { numRuns: 1000 },
    );
  });
});
