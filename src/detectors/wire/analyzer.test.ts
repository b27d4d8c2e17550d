import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SecurityEvent } from '../../core/event.js';
import { parseSipMessage } from '../../parsers/sip/message.js';
import { SVCRACK_REGISTER, SVMAP_OPTIONS } from '../../parsers/sip/samples.js';
import { WireAnalyzer } from './analyzer.js';
import { challengeHeader, requestPacket, responsePacket, SERVER, WIRE_DEFAULTS, type RequestSpec } from './testing.js';
import type { WireOptions } from './types.js';

const T0 = Date.UTC(2026, 10, 21, 12, 0, 0);
const ATTACKER = '203.0.113.7';
const PHONE = '198.51.100.20';

function analyzer(options: Partial<WireOptions> = {}): WireAnalyzer {
  return new WireAnalyzer({ ...WIRE_DEFAULTS, ...options });
}

function kinds(events: readonly SecurityEvent[]): string[] {
  return events.map((event) => event.kind);
}

describe('wire analyzer: transactions', () => {
  it('sees a phone register: challenge, credentials answering it, 200 -> verified auth-success and no probe', () => {
    const wire = analyzer();
    const first: RequestSpec = { method: 'REGISTER', user: '1001', ip: PHONE, callId: 'reg1', seq: 1, userAgent: 'Yealink SIP-T46S' };
    const second: RequestSpec = { ...first, seq: 2, auth: { username: '1001', nonce: 'n-1' } };
    const events = [
      ...wire.observe(requestPacket(first, T0)),
      ...wire.observe(responsePacket(first, T0 + 1, 401, 'Unauthorized', [challengeHeader('n-1')])),
      ...wire.observe(requestPacket(second, T0 + 20)),
      ...wire.observe(responsePacket(second, T0 + 21, 200, 'OK')),
      ...wire.flush(T0 + 60_000),
    ];
    assert.deepEqual(kinds(events), ['auth-success'], 'a challenge is not an event; only an unanswered one becomes a probe');
    const success = events[0]!;
    assert.equal(success.ip, PHONE);
    assert.equal(success.account, '1001');
    assert.equal(success.evidence, 'verified', 'the nonce sent to this address came back');
    assert.equal(success.server, 'hep');
    assert.equal(success.userAgent, 'Yealink SIP-T46S');
  });

  it('401 -> REGISTER with credentials -> 403 is an auth failure, verified by the challenge round trip', () => {
    const wire = analyzer();
    const first: RequestSpec = { method: 'REGISTER', user: '100', ip: ATTACKER, callId: 'c1', seq: 1 };
    wire.observe(requestPacket(first, T0));
    wire.observe(responsePacket(first, T0 + 1, 401, 'Unauthorized', [challengeHeader('nonce-a')]));
    const guesses: SecurityEvent[] = [];
    for (let i = 0; i < 3; i++) {
      const guess: RequestSpec = { ...first, seq: 2 + i, auth: { username: '100', nonce: 'nonce-a' } };
      guesses.push(...wire.observe(requestPacket(guess, T0 + 10 + i * 10)));
      guesses.push(...wire.observe(responsePacket(guess, T0 + 11 + i * 10, 403, 'Forbidden')));
    }
    assert.deepEqual(kinds(guesses), ['auth-failure', 'auth-failure', 'auth-failure']);
    for (const event of guesses) {
      assert.equal(event.ip, ATTACKER);
      assert.equal(event.account, '100');
      assert.equal(event.evidence, 'verified');
    }
    assert.deepEqual(kinds(wire.flush(T0 + 60_000)), [], 'an answered challenge is not a probe');
  });

  it('credentials with a nonce the server sent to another address are spoofable', () => {
    const wire = analyzer();
    const victim: RequestSpec = { method: 'REGISTER', user: '100', ip: PHONE, callId: 'v1' };
    wire.observe(requestPacket(victim, T0));
    wire.observe(responsePacket(victim, T0 + 1, 401, 'Unauthorized', [challengeHeader('nonce-v')]));
    const forged: RequestSpec = { method: 'REGISTER', user: '100', ip: ATTACKER, callId: 'x1', seq: 2, auth: { username: '100', nonce: 'nonce-v' } };
    wire.observe(requestPacket(forged, T0 + 5));
    const [failure] = wire.observe(responsePacket(forged, T0 + 6, 401, 'Unauthorized', [challengeHeader('nonce-x')]));
    assert.equal(failure?.kind, 'auth-failure');
    assert.equal(failure?.evidence, 'spoofable');
  });

  it('a stale-nonce challenge to credentials is not a wrong password', () => {
    const wire = analyzer();
    const spec: RequestSpec = { method: 'REGISTER', user: '1001', ip: PHONE, callId: 's1', seq: 5, auth: { username: '1001', nonce: 'old' } };
    wire.observe(requestPacket(spec, T0));
    assert.deepEqual(kinds(wire.observe(responsePacket(spec, T0 + 1, 401, 'Unauthorized', [challengeHeader('new', true)]))), []);
  });

  it('challenges never answered (svwar against a server that challenges everyone) become account probes', () => {
    const wire = analyzer();
    const events: SecurityEvent[] = [];
    for (const [i, user] of ['100', '101', '102', '103'].entries()) {
      const spec: RequestSpec = { method: 'REGISTER', user, ip: ATTACKER, callId: `w${i}` };
      events.push(...wire.observe(requestPacket(spec, T0 + i)));
      events.push(...wire.observe(responsePacket(spec, T0 + i + 1, 401, 'Unauthorized', [challengeHeader(`n${i}`)])));
      // The server retransmits its 401 when the scanner retransmits: still one challenge.
      events.push(...wire.observe(responsePacket(spec, T0 + i + 500, 401, 'Unauthorized', [challengeHeader(`n${i}`)])));
    }
    assert.deepEqual(kinds(events), []);
    assert.deepEqual(kinds(wire.flush(T0 + 7000)), [], 'not before the timeout');
    const probes = wire.flush(T0 + 9000);
    assert.deepEqual(kinds(probes), ['unknown-account', 'unknown-account', 'unknown-account', 'unknown-account']);
    assert.deepEqual(probes.map((event) => event.account), ['100', '101', '102', '103']);
    assert.equal(probes[0]!.at, T0 + 1, 'dated by the challenge, not by the flush');
    assert.equal(probes[0]!.ip, ATTACKER);
    assert.equal(probes[0]!.pattern, 'wire-challenge-unanswered');
  });

  it('404 to INVITE is a dialplan miss; each initial INVITE is one call start, even when challenged and re-sent', () => {
    const wire = analyzer();
    const invite: RequestSpec = { method: 'INVITE', user: '1001', target: '0097259123456', ip: ATTACKER, callId: 'i1', seq: 1 };
    const retry: RequestSpec = { ...invite, seq: 2, auth: { username: '1001', nonce: 'ni' } };
    const events = [
      ...wire.observe(requestPacket(invite, T0)),
      ...wire.observe(responsePacket(invite, T0 + 1, 407, 'Proxy Authentication Required', [challengeHeader('ni').replace('WWW-', 'Proxy-')])),
      ...wire.observe(requestPacket(retry, T0 + 10)),
      ...wire.observe(responsePacket(retry, T0 + 11, 404, 'Not Found')),
    ];
    assert.deepEqual(kinds(events), ['call-start', 'call-end', 'dialplan-miss']);
    assert.equal(events[0]!.destination, '0097259123456');
    assert.deepEqual(events[1]!.call, { durationSec: 0, billSec: 0, disposition: 'failed' });
    assert.equal(events[1]!.account, '1001', 'the call is the account that authenticated its retry');
    assert.equal(events[2]!.destination, '0097259123456');
    assert.equal(events[2]!.account, '1001');
    assert.equal(events[2]!.evidence, 'verified');
  });

  it('an answered call ends at the BYE of either side, with its billable seconds; a cancelled one as cancelled', () => {
    const wire = analyzer();
    const invite: RequestSpec = { method: 'INVITE', user: '1001', target: '442079460000', ip: PHONE, callId: 'talk', seq: 1 };
    wire.observe(requestPacket(invite, T0));
    assert.deepEqual(kinds(wire.observe(responsePacket(invite, T0 + 5000, 200, 'OK'))), ['call-answer']);
    // The called side hangs up 95 s after the answer: the BYE comes from the server, to the phone.
    const bye = { ...requestPacket({ method: 'BYE', user: '1001', target: '442079460000', ip: PHONE, callId: 'talk', seq: 2 }, T0 + 100_000), srcIp: SERVER, dstIp: PHONE };
    const [end] = wire.observe(bye);
    assert.equal(end?.kind, 'call-end');
    assert.equal(end?.ip, PHONE);
    assert.equal(end?.destination, '442079460000');
    assert.deepEqual(end?.call, { durationSec: 100, billSec: 95, disposition: 'answered' });
    assert.deepEqual(kinds(wire.observe(bye)), [], 'a retransmitted BYE ends nothing twice');

    const ringing: RequestSpec = { method: 'INVITE', user: '1001', target: '4420', ip: PHONE, callId: 'gave-up', seq: 1 };
    wire.observe(requestPacket(ringing, T0));
    const [cancelled] = wire.observe(responsePacket(ringing, T0 + 20_000, 487, 'Request Terminated'));
    assert.deepEqual(cancelled?.call, { durationSec: 20, billSec: 0, disposition: 'cancel' });
  });

  it('404 to REGISTER is an unknown account; 403 without credentials an ACL denial, or an unknown account for REGISTER', () => {
    const wire = analyzer();
    const unknown: RequestSpec = { method: 'REGISTER', user: '555', ip: ATTACKER, callId: 'u1' };
    const denied: RequestSpec = { method: 'OPTIONS', user: 'scan', ip: ATTACKER, callId: 'u2' };
    wire.observe(requestPacket(unknown, T0));
    wire.observe(requestPacket(denied, T0));
    assert.deepEqual(kinds(wire.observe(responsePacket(unknown, T0 + 1, 404, 'Not Found'))), ['unknown-account']);
    assert.deepEqual(kinds(wire.observe(responsePacket(denied, T0 + 1, 403, 'Forbidden'))), ['acl-denied']);
    // A REGISTER refused outright (no challenge) counts toward enumeration like a 404.
    const refused: RequestSpec = { method: 'REGISTER', user: '556', ip: ATTACKER, callId: 'u3' };
    wire.observe(requestPacket(refused, T0));
    const [refusal] = wire.observe(responsePacket(refused, T0 + 1, 403, 'Forbidden'));
    assert.equal(refusal?.kind, 'unknown-account');
    assert.equal(refusal?.account, '556');
  });

  it('a response whose request was not captured is judged alone, against the address it is sent to', () => {
    const wire = analyzer();
    const spec: RequestSpec = { method: 'REGISTER', user: '777', ip: ATTACKER, callId: 'lonely' };
    const [event] = wire.observe(responsePacket(spec, T0, 404, 'Not Found'));
    assert.equal(event?.kind, 'unknown-account');
    assert.equal(event?.ip, ATTACKER);
    assert.equal(event?.account, '777');
    assert.equal(wire.stats.unpaired, 1);
  });

  it('TCP evidence is verified; UDP without a round trip is spoofable', () => {
    const wire = analyzer();
    const tcp: RequestSpec = { method: 'REGISTER', user: '9', ip: ATTACKER, callId: 't1', transport: 'TCP' };
    wire.observe(requestPacket(tcp, T0));
    assert.equal(wire.observe(responsePacket(tcp, T0 + 1, 404, 'Not Found'))[0]?.evidence, 'verified');
    const udp: RequestSpec = { ...tcp, callId: 't2', transport: 'UDP' };
    wire.observe(requestPacket(udp, T0));
    assert.equal(wire.observe(responsePacket(udp, T0 + 1, 404, 'Not Found'))[0]?.evidence, 'spoofable');
  });

  it('never blames a configured server: its own requests and the answers to it yield nothing', () => {
    const proxy = '192.0.2.53';
    const wire = analyzer({ servers: [proxy, '10.1.0.0/16'] });
    const forwarded: RequestSpec = { method: 'INVITE', user: '1001', target: '4420123', ip: proxy, callId: 'f1', userAgent: 'friendly-scanner' };
    assert.deepEqual(kinds(wire.observe(requestPacket(forwarded, T0))), []);
    assert.deepEqual(kinds(wire.observe(responsePacket(forwarded, T0 + 1, 404, 'Not Found'))), []);
    const inside: RequestSpec = { method: 'REGISTER', user: '1', ip: '10.1.2.3', callId: 'f2' };
    assert.deepEqual(kinds(wire.observe(responsePacket(inside, T0, 404, 'Not Found'))), []);
    assert.equal(wire.stats.fromServers, 3);
  });
});

describe('wire analyzer: scanners and floods', () => {
  it('reports a scanner once per cooldown, from its User-Agent or its shape', () => {
    const wire = analyzer();
    const options = parseSipMessage(SVMAP_OPTIONS)!;
    const packet = { at: T0, srcIp: ATTACKER, srcPort: 5060, dstIp: SERVER, dstPort: 5060, transport: 'udp' as const, message: options, raw: SVMAP_OPTIONS };
    const first = wire.observe(packet);
    assert.deepEqual(kinds(first), ['scanner']);
    assert.equal(first[0]!.pattern, 'wire-scanner-svmap');
    assert.equal(first[0]!.evidence, 'spoofable');
    assert.deepEqual(kinds(wire.observe({ ...packet, at: T0 + 5000 })), []);
    assert.deepEqual(kinds(wire.observe({ ...packet, at: T0 + 10_001 })), ['scanner']);
    const crack = parseSipMessage(SVCRACK_REGISTER.replace('friendly-scanner', 'Linphone/5.0'))!;
    const [event] = wire.observe({ ...packet, srcIp: '203.0.113.99', message: crack });
    assert.equal(event?.pattern, 'wire-scanner-svcrack');
    assert.doesNotMatch(event?.reason ?? '', /1234/, 'the guessed password stays out of the reason');
  });

  it('a source past the request rate in one second is one flood, then quiet until the cooldown ends', () => {
    const wire = analyzer({ floodRate: 20, cooldownMs: 5000 });
    const events: SecurityEvent[] = [];
    for (let i = 0; i < 100; i++) {
      events.push(...wire.observe(requestPacket({ method: 'OPTIONS', user: 'x', ip: ATTACKER, callId: `o${i}` }, T0 + i * 5)));
    }
    assert.deepEqual(kinds(events), ['flood']);
    assert.equal(events[0]!.ip, ATTACKER);
    // Another source at a normal rate is untouched.
    for (let i = 0; i < 10; i++) {
      assert.deepEqual(kinds(wire.observe(requestPacket({ method: 'OPTIONS', user: 'x', ip: PHONE, callId: `p${i}` }, T0 + i * 5))), []);
    }
    const later: SecurityEvent[] = [];
    for (let i = 0; i < 30; i++) later.push(...wire.observe(requestPacket({ method: 'OPTIONS', user: 'x', ip: ATTACKER, callId: `q${i}` }, T0 + 6000 + i)));
    assert.deepEqual(kinds(later), ['flood']);
  });

  it('bounds its tables: transactions, challenges and sources stay under their limits', () => {
    const wire = analyzer({ maxTransactions: 100, maxSources: 500 });
    for (let i = 0; i < 5000; i++) {
      const spec: RequestSpec = { method: 'REGISTER', user: String(i), ip: `198.18.${i >> 8}.${i & 255}`, callId: `b${i}` };
      wire.observe(requestPacket(spec, T0 + i));
      wire.observe(responsePacket(spec, T0 + i, 401, 'Unauthorized', [challengeHeader(`z${i}`)]));
    }
    assert.ok(wire.stats.transactions <= 100);
    assert.ok(wire.stats.challenges <= 100);
    assert.ok(wire.stats.sources <= 500);
  });

  it('frees idle sources, so a sweep of one-packet scanners does not pin memory', () => {
    const wire = analyzer({ maxSources: 1000 });
    for (let i = 0; i < 1000; i++) wire.observe(requestPacket({ method: 'OPTIONS', user: 'x', ip: `198.19.${i >> 8}.${i & 255}`, callId: `s${i}` }, T0));
    assert.equal(wire.stats.sources, 1000);
    // Five minutes later a new source arrives at a full table: the idle ones make room.
    wire.observe(requestPacket({ method: 'OPTIONS', user: 'x', ip: ATTACKER, callId: 'late' }, T0 + 300_000));
    assert.equal(wire.stats.sources, 1);
  });
});
