import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { RAW_LIMIT, type SecurityEvent } from '../../core/event.js';
import { normalizeIp } from '../../core/ip.js';
import { EslDecoder, parseEventPlain } from '../../sources/esl/decoder.js';
import type { ParseContext } from '../types.js';
import { ESL_PATTERNS, parseEslEvent } from './index.js';

const ctx: ParseContext = { timezone: 'UTC', referenceTime: Date.UTC(2023, 0, 1) };

/** The events of the transcript, in order, through the decoder and the event-plain helper. */
function transcriptEvents(): Map<string, string>[] {
  const frames = new EslDecoder().push(readFileSync('src/parsers/esl/esl.transcript'));
  return frames.filter((f) => f.headers.get('Content-Type') === 'text/event-plain').map((f) => parseEventPlain(f.body ?? ''));
}

/** What each transcript event yields: the fields given must match, `null` means no event. */
const EXPECTED: (Partial<SecurityEvent> | null)[] = [
  {
    pattern: 'esl-register-failure', kind: 'auth-failure', evidence: 'verified', ip: '198.51.100.7', port: 5062,
    account: '1000', domain: '203.0.113.10', userAgent: 'friendly-scanner', at: 1704110400123,
    reason: "SIP auth failure (REGISTER) on sofia profile 'internal'",
  },
  {
    pattern: 'esl-register-failure', kind: 'auth-failure', evidence: 'verified', ip: '2001:db8::7', port: 5060,
    destination: '000972543480510', userAgent: 'Asterisk PBX 1.6', at: 1704110401000,
    reason: "SIP auth failure (INVITE) on sofia profile 'internal'",
  },
  null, // register_attempt FORBIDDEN: register_failure above already counts it
  {
    pattern: 'esl-register-success', kind: 'auth-success', evidence: 'verified', ip: '192.0.2.20', port: 5060,
    account: '1001', domain: 'pbx.example.com', userAgent: 'Yealink SIP-T46S 66.86.0.15', at: 1704110403500,
  },
  null, // register_attempt STALE: sofia re-challenges
  {
    pattern: 'esl-pre-register', kind: 'challenge', evidence: 'spoofable', ip: '198.51.100.9', port: 5070,
    account: '100', domain: '203.0.113.10', userAgent: 'sipvicious: %zz é', at: 1704110405000,
  },
  null, // register_failure without network-ip
  null, // register_failure whose network-ip is not one address
  null, // sofia::register: not a security event here
];

describe('ESL parser: transcript', () => {
  const events = transcriptEvents();
  it('has one expectation per event and every pattern covered', () => {
    assert.equal(events.length, EXPECTED.length);
    const seen = new Set(EXPECTED.map((e) => e?.pattern));
    for (const pattern of ESL_PATTERNS) assert.ok(seen.has(pattern), pattern);
  });
  EXPECTED.forEach((expected, index) => {
    const event = events[index] ?? new Map<string, string>();
    it(`event ${index + 1}: ${event.get('Event-Subclass')} ${expected ? expected.kind : 'yields nothing'}`, () => {
      const result = parseEslEvent(event, ctx);
      if (!expected) {
        assert.equal(result.length, 0);
        return;
      }
      assert.equal(result.length, 1);
      const [found] = result;
      for (const [field, value] of Object.entries(expected)) assert.deepEqual(found?.[field as keyof SecurityEvent], value, field);
      assert.equal(found?.server, 'freeswitch');
      if (expected.destination !== undefined) assert.equal(found?.account, undefined);
      assert.ok(found?.raw.startsWith(`Event-Subclass: ${event.get('Event-Subclass')}\nnetwork-ip: `));
    });
  });
});

describe('ESL parser: fields', () => {
  const base = (extra: [string, string][]): Map<string, string> =>
    new Map([['Event-Subclass', 'sofia::register_failure'], ['network-ip', '198.51.100.7'], ['to-user', '1000'], ...extra]);

  it('takes the time from the reference when Event-Date-Timestamp is missing or not a number', () => {
    assert.equal(parseEslEvent(base([]), ctx)[0]?.at, ctx.referenceTime);
    assert.equal(parseEslEvent(base([['Event-Date-Timestamp', '17e14']]), ctx)[0]?.at, ctx.referenceTime);
  });
  it('folds an IPv4-mapped network-ip and drops a bad port', () => {
    const [event] = parseEslEvent(base([['network-ip', '::ffff:198.51.100.8'], ['network-port', '70000']]), ctx);
    assert.equal(event?.ip, '198.51.100.8');
    assert.equal(event?.port, undefined);
  });
  it('yields nothing without a valid network-ip, whatever the other headers say', () => {
    for (const ip of ['', 'pbx1', '198.51.100.7:5060', '[2001:db8::1]', '198.51.100.7 203.0.113.1']) {
      assert.deepEqual(parseEslEvent(base([['network-ip', ip]]), ctx), []);
    }
    const missing = base([]);
    missing.delete('network-ip');
    missing.set('contact', 'sip:1000@203.0.113.66');
    assert.deepEqual(parseEslEvent(missing, ctx), []);
  });
  it('yields nothing for register_attempt without auth-result', () => {
    assert.deepEqual(parseEslEvent(base([['Event-Subclass', 'sofia::register_attempt']]), ctx), []);
  });
  it('keeps raw bounded, one line per header, control characters escaped', () => {
    const [event] = parseEslEvent(base([['user-agent', `evil\nnetwork-ip: 203.0.113.66${'x'.repeat(5000)}`]]), ctx);
    assert.equal(event?.raw.length, RAW_LIMIT);
    assert.ok(event?.raw.includes('user-agent: evil%0Anetwork-ip: 203.0.113.66'));
    assert.equal(event?.ip, '198.51.100.7');
  });
  it('never throws and never attributes an address from a caller-controlled header', () => {
    const names = ['Event-Subclass', 'network-ip', 'network-port', 'to-user', 'to-host', 'username', 'user-agent', 'auth-result', 'registration-type', 'Event-Date-Timestamp'];
    const subclasses = ['sofia::register_failure', 'sofia::register_attempt', 'sofia::pre_register', 'sofia::register'];
    fc.assert(
      fc.property(
        fc.constantFrom(...subclasses), fc.option(fc.oneof(fc.ipV4(), fc.ipV6(), fc.string())),
        fc.array(fc.tuple(fc.constantFrom(...names.slice(2)), fc.oneof(fc.string(), fc.ipV4(), fc.constantFrom('SUCCESS', 'FORBIDDEN', 'INVITE')))),
        (subclass, networkIp, rest) => {
          const event = new Map<string, string>([['Event-Subclass', subclass], ...rest]);
          if (networkIp !== null) event.set('network-ip', networkIp);
          for (const found of parseEslEvent(event, ctx)) {
            assert.equal(found.ip, normalizeIp(networkIp ?? ''));
            assert.ok(found.raw.length <= RAW_LIMIT);
            assert.ok(Number.isFinite(found.at));
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});
