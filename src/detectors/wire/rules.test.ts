import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateConfig } from '../../config/load.js';
import type { SecurityEvent } from '../../core/event.js';
import { Analyzer } from '../../pipeline/analyzer.js';
import { WireAnalyzer } from './analyzer.js';
import { challengeHeader, requestPacket, responsePacket, WIRE_DEFAULTS, type RequestSpec } from './testing.js';
import type { WirePacket } from './types.js';

/**
 * The wire detectors feed the same default rules and policy as the log parsers: each attack seen only in SIP
 * messages ends in a decision by the rule an operator would expect, and a phone's normal traffic in none.
 */
const T0 = Date.UTC(2026, 10, 21, 12, 0, 0);

function run(packets: (at: number) => WirePacket[]): { rules: Map<string, string>; events: SecurityEvent[] } {
  const wire = new WireAnalyzer(WIRE_DEFAULTS);
  const analyzer = new Analyzer(validateConfig({ node: 't', enforce: { backend: 'dry-run' } }));
  const rules = new Map<string, string>();
  const events: SecurityEvent[] = [];
  const feed = (out: readonly SecurityEvent[]): void => {
    for (const event of out) {
      events.push(event);
      for (const decision of analyzer.process(event).decisions) if (decision.action === 'ban') rules.set(decision.target, decision.rule ?? '');
    }
  };
  for (const packet of packets(T0)) feed(wire.observe(packet));
  feed(wire.flush(T0 + 60_000));
  return { rules, events };
}

function exchange(spec: RequestSpec, at: number, status: number, reason: string, extra: string[] = []): WirePacket[] {
  return [requestPacket(spec, at), responsePacket(spec, at + 1, status, reason, extra)];
}

describe('wire events through the default rules and policy', () => {
  it('enumeration: distinct accounts refused (404, 403, or challenged and abandoned) from one source', () => {
    const { rules } = run((t) => [
      ...exchange({ method: 'REGISTER', user: '200', ip: '203.0.113.1', callId: 'e1' }, t, 404, 'Not Found'),
      ...exchange({ method: 'REGISTER', user: '201', ip: '203.0.113.1', callId: 'e2' }, t + 10, 403, 'Forbidden'),
      ...exchange({ method: 'REGISTER', user: '202', ip: '203.0.113.1', callId: 'e3' }, t + 20, 401, 'Unauthorized', [challengeHeader('q')]),
    ]);
    assert.equal(rules.get('203.0.113.1'), 'enumeration');
  });

  it('brute force: failed challenge responses', () => {
    const { rules } = run((t) => {
      const first: RequestSpec = { method: 'REGISTER', user: '100', ip: '203.0.113.2', callId: 'b', seq: 1 };
      const out = exchange(first, t, 401, 'Unauthorized', [challengeHeader('nb')]);
      for (let i = 0; i < 5; i++) out.push(...exchange({ ...first, seq: 2 + i, auth: { username: '100', nonce: 'nb' } }, t + 10 + i * 10, 403, 'Forbidden'));
      return out;
    });
    assert.equal(rules.get('203.0.113.2'), 'bruteforce');
  });

  it('dialplan probes: INVITEs to many destinations, and misses', () => {
    const spray = run((t) => Array.from({ length: 10 }, (_, i) =>
      exchange({ method: 'INVITE', user: 'guest', target: `0097259000${i}`, ip: '203.0.113.3', callId: `d${i}` }, t + i * 10, 480, 'Temporarily Unavailable')).flat());
    assert.equal(spray.rules.get('203.0.113.3'), 'invite-spray');
    const misses = run((t) => Array.from({ length: 3 }, (_, i) =>
      exchange({ method: 'INVITE', user: 'guest', target: `4420${i}`, ip: '203.0.113.4', callId: `m${i}` }, t + i * 10, 404, 'Not Found')).flat());
    assert.equal(misses.rules.get('203.0.113.4'), 'dialplan-probe');
  });

  it('scanner and flood', () => {
    const scanner = run((t) => exchange({ method: 'OPTIONS', user: '100', ip: '203.0.113.5', callId: 's', userAgent: 'friendly-scanner' }, t, 200, 'OK'));
    assert.equal(scanner.rules.get('203.0.113.5'), 'scanner');
    const flood = run((t) => Array.from({ length: 80 }, (_, i) =>
      requestPacket({ method: 'OPTIONS', user: 'x', ip: '203.0.113.6', callId: `f${i}` }, t + i * 5)));
    assert.equal(flood.rules.get('203.0.113.6'), 'flood');
  });

  it('a phone registering and calling is never banned', () => {
    const { rules, events } = run((t) => {
      const out: WirePacket[] = [];
      for (let r = 0; r < 5; r++) {
        const first: RequestSpec = { method: 'REGISTER', user: '1001', ip: '198.51.100.20', callId: `r${r}`, seq: 1, userAgent: 'Yealink SIP-T46S' };
        out.push(...exchange(first, t + r * 1000, 401, 'Unauthorized', [challengeHeader(`n${r}`)]));
        out.push(...exchange({ ...first, seq: 2, auth: { username: '1001', nonce: `n${r}` } }, t + r * 1000 + 10, 200, 'OK'));
      }
      const invite: RequestSpec = { method: 'INVITE', user: '1001', target: '442079460000', ip: '198.51.100.20', callId: 'call', seq: 1 };
      out.push(...exchange(invite, t + 9000, 407, 'Proxy Authentication Required', [challengeHeader('ni').replace('WWW-', 'Proxy-')]));
      out.push(...exchange({ ...invite, seq: 2, auth: { username: '1001', nonce: 'ni' } }, t + 9010, 200, 'OK'));
      return out;
    });
    assert.deepEqual([...rules], []);
    assert.deepEqual(events.map((e) => e.kind).sort(), ['auth-success', 'auth-success', 'auth-success', 'auth-success', 'auth-success', 'call-answer', 'call-start']);
  });
});
