import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isSipwardenError } from '../../core/errors.js';
import type { EventKind } from '../../core/event.js';
import { createFreeswitchParser } from '../freeswitch/index.js';
import type { ParseContext } from '../types.js';
import { createCustomParser, CUSTOM_LINE_LIMIT, type CustomFormatSpec } from './index.js';

const ctx: ParseContext = { timezone: 'UTC', referenceTime: Date.UTC(2021, 11, 31) };

const sbc: CustomFormatSpec = {
  name: 'my-sbc',
  patterns: [
    {
      id: 'sbc-auth',
      regex: String.raw`^(?<at>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) AUTHFAIL user=(?<account>\S+) ua="(?<userAgent>[^"]*)" src=(?<ip>\S+)$`,
      kind: 'auth-failure',
    },
    { regex: String.raw`^BLOCK (?<ip>\S+) port (?<port>\d+) to (?<destination>\d+)$`, kind: 'dialplan-miss', evidence: 'verified' },
  ],
};

function errorMessage(spec: CustomFormatSpec): string {
  try {
    createCustomParser(spec);
  } catch (error) {
    assert.ok(isSipwardenError(error, 'SW_ERR_PATTERN'), String(error));
    return error.message;
  }
  assert.fail('expected SW_ERR_PATTERN');
}

describe('custom parser', () => {
  const parser = createCustomParser(sbc);

  it('fills the event from named groups', () => {
    const [event] = parser.parse('2021-06-01 10:00:00 AUTHFAIL user=100 ua="friendly-scanner" src=[2001:db8::1]:5060', ctx);
    assert.deepEqual(event, {
      at: Date.UTC(2021, 5, 1, 10),
      kind: 'auth-failure',
      ip: '2001:db8::1',
      port: 5060,
      account: '100',
      userAgent: 'friendly-scanner',
      server: 'custom',
      evidence: 'spoofable',
      pattern: 'sbc-auth',
      raw: '2021-06-01 10:00:00 AUTHFAIL user=100 ua="friendly-scanner" src=[2001:db8::1]:5060',
    });
  });

  it('numbers patterns without an id, takes the port group and the configured evidence', () => {
    const [event] = parser.parse('BLOCK 192.0.2.1:5070 port 5080 to 0097259', ctx);
    assert.equal(event?.pattern, 'my-sbc-1');
    assert.equal(event?.port, 5080);
    assert.equal(event?.destination, '0097259');
    assert.equal(event?.evidence, 'verified');
    assert.equal(event?.at, ctx.referenceTime);
    assert.deepEqual(parser.patterns, ['sbc-auth', 'my-sbc-1']);
  });

  it('yields nothing when the ip group is not an address', () => {
    assert.deepEqual(parser.parse('BLOCK sbc.example.com port 5080 to 1', ctx), []);
    assert.deepEqual(parser.parse('BLOCK 999.1.1.1 port 5080 to 1', ctx), []);
  });

  it('skips its own patterns on lines longer than the limit', () => {
    const long = `BLOCK 192.0.2.1 port 5080 to ${'1'.repeat(CUSTOM_LINE_LIMIT)}`;
    assert.deepEqual(parser.parse(long, ctx), []);
  });

  it('falls back to the base parser it extends', () => {
    const extended = createCustomParser(sbc, createFreeswitchParser());
    assert.equal(extended.server, 'freeswitch');
    assert.ok(extended.patterns.includes('freeswitch-auth-failure'));
    const [own] = extended.parse('BLOCK 192.0.2.1 port 5080 to 1', ctx);
    assert.equal(own?.server, 'freeswitch');
    const [fallback] = extended.parse(
      "2013-12-31 17:39:54.767815 [WARNING] sofia_reg.c:1478 SIP auth failure (REGISTER) on sofia profile 'internal' for [1001@pbx] from ip 5.11.47.236",
      ctx,
    );
    assert.equal(fallback?.pattern, 'freeswitch-auth-failure');
    assert.equal(fallback?.ip, '5.11.47.236');
  });

  it('never throws on odd input', () => {
    for (const line of ['', '\u0000\uffff', 'x'.repeat(100_000), 'BLOCK [::1 port 1 to 2']) parser.parse(line, ctx);
  });
});

describe('custom parser: validation names the format, the pattern and the fault', () => {
  const ok = { regex: '(?<ip>\\S+)', kind: 'auth-failure' as EventKind };
  const cases: [string, CustomFormatSpec, string][] = [
    ['invalid regex', { name: 'my-sbc', patterns: [ok, { regex: '(?<ip>\\S+', kind: 'flood' }] },
      'formats.my-sbc.patterns[1]: regex does not compile: Invalid regular expression: /(?<ip>\\S+/: Unterminated group'],
    ['no ip group', { name: 'my-sbc', patterns: [ok, ok, { regex: 'from (\\S+)', kind: 'flood' }] },
      'formats.my-sbc.patterns[2]: regex has no named group "ip"'],
    ['unknown group', { name: 'my-sbc', patterns: [{ id: 'reg', regex: '(?<ip>\\S+) (?<user>\\S+)', kind: 'flood' }] },
      'formats.my-sbc.patterns[0] (id "reg"): regex has an unknown named group "user" (allowed: ip, port, account, destination, at, userAgent)'],
    ['unknown kind', { name: 'pbx', patterns: [{ regex: '(?<ip>\\S+)', kind: 'brute' as EventKind }] },
      'formats.pbx.patterns[0]: kind "brute" is not one of auth-failure, unknown-account, acl-denied, dialplan-miss, auth-success, challenge, flood, scanner, call-start, call-answer, call-end, request, response'],
    ['tampered kind', { name: 'pbx', patterns: [{ regex: '(?<ip>\\S+)', kind: 'tampered' }] },
      'formats.pbx.patterns[0]: kind "tampered" is set by parsers that detect injection, not by patterns'],
    ['unknown evidence', { name: 'pbx', patterns: [{ ...ok, evidence: 'sure' as 'verified' }] },
      'formats.pbx.patterns[0]: evidence "sure" is not one of verified, spoofable'],
    ['duplicate id', { name: 'pbx', patterns: [{ ...ok, id: 'a' }, { ...ok, id: 'a' }] },
      'formats.pbx.patterns[1] (id "a"): id "a" is already used by patterns[0]'],
  ];
  for (const [what, spec, message] of cases) {
    it(what, () => assert.equal(errorMessage(spec), message));
  }
});
